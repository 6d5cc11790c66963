//! The MessagePack hub protocol: each message is a VarInt length followed by a MessagePack array.

pub(crate) mod read;
pub mod varint;
pub(crate) mod write;

use std::borrow::Cow;

use read::{Reader, Token};

use crate::protocol::message::*;
use crate::protocol::ProtocolError;

/// Splits one transport message into record bodies.
///
/// A bad or truncated length prefix ends the iteration with an error: nothing after it can be found.
pub fn records(input: &[u8]) -> impl Iterator<Item = Result<&[u8], ProtocolError>> {
    let mut rest = input;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let result = match varint::read(rest) {
            Ok(Some((len, prefix))) => match rest.get(prefix..prefix + len as usize) {
                Some(body) => {
                    rest = &rest[prefix + len as usize..];
                    return Some(Ok(body));
                }
                None => Err(ProtocolError::Truncated),
            },
            Ok(None) => Err(ProtocolError::Truncated),
            Err(e) => Err(e),
        };
        rest = &[];
        Some(result)
    })
}

/// Decodes one record body (without its length prefix).
pub fn decode(body: &[u8]) -> Result<HubMessage<'_>, ProtocolError> {
    let mut r = Reader::new(body);
    let len = r.array("message")?;
    if len == 0 {
        return Err(ProtocolError::MissingField("type"));
    }
    let kind = r.integer("type")?;
    // The shortest array each type allows; later fields are optional and extra ones are ignored.
    let needed = match kind {
        1 | 4 => 5,
        2 | 3 => 4,
        5 => 3,
        7..=9 => 2,
        6 => 1,
        other => return Err(ProtocolError::UnknownMessageType(other)),
    };
    if len < needed {
        return Err(ProtocolError::MissingField("message fields"));
    }
    let mut read = 1;
    let message = match kind {
        1 | 4 => {
            let headers = headers(&mut r)?;
            let invocation_id = r.optional_string("invocationId")?;
            let target = r.string("target")?;
            let arguments = {
                let bytes = r.rest();
                let mut probe = Reader::new(bytes);
                probe.array("arguments")?;
                Raw(r.value()?)
            };
            read += 4;
            let mut stream_ids = Vec::new();
            if len > read {
                read += 1;
                if let Token::Array(n) = r.token()? {
                    for _ in 0..n {
                        stream_ids.push(r.string("streamIds")?);
                    }
                } else {
                    return Err(ProtocolError::WrongType("streamIds"));
                }
            }
            let invocation = Invocation { headers, invocation_id, target, arguments, stream_ids };
            if kind == 1 {
                HubMessage::Invocation(invocation)
            } else {
                if invocation.invocation_id.is_none() {
                    return Err(ProtocolError::MissingField("invocationId"));
                }
                HubMessage::StreamInvocation(invocation)
            }
        }
        2 => {
            let headers = headers(&mut r)?;
            let invocation_id = r.string("invocationId")?;
            read += 3;
            HubMessage::StreamItem(StreamItem { headers, invocation_id, item: Raw(r.value()?) })
        }
        3 => {
            let headers = headers(&mut r)?;
            let invocation_id = r.string("invocationId")?;
            let result_kind = r.integer("resultKind")?;
            read += 3;
            let outcome = match result_kind {
                1 if len > read => {
                    read += 1;
                    Outcome::Error(r.string("error")?)
                }
                2 => Outcome::Void,
                3 if len > read => {
                    read += 1;
                    Outcome::Result(Raw(r.value()?))
                }
                _ => return Err(ProtocolError::WrongType("resultKind")),
            };
            HubMessage::Completion(Completion { headers, invocation_id, outcome })
        }
        5 => {
            let headers = headers(&mut r)?;
            read += 2;
            HubMessage::CancelInvocation(CancelInvocation { headers, invocation_id: r.string("invocationId")? })
        }
        6 => HubMessage::Ping,
        7 => {
            let error = r.optional_string("error")?;
            read += 1;
            let allow_reconnect = if len > read {
                read += 1;
                r.boolean("allowReconnect")?
            } else {
                false
            };
            HubMessage::Close(Close { error, allow_reconnect })
        }
        _ => {
            let id = r.unsigned("sequenceId")?;
            read += 1;
            if kind == 8 {
                HubMessage::Ack(id)
            } else {
                HubMessage::Sequence(id)
            }
        }
    };
    for _ in read..len {
        r.value()?;
    }
    if !r.rest().is_empty() {
        return Err(ProtocolError::Syntax(body.len() - r.rest().len()));
    }
    Ok(message)
}

