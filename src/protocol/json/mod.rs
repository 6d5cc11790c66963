//! The JSON hub protocol: each message is a JSON object followed by the record separator `0x1E`.

pub(crate) mod cursor;
mod swar;
pub(crate) mod write;

use std::borrow::Cow;

use cursor::Cursor;

use crate::protocol::message::*;
use crate::protocol::ProtocolError;

/// The byte that ends every JSON record.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// Splits one transport message into records, each without its separator.
///
/// Yields `Err(MissingSeparator)` for trailing bytes that are not terminated: a record never spans two
/// transport messages.
pub fn records(input: &[u8]) -> impl Iterator<Item = Result<&[u8], ProtocolError>> {
    let mut rest = input;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match swar::find(rest, RECORD_SEPARATOR) {
            Some(end) => {
                let (record, tail) = rest.split_at_checked(end)?;
                rest = tail.get(1..).unwrap_or_default();
                Some(Ok(record))
            }
            None => {
                rest = &[];
                Some(Err(ProtocolError::MissingSeparator))
            }
        }
    })
}

#[derive(Default)]
struct Fields<'a> {
    kind: Option<u64>,
    invocation_id: Option<Cow<'a, str>>,
    target: Option<Cow<'a, str>>,
    arguments: Option<&'a str>,
    stream_ids: Vec<Cow<'a, str>>,
    item: Option<&'a str>,
    result: Option<&'a str>,
    error: Option<Cow<'a, str>>,
    allow_reconnect: bool,
    sequence_id: Option<u64>,
    headers: Vec<Header<'a>>,
}

/// Decodes one record (without its separator).
pub fn decode(record: &[u8]) -> Result<HubMessage<'_>, ProtocolError> {
    let text = core::str::from_utf8(record).map_err(|_| ProtocolError::InvalidUtf8)?;
    let mut c = Cursor::new(text);
    let mut f = Fields::default();
    c.object(|c, key| {
        match key.as_ref() {
            "type" => f.kind = Some(c.unsigned("type")?),
            "invocationId" => f.invocation_id = optional_string(c, "invocationId")?,
            "target" => f.target = Some(string(c, "target")?),
            "arguments" => {
                if c.peek() != Some(b'[') {
                    return Err(ProtocolError::WrongType("arguments"));
                }
                f.arguments = Some(c.container()?);
            }
            "streamIds" => {
                if !c.null()? {
                    c.array(|c| {
                        f.stream_ids.push(string(c, "streamIds")?);
                        Ok(())
                    })?;
                }
            }
            "item" => f.item = Some(c.value()?),
            "result" => f.result = Some(c.value()?),
            "error" => f.error = optional_string(c, "error")?,
            "allowReconnect" => f.allow_reconnect = !c.null()? && c.boolean("allowReconnect")?,
            "sequenceId" => f.sequence_id = Some(c.unsigned("sequenceId")?),
            "headers" => {
                if !c.null()? {
                    c.object(|c, key| {
                        f.headers.push((key, string(c, "headers")?));
                        Ok(())
                    })?;
                }
            }
            _ => {
                c.value()?;
            }
        }
        Ok(())
    })?;
    c.finish()?;
    build(f)
}

fn string<'a>(c: &mut Cursor<'a>, field: &'static str) -> Result<Cow<'a, str>, ProtocolError> {
    if c.peek() != Some(b'"') {
        return Err(ProtocolError::WrongType(field));
    }
    c.string()
}

fn optional_string<'a>(c: &mut Cursor<'a>, field: &'static str) -> Result<Option<Cow<'a, str>>, ProtocolError> {
    if c.null()? {
        Ok(None)
    } else {
        string(c, field).map(Some)
    }
}

fn raw(s: &str) -> Raw<'_> {
    Raw(s.as_bytes())
}

