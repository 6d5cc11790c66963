//! Converting payloads between MessagePack and JSON text, so the browser can hand every payload to its own
//! `JSON.parse` and `JSON.stringify` whatever the hub protocol.
//!
//! MessagePack values with no JSON equivalent are mapped: binary data becomes an array of byte values, a
//! timestamp extension becomes an ISO-8601 string, other extensions become `null`, non-finite floats `null`,
//! and non-string map keys their JSON text.

use std::fmt::Write as _;

use crate::protocol::json::cursor::{Cursor, MAX_DEPTH};
use crate::protocol::json::write as json_write;
use crate::protocol::msgpack::read::{Reader, Token};
use crate::protocol::msgpack::write as mp_write;
use crate::protocol::{number, ProtocolError};

enum Open {
    Array(usize),
    /// Entries left, and whether the next value is a key.
    Map(usize, bool),
}

/// Transcodes one MessagePack value to JSON text.
pub fn msgpack_to_json(bytes: &[u8]) -> Result<String, ProtocolError> {
    let mut r = Reader::new(bytes);
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len() * 2);
    let mut stack: Vec<Open> = Vec::new();
    loop {
        let is_key = matches!(stack.last(), Some(Open::Map(_, true)));
        let token = r.token()?;
        if is_key && matches!(token, Token::Array(_) | Token::Map(_)) {
            return Err(ProtocolError::WrongType("map key"));
        }
        let value_start = out.len();
        match token {
            Token::Nil => out.extend_from_slice(b"null"),
            Token::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Token::Uint(n) => json_write::unsigned(&mut out, n),
            Token::Int(n) => {
                if n < 0 {
                    out.push(b'-');
                }
                json_write::unsigned(&mut out, n.unsigned_abs());
            }
            Token::F32(f) => number::write_f64(&mut out, f as f64),
            Token::F64(f) => number::write_f64(&mut out, f),
            Token::Str(n) => json_write::string(&mut out, r.str_body(n)?),
            Token::Bin(n) => {
                out.push(b'[');
                for (i, b) in r.take(n)?.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_write::unsigned(&mut out, *b as u64);
                }
                out.push(b']');
            }
            Token::Ext(kind, n) => {
                let data = r.take(n)?;
                match (kind, timestamp(data)) {
                    (-1, Some((secs, nanos))) => {
                        out.push(b'"');
                        iso8601(&mut out, secs, nanos);
                        out.push(b'"');
                    }
                    _ => out.extend_from_slice(b"null"),
                }
            }
            Token::Array(n) | Token::Map(n) => {
                if stack.len() == MAX_DEPTH {
                    return Err(ProtocolError::TooDeep);
                }
                let is_map = matches!(token, Token::Map(_));
                out.push(if is_map { b'{' } else { b'[' });
                stack.push(if is_map { Open::Map(n, true) } else { Open::Array(n) });
            }
        }
        if is_key && out.get(value_start) != Some(&b'"') {
            // JSON keys are strings: quote the text of a scalar key.
            out.insert(value_start, b'"');
            out.push(b'"');
        }
        // Close finished containers and write the separator before the next value.
        loop {
            match stack.last_mut() {
                None => {
                    if !r.rest().is_empty() {
                        return Err(ProtocolError::Syntax(bytes.len() - r.rest().len()));
                    }
                    return String::from_utf8(out).map_err(|_| ProtocolError::InvalidUtf8);
                }
                Some(Open::Array(left)) | Some(Open::Map(left, false)) if *left == 0 => {
                    let close = if matches!(stack.pop(), Some(Open::Map(..))) { b'}' } else { b']' };
                    out.push(close);
                    continue;
                }
                Some(Open::Map(left, true)) if *left == 0 => {
                    stack.pop();
                    out.push(b'}');
                    continue;
                }
                Some(Open::Array(left)) => {
                    if last_is_value(&out) {
                        *left -= 1;
                        if *left == 0 {
                            continue;
                        }
                        out.push(b',');
                    }
                }
                Some(Open::Map(left, expecting_key)) => {
                    if last_is_value(&out) {
                        if *expecting_key {
                            out.push(b':');
                            *expecting_key = false;
                        } else {
                            *left -= 1;
                            *expecting_key = true;
                            if *left == 0 {
                                continue;
                            }
                            out.push(b',');
                        }
                    }
                }
            }
            break;
        }
    }
}

/// Whether the output ends with a complete value rather than an opening bracket.
fn last_is_value(out: &[u8]) -> bool {
    !matches!(out.last(), Some(b'[' | b'{'))
}

fn timestamp(data: &[u8]) -> Option<(i64, u32)> {
    let be = |b: &[u8]| b.iter().fold(0u64, |acc, &x| (acc << 8) | x as u64);
    match data.len() {
        4 => Some((be(data) as i64, 0)),
        8 => {
            let v = be(data);
            Some(((v & 0x3_ffff_ffff) as i64, (v >> 34) as u32))
        }
        12 => Some((be(&data[4..]) as i64, be(&data[..4]) as u32)),
        _ => None,
    }
}

fn iso8601(out: &mut Vec<u8>, secs: i64, nanos: u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut s = String::new();
    let _ = write!(
        s,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        nanos.min(999_999_999) / 1_000_000
    );
    out.extend_from_slice(s.as_bytes());
}

/// Transcodes one JSON value to MessagePack, with integers in their smallest encoding.
pub fn json_to_msgpack(text: &str) -> Result<Vec<u8>, ProtocolError> {
    let mut c = Cursor::new(text);
    let mut out = Vec::with_capacity(text.len());
    json_value(&mut c, &mut out, 0)?;
    c.finish()?;
    Ok(out)
}

fn json_value(c: &mut Cursor<'_>, out: &mut Vec<u8>, depth: usize) -> Result<(), ProtocolError> {
    match c.peek() {
        Some(b'[') | Some(b'{') if depth == MAX_DEPTH => Err(ProtocolError::TooDeep),
        Some(b'[') => {
            let start = out.len();
            let mut n = 0;
            c.array(|c| {
                n += 1;
                json_value(c, out, depth + 1)
            })?;
            let mut header = Vec::new();
            mp_write::array(&mut header, n);
            out.splice(start..start, header);
            Ok(())
        }
        Some(b'{') => {
            let start = out.len();
            let mut n = 0;
            c.object(|c, key| {
                n += 1;
                mp_write::string(out, &key);
                json_value(c, out, depth + 1)
            })?;
            let mut header = Vec::new();
            mp_write::map(&mut header, n);
            out.splice(start..start, header);
            Ok(())
        }
        Some(b'"') => {
            mp_write::string(out, &c.string()?);
            Ok(())
        }
        Some(b'-' | b'0'..=b'9') => {
            let text = c.number_text()?;
            if let Ok(n) = text.parse::<i64>() {
                mp_write::signed(out, n);
            } else if let Ok(n) = text.parse::<u64>() {
                mp_write::unsigned(out, n);
            } else {
                let f = number::parse_f64(text).ok_or(ProtocolError::Syntax(c.pos()))?;
                out.push(0xcb);
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Ok(())
        }
        _ => {
            match c.keyword()? {
                None => mp_write::nil(out),
                Some(b) => mp_write::boolean(out, b),
            }
            Ok(())
        }
    }
}
