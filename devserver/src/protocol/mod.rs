//! The SignalR hub protocols as the server speaks them: message model, JSON and MessagePack
//! codecs with their framing, and the handshake. No I/O here: bytes in, messages out.
//!
//! This codec is independent of the client crate's codec on purpose, so the two check each other.

pub mod handshake;
pub mod json;
pub mod message;
pub mod msgpack;

pub use message::{HubMessage, Outcome};

/// The hub protocol a connection chose in its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    MessagePack,
}

impl Protocol {
    /// Name as it appears in the handshake.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Json => "json",
            Protocol::MessagePack => "messagepack",
        }
    }

    /// Whether frames are binary (MessagePack) or text (JSON).
    pub fn is_binary(self) -> bool {
        matches!(self, Protocol::MessagePack)
    }

    /// Encodes one message including its framing (record separator or length prefix).
    pub fn encode(self, msg: &HubMessage) -> Vec<u8> {
        match self {
            Protocol::Json => json::encode(msg),
            Protocol::MessagePack => msgpack::encode(msg),
        }
    }

    /// Appends one framed message to `out`.
    pub fn encode_into(self, msg: &HubMessage, out: &mut Vec<u8>) {
        match self {
            Protocol::Json => json::encode_into(msg, out),
            Protocol::MessagePack => msgpack::encode_into(msg, out),
        }
    }

    /// Decodes every complete message at the front of `buf`, removing them; a trailing partial
    /// record stays in `buf`. Errors are protocol violations: the connection must be closed.
    pub fn decode(self, buf: &mut Vec<u8>) -> Result<Vec<HubMessage>, String> {
        match self {
            Protocol::Json => json::decode(buf),
            Protocol::MessagePack => msgpack::decode(buf),
        }
    }
}
