//! The MessagePack hub protocol: each message is `[VarInt length][MessagePack array]`.
//! Completions carry a ResultKind (1 error, 2 void, 3 result).

use super::message::{Headers, HubMessage, Outcome};
use rmpv::Value;

/// Encodes one message with its length prefix.
pub fn encode(msg: &HubMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    encode_into(msg, &mut out);
    out
}

/// Appends one length-prefixed message to `out`.
pub fn encode_into(msg: &HubMessage, out: &mut Vec<u8>) {
    let body = encode_body(msg);
    write_varint(body.len(), out);
    out.extend_from_slice(&body);
}

/// Writes the VarInt length prefix (7 bits per byte, least significant group first).
pub fn write_varint(mut len: usize, out: &mut Vec<u8>) {
    loop {
        let mut b = (len & 0x7f) as u8;
        len >>= 7;
        if len > 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
}

// Writing into a Vec<u8> cannot fail; the `let _ =` below only drops an impossible io error.
fn encode_body(msg: &HubMessage) -> Vec<u8> {
    use rmp::encode as e;
    let mut b = Vec::with_capacity(32);
    let w = &mut b;
    match msg {
        HubMessage::Invocation {
            headers,
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => {
            let _ = e::write_array_len(w, 6);
            let _ = e::write_uint(w, 1);
            write_headers(headers, w);
            match invocation_id {
                Some(id) => {
                    let _ = e::write_str(w, id);
                }
                None => {
                    let _ = e::write_nil(w);
                }
            }
            let _ = e::write_str(w, target);
            write_values(arguments, w);
            write_strings(stream_ids, w);
        }
        HubMessage::StreamInvocation {
            headers,
            invocation_id,
            target,
            arguments,
            stream_ids,
        } => {
            let _ = e::write_array_len(w, 6);
            let _ = e::write_uint(w, 4);
            write_headers(headers, w);
            let _ = e::write_str(w, invocation_id);
            let _ = e::write_str(w, target);
            write_values(arguments, w);
            write_strings(stream_ids, w);
        }
        HubMessage::StreamItem {
            headers,
            invocation_id,
            item,
        } => {
            let _ = e::write_array_len(w, 4);
            let _ = e::write_uint(w, 2);
            write_headers(headers, w);
            let _ = e::write_str(w, invocation_id);
            let _ = rmpv::encode::write_value(w, item);
        }
        HubMessage::Completion {
            headers,
            invocation_id,
            outcome,
        } => {
            let len = if matches!(outcome, Outcome::Void) {
                4
            } else {
                5
            };
            let _ = e::write_array_len(w, len);
            let _ = e::write_uint(w, 3);
            write_headers(headers, w);
            let _ = e::write_str(w, invocation_id);
            match outcome {
                Outcome::Error(err) => {
                    let _ = e::write_uint(w, 1);
                    let _ = e::write_str(w, err);
                }
                Outcome::Void => {
                    let _ = e::write_uint(w, 2);
                }
                Outcome::Result(v) => {
                    let _ = e::write_uint(w, 3);
                    let _ = rmpv::encode::write_value(w, v);
                }
            }
        }
        HubMessage::CancelInvocation {
            headers,
            invocation_id,
        } => {
            let _ = e::write_array_len(w, 3);
            let _ = e::write_uint(w, 5);
            write_headers(headers, w);
            let _ = e::write_str(w, invocation_id);
        }
        HubMessage::Ping => {
            let _ = e::write_array_len(w, 1);
            let _ = e::write_uint(w, 6);
        }
        HubMessage::Close {
            error,
            allow_reconnect,
        } => {
            let _ = e::write_array_len(w, 3);
            let _ = e::write_uint(w, 7);
            match error {
                Some(err) => {
                    let _ = e::write_str(w, err);
                }
                None => {
                    let _ = e::write_nil(w);
                }
            }
            let _ = e::write_bool(w, *allow_reconnect);
        }
        HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => {
            let _ = e::write_array_len(w, 2);
            let _ = e::write_uint(w, msg.type_id() as u64);
            let _ = e::write_uint(w, *sequence_id);
        }
    }
    b
}

fn write_headers(headers: &Headers, w: &mut Vec<u8>) {
    let _ = rmp::encode::write_map_len(w, headers.len() as u32);
    for (k, v) in headers {
        let _ = rmp::encode::write_str(w, k);
        let _ = rmp::encode::write_str(w, v);
    }
}

fn write_values(values: &[Value], w: &mut Vec<u8>) {
    let _ = rmp::encode::write_array_len(w, values.len() as u32);
    for v in values {
        let _ = rmpv::encode::write_value(w, v);
    }
}

fn write_strings(values: &[String], w: &mut Vec<u8>) {
    let _ = rmp::encode::write_array_len(w, values.len() as u32);
    for v in values {
        let _ = rmp::encode::write_str(w, v);
    }
}

/// Reads a VarInt length prefix: `Ok(None)` when more bytes are needed.
pub fn read_varint(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
    let mut len: u64 = 0;
    for i in 0..5 {
        let Some(&b) = buf.get(i) else {
            return Ok(None);
        };
        len |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            if len > 0x7fff_ffff {
                return Err("Messages over 2GB in size are not supported.".into());
            }
            return Ok(Some((len as usize, i + 1)));
        }
    }
    Err("Messages over 2GB in size are not supported.".into())
}

/// Decodes all complete messages at the front of `buf`.
pub fn decode(buf: &mut Vec<u8>) -> Result<Vec<HubMessage>, String> {
    let mut messages = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let Some((len, prefix)) = read_varint(&buf[start..])? else {
            break;
        };
        if buf.len() - start - prefix < len {
            break;
        }
        let body = &buf[start + prefix..start + prefix + len];
        messages.push(parse_body(body)?);
        start += prefix + len;
    }
    buf.drain(..start);
    Ok(messages)
}