fn id(id: Option<Cow<'_, str>>) -> Result<Cow<'_, str>, ProtocolError> {
    id.ok_or(ProtocolError::MissingField("invocationId"))
}

fn build(f: Fields<'_>) -> Result<HubMessage<'_>, ProtocolError> {
    let kind = f.kind.ok_or(ProtocolError::MissingField("type"))?;
    Ok(match kind {
        1 | 4 => {
            let invocation = Invocation {
                headers: f.headers,
                invocation_id: f.invocation_id,
                target: f.target.ok_or(ProtocolError::MissingField("target"))?,
                arguments: raw(f.arguments.ok_or(ProtocolError::MissingField("arguments"))?),
                stream_ids: f.stream_ids,
            };
            if kind == 1 {
                HubMessage::Invocation(invocation)
            } else {
                if invocation.invocation_id.is_none() {
                    return Err(ProtocolError::MissingField("invocationId"));
                }
                HubMessage::StreamInvocation(invocation)
            }
        }
        2 => HubMessage::StreamItem(StreamItem {
            headers: f.headers,
            invocation_id: id(f.invocation_id)?,
            item: raw(f.item.ok_or(ProtocolError::MissingField("item"))?),
        }),
        3 => {
            let outcome = match (f.result, f.error) {
                (Some(_), Some(_)) => return Err(ProtocolError::ResultAndError),
                (Some(result), None) => Outcome::Result(raw(result)),
                (None, Some(error)) => Outcome::Error(error),
                (None, None) => Outcome::Void,
            };
            HubMessage::Completion(Completion { headers: f.headers, invocation_id: id(f.invocation_id)?, outcome })
        }
        5 => HubMessage::CancelInvocation(CancelInvocation { headers: f.headers, invocation_id: id(f.invocation_id)? }),
        6 => HubMessage::Ping,
        7 => HubMessage::Close(Close { error: f.error, allow_reconnect: f.allow_reconnect }),
        8 => HubMessage::Ack(f.sequence_id.ok_or(ProtocolError::MissingField("sequenceId"))?),
        9 => HubMessage::Sequence(f.sequence_id.ok_or(ProtocolError::MissingField("sequenceId"))?),
        other => return Err(ProtocolError::UnknownMessageType(other.min(i64::MAX as u64) as i64)),
    })
}

/// Appends `message` and its separator to `out`. Payloads must be JSON text.
pub fn encode(message: &HubMessage<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":");
    write::unsigned(out, message.type_id() as u64);
    let field = |out: &mut Vec<u8>, name: &str| {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    };
    let headers = |out: &mut Vec<u8>, headers: &[Header<'_>]| {
        if headers.is_empty() {
            return;
        }
        field(out, "headers");
        out.push(b'{');
        for (i, (k, v)) in headers.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write::string(out, k);
            out.push(b':');
            write::string(out, v);
        }
        out.push(b'}');
    };
    match message {
        HubMessage::Invocation(m) | HubMessage::StreamInvocation(m) => {
            headers(out, &m.headers);
            if let Some(id) = &m.invocation_id {
                field(out, "invocationId");
                write::string(out, id);
            }
            field(out, "target");
            write::string(out, &m.target);
            field(out, "arguments");
            out.extend_from_slice(m.arguments.0);
            if !m.stream_ids.is_empty() {
                field(out, "streamIds");
                out.push(b'[');
                for (i, id) in m.stream_ids.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write::string(out, id);
                }
                out.push(b']');
            }
        }
        HubMessage::StreamItem(m) => {
            headers(out, &m.headers);
            field(out, "invocationId");
            write::string(out, &m.invocation_id);
            field(out, "item");
            out.extend_from_slice(m.item.0);
        }
        HubMessage::Completion(m) => {
            headers(out, &m.headers);
            field(out, "invocationId");
            write::string(out, &m.invocation_id);
            match &m.outcome {
                Outcome::Void => {}
                Outcome::Result(r) => {
                    field(out, "result");
                    out.extend_from_slice(r.0);
                }
                Outcome::Error(e) => {
                    field(out, "error");
                    write::string(out, e);
                }
            }
        }
        HubMessage::CancelInvocation(m) => {
            headers(out, &m.headers);
            field(out, "invocationId");
            write::string(out, &m.invocation_id);
        }
        HubMessage::Ping => {}
        HubMessage::Close(m) => {
            if let Some(e) = &m.error {
                field(out, "error");
                write::string(out, e);
            }
            if m.allow_reconnect {
                field(out, "allowReconnect");
                out.extend_from_slice(b"true");
            }
        }
        HubMessage::Ack(id) | HubMessage::Sequence(id) => {
            field(out, "sequenceId");
            write::unsigned(out, *id);
        }
    }
    out.push(b'}');
    out.push(RECORD_SEPARATOR);
}

/// Appends `s` as a quoted, escaped JSON string.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    write::string(out, s)
}

/// Checks that `text` is exactly one JSON value and returns it trimmed.
pub fn validate_value(text: &str) -> Result<&str, ProtocolError> {
    let mut c = Cursor::new(text);
    let value = c.value()?;
    c.finish()?;
    Ok(value)
}