fn headers<'a>(r: &mut Reader<'a>) -> Result<Vec<Header<'a>>, ProtocolError> {
    let n = match r.token()? {
        Token::Map(n) => n,
        _ => return Err(ProtocolError::WrongType("headers")),
    };
    let mut headers = Vec::new();
    for _ in 0..n {
        let key: Cow<'a, str> = r.string("headers")?;
        headers.push((key, r.string("headers")?));
    }
    Ok(headers)
}

/// Appends `message` with its length prefix to `out`. Payloads must be MessagePack; `arguments` an array.
pub fn encode(message: &HubMessage<'_>, out: &mut Vec<u8>) {
    let mut body = Vec::new();
    encode_body(message, &mut body);
    varint::write(out, body.len() as u32);
    out.extend_from_slice(&body);
}

fn encode_body(message: &HubMessage<'_>, out: &mut Vec<u8>) {
    let kind = message.type_id() as u64;
    let headers = |out: &mut Vec<u8>, headers: &[Header<'_>]| {
        write::map(out, headers.len());
        for (k, v) in headers {
            write::string(out, k);
            write::string(out, v);
        }
    };
    match message {
        HubMessage::Invocation(m) | HubMessage::StreamInvocation(m) => {
            write::array(out, 6);
            write::unsigned(out, kind);
            headers(out, &m.headers);
            match &m.invocation_id {
                Some(id) => write::string(out, id),
                None => write::nil(out),
            }
            write::string(out, &m.target);
            out.extend_from_slice(m.arguments.0);
            write::array(out, m.stream_ids.len());
            for id in &m.stream_ids {
                write::string(out, id);
            }
        }
        HubMessage::StreamItem(m) => {
            write::array(out, 4);
            write::unsigned(out, kind);
            headers(out, &m.headers);
            write::string(out, &m.invocation_id);
            out.extend_from_slice(m.item.0);
        }
        HubMessage::Completion(m) => {
            let has_value = !matches!(m.outcome, Outcome::Void);
            write::array(out, if has_value { 5 } else { 4 });
            write::unsigned(out, kind);
            headers(out, &m.headers);
            write::string(out, &m.invocation_id);
            match &m.outcome {
                Outcome::Error(e) => {
                    write::unsigned(out, 1);
                    write::string(out, e);
                }
                Outcome::Void => write::unsigned(out, 2),
                Outcome::Result(r) => {
                    write::unsigned(out, 3);
                    out.extend_from_slice(r.0);
                }
            }
        }
        HubMessage::CancelInvocation(m) => {
            write::array(out, 3);
            write::unsigned(out, kind);
            headers(out, &m.headers);
            write::string(out, &m.invocation_id);
        }
        HubMessage::Ping => {
            write::array(out, 1);
            write::unsigned(out, kind);
        }
        HubMessage::Close(m) => {
            write::array(out, if m.allow_reconnect { 3 } else { 2 });
            write::unsigned(out, kind);
            match &m.error {
                Some(e) => write::string(out, e),
                None => write::nil(out),
            }
            if m.allow_reconnect {
                write::boolean(out, true);
            }
        }
        HubMessage::Ack(id) | HubMessage::Sequence(id) => {
            write::array(out, 2);
            write::unsigned(out, kind);
            write::unsigned(out, *id);
        }
    }
}