/// Parses one message body (without its length prefix).
pub fn parse_body(body: &[u8]) -> Result<HubMessage, String> {
    let mut rd = body;
    let value =
        rmpv::decode::read_value(&mut rd).map_err(|e| format!("Invalid MessagePack: {e}"))?;
    let Value::Array(items) = value else {
        return Err("Unexpected message: expected a MessagePack array.".into());
    };
    let ty = items
        .first()
        .and_then(Value::as_u64)
        .ok_or("Reading 'messageType' as Int32 failed.")?;
    let need = |n: usize, name: &str| -> Result<(), String> {
        if items.len() < n {
            Err(format!("Invalid payload for {name} message."))
        } else {
            Ok(())
        }
    };
    let headers = |i: usize| -> Result<Headers, String> {
        match &items[i] {
            Value::Map(m) => {
                m.iter()
                    .map(|(k, v)| match (k.as_str(), v.as_str()) {
                        (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                        _ => Err("Reading 'headers' failed: expected string keys and values."
                            .to_string()),
                    })
                    .collect()
            }
            _ => Err("Reading map length for 'headers' failed.".into()),
        }
    };
    let string = |i: usize, name: &str| -> Result<String, String> {
        items[i]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("Reading '{name}' as String failed."))
    };
    let args = |i: usize| -> Result<Vec<Value>, String> {
        match &items[i] {
            Value::Array(a) => Ok(a.clone()),
            _ => Err("Reading array length for 'arguments' failed.".into()),
        }
    };
    let stream_ids = |i: usize| -> Result<Vec<String>, String> {
        match items.get(i) {
            None | Some(Value::Nil) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| "Reading 'streamId' as String failed.".to_string())
                })
                .collect(),
            Some(_) => Err("Reading array length for 'streamIds' failed.".into()),
        }
    };
    let seq = |i: usize| -> Result<u64, String> {
        items
            .get(i)
            .and_then(Value::as_u64)
            .ok_or_else(|| "Reading 'sequenceId' failed.".to_string())
    };
    Ok(match ty {
        1 => {
            need(5, "Invocation")?;
            HubMessage::Invocation {
                headers: headers(1)?,
                invocation_id: match &items[2] {
                    Value::Nil => None,
                    v => Some(
                        v.as_str()
                            .ok_or("Reading 'invocationId' as String failed.")?
                            .to_string(),
                    ),
                },
                target: string(3, "target")?,
                arguments: args(4)?,
                stream_ids: stream_ids(5)?,
            }
        }
        2 => {
            need(4, "StreamItem")?;
            HubMessage::StreamItem {
                headers: headers(1)?,
                invocation_id: string(2, "invocationId")?,
                item: items[3].clone(),
            }
        }
        3 => {
            need(4, "Completion")?;
            let kind = items[3].as_u64().ok_or("Reading 'resultKind' failed.")?;
            let outcome = match kind {
                1 => {
                    need(5, "Completion")?;
                    Outcome::Error(string(4, "error")?)
                }
                2 => Outcome::Void,
                3 => {
                    need(5, "Completion")?;
                    Outcome::Result(items[4].clone())
                }
                _ => return Err("Invalid invocation result kind.".into()),
            };
            HubMessage::Completion {
                headers: headers(1)?,
                invocation_id: string(2, "invocationId")?,
                outcome,
            }
        }
        4 => {
            need(5, "StreamInvocation")?;
            HubMessage::StreamInvocation {
                headers: headers(1)?,
                invocation_id: string(2, "invocationId")?,
                target: string(3, "target")?,
                arguments: args(4)?,
                stream_ids: stream_ids(5)?,
            }
        }
        5 => {
            need(3, "CancelInvocation")?;
            HubMessage::CancelInvocation {
                headers: headers(1)?,
                invocation_id: string(2, "invocationId")?,
            }
        }
        6 => HubMessage::Ping,
        7 => {
            need(2, "Close")?;
            HubMessage::Close {
                error: items[1].as_str().map(str::to_string),
                allow_reconnect: items.get(2).and_then(Value::as_bool).unwrap_or(false),
            }
        }
        8 => HubMessage::Ack {
            sequence_id: seq(1)?,
        },
        9 => HubMessage::Sequence {
            sequence_id: seq(1)?,
        },
        other => return Err(format!("Invalid message type: {other}.")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::message::v;
    use serde_json::json;

    fn round_trip(msg: HubMessage) {
        let mut buf = encode(&msg);
        let decoded = decode(&mut buf).unwrap();
        assert_eq!(decoded, vec![msg]);
        assert!(buf.is_empty());
    }

    #[test]
    fn all_nine_types_round_trip() {
        round_trip(HubMessage::Invocation {
            headers: vec![("k".into(), "v".into())],
            invocation_id: Some("1".into()),
            target: "Echo".into(),
            arguments: vec![
                v(json!({"a": [1, -5, 1.5, null, "x"]})),
                Value::Binary(vec![0, 1, 255]),
            ],
            stream_ids: vec!["s".into()],
        });
        round_trip(HubMessage::invocation("Note", vec![]));
        round_trip(HubMessage::StreamItem {
            headers: vec![],
            invocation_id: "2".into(),
            item: v(json!("i")),
        });
        round_trip(HubMessage::completion("3", Outcome::Void));
        round_trip(HubMessage::completion("3", Outcome::Result(v(json!(42)))));
        round_trip(HubMessage::completion("3", Outcome::Error("bad".into())));
        round_trip(HubMessage::StreamInvocation {
            headers: vec![],
            invocation_id: "4".into(),
            target: "Counter".into(),
            arguments: vec![v(json!(3)), v(json!(10))],
            stream_ids: vec![],
        });
        round_trip(HubMessage::CancelInvocation {
            headers: vec![],
            invocation_id: "4".into(),
        });
        round_trip(HubMessage::Ping);
        round_trip(HubMessage::Close {
            error: Some("x".into()),
            allow_reconnect: true,
        });
        round_trip(HubMessage::Close {
            error: None,
            allow_reconnect: false,
        });
        round_trip(HubMessage::Ack { sequence_id: 300 });
        round_trip(HubMessage::Sequence { sequence_id: 1 });
    }

    #[test]
    fn exact_bytes() {
        assert_eq!(encode(&HubMessage::Ping), vec![0x02, 0x91, 0x06]);
        // Void completion: [3, {}, "1", 2]
        assert_eq!(
            encode(&HubMessage::completion("1", Outcome::Void)),
            vec![0x06, 0x94, 0x03, 0x80, 0xa1, b'1', 0x02]
        );
    }

    #[test]
    fn varints() {
        for n in [0usize, 1, 127, 128, 300, 16_383, 16_384, 0x7fff_ffff] {
            let mut out = Vec::new();
            write_varint(n, &mut out);
            assert_eq!(read_varint(&out).unwrap(), Some((n, out.len())));
        }
        assert_eq!(
            read_varint(&[0xff, 0xff, 0xff, 0xff, 0x07]).unwrap(),
            Some((0x7fff_ffff, 5))
        );
        assert!(read_varint(&[0xff, 0xff, 0xff, 0xff, 0x08]).is_err());
        assert_eq!(read_varint(&[0x80]).unwrap(), None);
    }

    #[test]
    fn partial_frames_wait_and_garbage_fails() {
        let mut all = encode(&HubMessage::Ping);
        all.extend(encode(&HubMessage::Ack { sequence_id: 2 }));
        let mut partial = all[..all.len() - 1].to_vec();
        assert_eq!(decode(&mut partial).unwrap(), vec![HubMessage::Ping]);
        assert_eq!(partial.len(), 3);
        assert!(decode(&mut vec![0x01, 0xc1]).is_err());
        assert!(decode(&mut vec![0x02, 0x91, 0x63]).is_err());
        // Headers must be a map.
        assert!(decode(&mut vec![0x04, 0x93, 0x05, 0x01, 0xa0]).is_err());
    }
}
