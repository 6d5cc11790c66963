//! The nine hub message types, shared by both codecs.

use rmpv::Value;

/// Message headers (string to string); order kept as received.
pub type Headers = Vec<(String, String)>;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Completed without a value.
    Void,
    /// Completed with a value.
    Result(Value),
    /// Failed with an error message.
    Error(String),
}

/// One SignalR hub message. Arguments and items are MessagePack values: a superset of JSON,
/// so binary payloads survive a MessagePack round trip.
#[derive(Debug, Clone, PartialEq)]
pub enum HubMessage {
    Invocation {
        headers: Headers,
        invocation_id: Option<String>,
        target: String,
        arguments: Vec<Value>,
        stream_ids: Vec<String>,
    },
    StreamItem {
        headers: Headers,
        invocation_id: String,
        item: Value,
    },
    Completion {
        headers: Headers,
        invocation_id: String,
        outcome: Outcome,
    },
    StreamInvocation {
        headers: Headers,
        invocation_id: String,
        target: String,
        arguments: Vec<Value>,
        stream_ids: Vec<String>,
    },
    CancelInvocation {
        headers: Headers,
        invocation_id: String,
    },
    Ping,
    Close {
        error: Option<String>,
        allow_reconnect: bool,
    },
    Ack {
        sequence_id: u64,
    },
    Sequence {
        sequence_id: u64,
    },
}

impl HubMessage {
    /// The numeric message type.
    pub fn type_id(&self) -> u8 {
        match self {
            HubMessage::Invocation { .. } => 1,
            HubMessage::StreamItem { .. } => 2,
            HubMessage::Completion { .. } => 3,
            HubMessage::StreamInvocation { .. } => 4,
            HubMessage::CancelInvocation { .. } => 5,
            HubMessage::Ping => 6,
            HubMessage::Close { .. } => 7,
            HubMessage::Ack { .. } => 8,
            HubMessage::Sequence { .. } => 9,
        }
    }

    /// Whether stateful reconnect numbers this message (and so buffers it for replay).
    pub fn is_sequenced(&self) -> bool {
        matches!(self.type_id(), 1..=5)
    }

    /// A non-blocking invocation of `target` with `arguments`.
    pub fn invocation(target: &str, arguments: Vec<Value>) -> Self {
        HubMessage::Invocation {
            headers: Vec::new(),
            invocation_id: None,
            target: target.to_string(),
            arguments,
            stream_ids: Vec::new(),
        }
    }

    /// A completion for `invocation_id`.
    pub fn completion(invocation_id: &str, outcome: Outcome) -> Self {
        HubMessage::Completion {
            headers: Vec::new(),
            invocation_id: invocation_id.to_string(),
            outcome,
        }
    }
}

/// Converts a JSON value into the message value model.
pub fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        serde_json::Value::String(s) => Value::String(s.into()),
        serde_json::Value::Array(a) => Value::Array(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => Value::Map(
            o.into_iter()
                .map(|(k, v)| (Value::String(k.into()), from_json(v)))
                .collect(),
        ),
    }
}

/// Converts a message value into JSON (binary becomes base64, as ASP.NET serialises byte[]).
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Nil => serde_json::Value::Null,
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Integer(i) => {
            if let Some(u) = i.as_u64() {
                serde_json::Value::from(u)
            } else {
                serde_json::Value::from(i.as_i64().unwrap_or(0))
            }
        }
        Value::F32(f) => serde_json::Number::from_f64(*f as f64)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::F64(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(match s.as_str() {
            Some(s) => s.to_string(),
            None => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        }),
        Value::Binary(b) => serde_json::Value::String(crate::util::base64(b)),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s.as_str().map(str::to_string).unwrap_or_default(),
                    other => to_json(other).to_string(),
                };
                o.insert(key, to_json(v));
            }
            serde_json::Value::Object(o)
        }
        Value::Ext(_, _) => serde_json::Value::Null,
    }
}

/// Shorthand for building message values with `serde_json::json!`.
pub fn v(json: serde_json::Value) -> Value {
    from_json(json)
}

/// A string field of a map value.
pub fn get_str<'a>(map: &'a Value, key: &str) -> Option<&'a str> {
    map_get(map, key).and_then(|v| v.as_str())
}

/// A field of a map value.
pub fn map_get<'a>(map: &'a Value, key: &str) -> Option<&'a Value> {
    match map {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}
