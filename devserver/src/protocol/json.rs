//! The JSON hub protocol: UTF-8 JSON records, each ended by the record separator 0x1E.

use super::message::{from_json, Headers, HubMessage, Outcome};
use rmpv::Value;
use serde_json::Value as Json;

/// The record separator that ends every JSON record (and the handshake).
pub const RS: u8 = 0x1e;

/// Encodes one message with its trailing separator.
pub fn encode(msg: &HubMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    encode_into(msg, &mut out);
    out
}

/// Appends one message and its separator to `out`.
pub fn encode_into(msg: &HubMessage, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":");
    out.extend_from_slice(itoa_u8(msg.type_id()).as_bytes());
    match msg {
        HubMessage::Invocation {
            headers,
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => {
            write_headers(headers, out);
            if let Some(id) = invocation_id {
                out.extend_from_slice(b",\"invocationId\":");
                write_str(id, out);
            }
            write_invocation_body(target, arguments, stream_ids, out);
        }
        HubMessage::StreamInvocation {
            headers,
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => {
            write_headers(headers, out);
            out.extend_from_slice(b",\"invocationId\":");
            write_str(invocation_id, out);
            write_invocation_body(target, arguments, stream_ids, out);
        }
        HubMessage::StreamItem {
            headers,
            invocation_id,
            item,
        } => {
            write_headers(headers, out);
            out.extend_from_slice(b",\"invocationId\":");
            write_str(invocation_id, out);
            out.extend_from_slice(b",\"item\":");
            write_value(item, out);
        }
        HubMessage::Completion {
            headers,
            invocation_id,
            outcome,
        } => {
            write_headers(headers, out);
            out.extend_from_slice(b",\"invocationId\":");
            write_str(invocation_id, out);
            match outcome {
                Outcome::Void => {}
                Outcome::Result(v) => {
                    out.extend_from_slice(b",\"result\":");
                    write_value(v, out);
                }
                Outcome::Error(e) => {
                    out.extend_from_slice(b",\"error\":");
                    write_str(e, out);
                }
            }
        }
        HubMessage::CancelInvocation {
            headers,
            invocation_id,
        } => {
            write_headers(headers, out);
            out.extend_from_slice(b",\"invocationId\":");
            write_str(invocation_id, out);
        }
        HubMessage::Ping => {}
        HubMessage::Close {
            error,
            allow_reconnect,
        } => {
            if let Some(e) = error {
                out.extend_from_slice(b",\"error\":");
                write_str(e, out);
            }
            if *allow_reconnect {
                out.extend_from_slice(b",\"allowReconnect\":true");
            }
        }
        HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => {
            out.extend_from_slice(b",\"sequenceId\":");
            out.extend_from_slice(sequence_id.to_string().as_bytes());
        }
    }
    out.push(b'}');
    out.push(RS);
}

fn itoa_u8(n: u8) -> String {
    n.to_string()
}

fn write_invocation_body(
    target: &str,
    arguments: &[Value],
    stream_ids: &[String],
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b",\"target\":");
    write_str(target, out);
    out.extend_from_slice(b",\"arguments\":[");
    for (i, a) in arguments.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_value(a, out);
    }
    out.push(b']');
    if !stream_ids.is_empty() {
        out.extend_from_slice(b",\"streamIds\":[");
        for (i, s) in stream_ids.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(s, out);
        }
        out.push(b']');
    }
}

fn write_headers(headers: &Headers, out: &mut Vec<u8>) {
    if headers.is_empty() {
        return;
    }
    out.extend_from_slice(b",\"headers\":{");
    for (i, (k, v)) in headers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(k, out);
        out.push(b':');
        write_str(v, out);
    }
    out.push(b'}');
}

/// Writes a JSON string literal with escaping.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    // serde_json's string escaping cannot fail when writing into a Vec.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes a message value as JSON (binary as base64, extension types as null).
pub fn write_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::Integer(i) => {
            if let Some(u) = i.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                out.extend_from_slice(i.as_i64().unwrap_or(0).to_string().as_bytes());
            }
        }
        Value::F32(f) => write_f64(*f as f64, out),
        Value::F64(f) => write_f64(*f, out),
        Value::String(s) => match s.as_str() {
            Some(s) => write_str(s, out),
            None => write_str(&String::from_utf8_lossy(s.as_bytes()), out),
        },
        Value::Binary(b) => write_str(&crate::util::base64(b), out),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(x, out);
            }
            out.push(b']');
        }
        Value::Map(m) => {
            out.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match k {
                    Value::String(s) => match s.as_str() {
                        Some(s) => write_str(s, out),
                        None => write_str(&String::from_utf8_lossy(s.as_bytes()), out),
                    },
                    other => {
                        let mut key = Vec::new();
                        write_value(other, &mut key);
                        write_str(&String::from_utf8_lossy(&key), out);
                    }
                }
                out.push(b':');
                write_value(x, out);
            }
            out.push(b'}');
        }
        Value::Ext(_, _) => out.extend_from_slice(b"null"),
    }
}

