//! Decimal text for `f64` values. Short numbers (most of what a progress event carries) are converted here
//! exactly; the rest goes to the browser's own `Number`/`String` conversions, so the module carries no float
//! parsing or formatting tables. Natively the standard library takes the rest. Every path is exact: correctly
//! rounded parsing, round-trip formatting.

/// 10^0 ..= 10^22: every power of ten a double holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// Parses a JSON number's text (already validated by the JSON grammar).
pub fn parse_f64(text: &str) -> Option<f64> {
    fast_parse(text).or_else(|| slow_parse(text))
}

/// Clinger's fast path: a mantissa below 2^53 scaled by at most 10^22 is one exact operation, so one rounding.
fn fast_parse(text: &str) -> Option<f64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let (mut mantissa, mut scale, mut seen_point, mut count) = (0u64, 0i32, false, 0);
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
                if count > 15 {
                    return None;
                }
                if seen_point {
                    scale += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if count == 0 {
        return None;
    }
    let value = mantissa as f64 / *POW10.get(scale as usize)?;
    Some(if negative { -value } else { value })
}

#[cfg(target_arch = "wasm32")]
fn slow_parse(text: &str) -> Option<f64> {
    let n = js_sys::parse_float(text);
    (!n.is_nan()).then_some(n)
}

#[cfg(not(target_arch = "wasm32"))]
fn slow_parse(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// Appends `value` as JSON: digits that read back as the same double, `null` when not finite, `0` for `-0`
/// (like `JSON.stringify`).
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if value == 0.0 {
        out.push(b'0');
        return;
    }
    if value < 0.0 {
        out.push(b'-');
    }
    let magnitude = value.abs();
    // The fewest decimals (up to 6) that read back exactly, when the digits fit a double's integer range.
    for (decimals, scale) in POW10.iter().take(7).enumerate() {
        let scaled = magnitude * scale;
        if scaled < 9e15 && scaled.fract() == 0.0 && scaled / scale == magnitude {
            let digits = scaled as u64;
            let start = out.len();
            super::json::write::unsigned(out, digits);
            if decimals > 0 {
                let len = out.len() - start;
                if len <= decimals {
                    let zeros = decimals + 1 - len;
                    out.splice(start..start, core::iter::repeat_n(b'0', zeros));
                }
                out.insert(out.len() - decimals, b'.');
            }
            return;
        }
    }
    slow_write(out, magnitude);
}

#[cfg(target_arch = "wasm32")]
fn slow_write(out: &mut Vec<u8>, value: f64) {
    let text = js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_default();
    out.extend_from_slice(text.as_bytes());
}

#[cfg(not(target_arch = "wasm32"))]
fn slow_write(out: &mut Vec<u8>, value: f64) {
    use std::fmt::Write;
    let mut text = String::new();
    let _ = write!(text, "{value:?}");
    out.extend_from_slice(text.strip_suffix(".0").unwrap_or(&text).as_bytes());
}
