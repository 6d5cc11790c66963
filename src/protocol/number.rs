//! Decimal text for `f64` values. In the browser the engine's own `Number`/`String` conversions do the work, so
//! the module carries no float parsing or formatting tables; natively the standard library does, with the same
//! results for every JSON number (both are exact: correctly rounded parsing, shortest round-trip formatting).

/// Parses a JSON number's text (already validated by the JSON grammar).
pub fn parse_f64(text: &str) -> Option<f64> {
    #[cfg(target_arch = "wasm32")]
    {
        let n = js_sys::parse_float(text);
        (!n.is_nan()).then_some(n)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.parse().ok()
    }
}

/// Appends `value` as JSON: shortest round-trip digits, `null` when not finite, `0` for `-0` (like
/// `JSON.stringify`).
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    if !value.is_finite() {
        out.extend_from_slice(b"null");
    } else if value == 0.0 {
        out.push(b'0');
    } else if value.fract() == 0.0 && value.abs() < 9e15 {
        if value < 0.0 {
            out.push(b'-');
        }
        super::json::write::unsigned(out, value.abs() as u64);
    } else {
        write_fraction(out, value);
    }
}

#[cfg(target_arch = "wasm32")]
fn write_fraction(out: &mut Vec<u8>, value: f64) {
    let text = js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_default();
    out.extend_from_slice(text.as_bytes());
}

#[cfg(not(target_arch = "wasm32"))]
fn write_fraction(out: &mut Vec<u8>, value: f64) {
    use std::fmt::Write;
    let mut text = String::new();
    let _ = write!(text, "{value:?}");
    out.extend_from_slice(text.strip_suffix(".0").unwrap_or(&text).as_bytes());
}