fn write_f64(f: f64, out: &mut Vec<u8>) {
    match serde_json::Number::from_f64(f) {
        Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
}

/// Decodes all complete records at the front of `buf`.
pub fn decode(buf: &mut Vec<u8>) -> Result<Vec<HubMessage>, String> {
    let mut messages = Vec::new();
    let mut start = 0;
    while let Some(pos) = buf[start..].iter().position(|b| *b == RS) {
        let record = &buf[start..start + pos];
        messages.push(parse_record(record)?);
        start += pos + 1;
    }
    buf.drain(..start);
    Ok(messages)
}

/// Parses one record (without its separator).
pub fn parse_record(record: &[u8]) -> Result<HubMessage, String> {
    let json: Json =
        serde_json::from_slice(record).map_err(|e| format!("Error reading JSON: {e}"))?;
    let obj = json
        .as_object()
        .ok_or("Unexpected JSON Token Type. Expected a JSON Object.")?;
    let ty = obj
        .get("type")
        .ok_or("Missing required property 'type'.")?
        .as_u64()
        .ok_or("Expected 'type' to be of type Integer.")?;
    let headers = match obj.get("headers") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Object(h)) => h
            .iter()
            .map(|(k, v)| match v {
                Json::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("Expected header '{k}' to be of type String.")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("Expected 'headers' to be of type Object.".into()),
    };
    let opt_str = |name: &str| -> Result<Option<String>, String> {
        match obj.get(name) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("Expected '{name}' to be of type String.")),
        }
    };
    let req_str = |name: &str| -> Result<String, String> {
        opt_str(name)?.ok_or_else(|| format!("Missing required property '{name}'."))
    };
    let stream_ids = || -> Result<Vec<String>, String> {
        match obj.get("streamIds") {
            None | Some(Json::Null) => Ok(Vec::new()),
            Some(Json::Array(a)) => a
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| "Expected 'streamIds' to contain strings.".to_string())
                })
                .collect(),
            Some(_) => Err("Expected 'streamIds' to be of type Array.".into()),
        }
    };
    let arguments = || -> Result<Vec<Value>, String> {
        match obj.get("arguments") {
            Some(Json::Array(a)) => Ok(a.iter().cloned().map(from_json).collect()),
            Some(_) => Err("Expected 'arguments' to be of type Array.".into()),
            None => Err("Missing required property 'arguments'.".into()),
        }
    };
    let seq = || -> Result<u64, String> {
        obj.get("sequenceId")
            .ok_or("Missing required property 'sequenceId'.")?
            .as_u64()
            .ok_or_else(|| "Expected 'sequenceId' to be of type Integer.".to_string())
    };
    Ok(match ty {
        1 => HubMessage::Invocation {
            headers,
            invocation_id: opt_str("invocationId")?,
            target: req_str("target")?,
            arguments: arguments()?,
            stream_ids: stream_ids()?,
        },
        2 => HubMessage::StreamItem {
            headers,
            invocation_id: req_str("invocationId")?,
            item: obj
                .get("item")
                .cloned()
                .map(from_json)
                .ok_or("Missing required property 'item'.")?,
        },
        3 => {
            let invocation_id = req_str("invocationId")?;
            let outcome = match (obj.get("result"), obj.get("error")) {
                (Some(_), Some(e)) if !e.is_null() => {
                    return Err(
                        "The 'error' and 'result' properties are mutually exclusive.".into(),
                    )
                }
                (Some(r), _) => Outcome::Result(from_json(r.clone())),
                (None, Some(Json::String(e))) => Outcome::Error(e.clone()),
                (None, Some(Json::Null)) | (None, None) => Outcome::Void,
                (None, Some(_)) => return Err("Expected 'error' to be of type String.".into()),
            };
            HubMessage::Completion {
                headers,
                invocation_id,
                outcome,
            }
        }
        4 => HubMessage::StreamInvocation {
            headers,
            invocation_id: req_str("invocationId")?,
            target: req_str("target")?,
            arguments: arguments()?,
            stream_ids: stream_ids()?,
        },
        5 => HubMessage::CancelInvocation {
            headers,
            invocation_id: req_str("invocationId")?,
        },
        6 => HubMessage::Ping,
        7 => HubMessage::Close {
            error: opt_str("error")?,
            allow_reconnect: obj
                .get("allowReconnect")
                .and_then(Json::as_bool)
                .unwrap_or(false),
        },
        8 => HubMessage::Ack {
            sequence_id: seq()?,
        },
        9 => HubMessage::Sequence {
            sequence_id: seq()?,
        },
        other => return Err(format!("Unknown message type '{other}'.")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::v;
    use serde_json::json;

    fn round_trip(msg: HubMessage) {
        let mut buf = encode(&msg);
        assert_eq!(*buf.last().unwrap(), RS);
        let decoded = decode(&mut buf).unwrap();
        assert_eq!(decoded, vec![msg]);
        assert!(buf.is_empty());
    }

    #[test]
    fn all_nine_types_round_trip() {
        let headers = vec![("a".to_string(), "b".to_string())];
        round_trip(HubMessage::Invocation {
            headers: headers.clone(),
            invocation_id: Some("1".into()),
            target: "Echo".into(),
            arguments: vec![v(json!({"x": [1, -2, 2.5, "s", null, true]}))],
            stream_ids: vec!["7".into()],
        });
        round_trip(HubMessage::invocation("Note", vec![v(json!("hi"))]));
        round_trip(HubMessage::StreamItem {
            headers: vec![],
            invocation_id: "2".into(),
            item: v(json!(3)),
        });
        round_trip(HubMessage::completion("3", Outcome::Void));
        round_trip(HubMessage::completion("3", Outcome::Result(Value::Nil)));
        round_trip(HubMessage::completion("3", Outcome::Error("boom".into())));
        round_trip(HubMessage::StreamInvocation {
            headers,
            invocation_id: "4".into(),
            target: "Counter".into(),
            arguments: vec![v(json!(5))],
            stream_ids: vec![],
        });
        round_trip(HubMessage::CancelInvocation {
            headers: vec![],
            invocation_id: "4".into(),
        });
        round_trip(HubMessage::Ping);
        round_trip(HubMessage::Close {
            error: None,
            allow_reconnect: false,
        });
        round_trip(HubMessage::Close {
            error: Some("bye".into()),
            allow_reconnect: true,
        });
        round_trip(HubMessage::Ack { sequence_id: 12 });
        round_trip(HubMessage::Sequence { sequence_id: 1 });
    }

    #[test]
    fn exact_wire_shapes() {
        assert_eq!(encode(&HubMessage::Ping), b"{\"type\":6}\x1e");
        assert_eq!(
            encode(&HubMessage::invocation("T", vec![v(json!(1))])),
            b"{\"type\":1,\"target\":\"T\",\"arguments\":[1]}\x1e"
        );
        assert_eq!(
            encode(&HubMessage::Close {
                error: Some("e".into()),
                allow_reconnect: true
            }),
            b"{\"type\":7,\"error\":\"e\",\"allowReconnect\":true}\x1e"
        );
    }

    #[test]
    fn partial_and_multiple_records() {
        let mut buf = b"{\"type\":6}\x1e{\"type\":6}\x1e{\"type\":".to_vec();
        let msgs = decode(&mut buf).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(buf, b"{\"type\":");
    }

    #[test]
    fn rejects_bad_records() {
        for bad in [
            &b"nope\x1e"[..],
            b"[1]\x1e",
            b"{}\x1e",
            b"{\"type\":1,\"arguments\":[]}\x1e",
            b"{\"type\":3,\"invocationId\":\"1\",\"result\":1,\"error\":\"x\"}\x1e",
            b"{\"type\":99}\x1e",
        ] {
            assert!(
                decode(&mut bad.to_vec()).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Unknown fields are ignored.
        let mut ok = b"{\"type\":6,\"extra\":{\"deep\":[1]}}\x1e".to_vec();
        assert_eq!(decode(&mut ok).unwrap(), vec![HubMessage::Ping]);
    }
}
