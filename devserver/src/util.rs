//! Small helpers with no better home: clocks and timestamps, ids, masking secrets,
//! query strings and base64. Kept dependency-free on purpose.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Formats Unix milliseconds as an ISO-8601 UTC timestamp, e.g. `2025-01-02T03:04:05.678Z`.
pub fn iso8601(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let millis = unix_ms % 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// The current time as ISO-8601.
pub fn now_iso() -> String {
    iso8601(now_unix_ms())
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i64 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

static RNG_STATE: AtomicU64 = AtomicU64::new(0);

/// A fast non-cryptographic random number (splitmix64 over a global counter seeded from the clock).
/// Good enough for ids in a development server; never use it for real secrets.
pub fn random_u64() -> u64 {
    let mut seed = RNG_STATE.load(Ordering::Relaxed);
    if seed == 0 {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x1234_5678)
            ^ (std::process::id() as u64) << 32;
        let _ = RNG_STATE.compare_exchange(0, t | 1, Ordering::Relaxed, Ordering::Relaxed);
        seed = RNG_STATE.load(Ordering::Relaxed);
    }
    let mut z = RNG_STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        ^ seed.rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random URL-safe token of `len` characters.
pub fn random_token(len: usize) -> String {
    let mut s = String::with_capacity(len);
    let mut bits = 0u64;
    let mut left = 0;
    for _ in 0..len {
        if left == 0 {
            bits = random_u64();
            left = 10;
        }
        s.push(URL_SAFE[(bits & 63) as usize] as char);
        bits >>= 6;
        left -= 1;
    }
    s
}

/// A GUID-shaped identifier whose last hex digit carries `counter`'s parity.
pub fn guid_with_counter(counter: u64) -> String {
    let a = random_u64();
    let b = random_u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:04x}{:08x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a & 0xfff) as u16,
        8 + (b >> 62),
        (b >> 48) & 0xfff,
        (b >> 16) as u16,
        counter as u32
    )
}

/// Masks a secret for logs and counters: `condt_ab…yz`. Never reveals more than 10 characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 6 {
        return "…".to_string();
    }
    if chars.len() <= 12 {
        let head: String = chars[..3].iter().collect();
        return format!("{head}…");
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

/// Decodes `%XX` escapes and `+` (as space) in a query component.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a query string into a map (first value wins).
pub fn parse_query(q: Option<&str>) -> HashMap<String, String> {
    let mut map = HashMap::new();
    if let Some(q) = q {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(percent_decode(k))
                .or_insert_with(|| percent_decode(v));
        }
    }
    map
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(STD[(n >> 18) as usize & 63] as char);
        out.push(STD[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            STD[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            STD[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// 64-bit FNV-1a, used to derive stable colours from prompts.
pub fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Process start, for monotonic millisecond stamps.
pub fn monotonic_ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_735_787_045_678), "2025-01-02T03:04:05.678Z");
    }

    #[test]
    fn masks_never_leak() {
        assert_eq!(mask("condt_abcdefghyz"), "condt_ab…yz");
        assert_eq!(mask("short"), "…");
        assert_eq!(mask("condt_abcd"), "con…");
    }

    #[test]
    fn query_and_base64() {
        let q = parse_query(Some("a=1&b=x%20y+z&a=2&flag"));
        assert_eq!(q["a"], "1");
        assert_eq!(q["b"], "x y z");
        assert_eq!(q["flag"], "");
        assert_eq!(percent_decode("%E2%80%A6%"), "…%");
        assert_eq!(base64(b"hello!?"), "aGVsbG8hPw==");
    }

    #[test]
    fn guid_parity() {
        for c in 0..10u64 {
            let g = guid_with_counter(c);
            assert_eq!(g.len(), 36);
            let last = g.chars().last().unwrap().to_digit(16).unwrap() as u64;
            assert_eq!(last % 2, c % 2);
        }
        assert_ne!(random_token(16), random_token(16));
    }
}
