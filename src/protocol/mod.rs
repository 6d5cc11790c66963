//! The SignalR wire protocol: hub messages, the JSON and MessagePack hub protocols, the handshake and the
//! negotiate answer. Pure functions over bytes: no I/O, no clocks, usable natively and in the browser.
//!
//! Argument values stay encoded: a decoded message carries each payload (`arguments`, `item`, `result`) as a
//! [`Raw`] slice of the input, validated but not parsed into a tree. The browser hands JSON payloads straight to
//! its own `JSON.parse`; MessagePack payloads are transcoded to JSON text once ([`transcode`]).

mod error;
pub mod handshake;
pub mod json;
mod message;
pub mod msgpack;
pub mod negotiate;
pub mod number;
pub mod transcode;

pub use error::ProtocolError;
pub use message::{
    CancelInvocation, Close, Completion, Header, HubMessage, Invocation, Outcome, Raw, StreamItem,
};

/// The hub protocol a connection speaks after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubProtocol {
    /// Text records separated by `0x1E`.
    Json,
    /// Binary records with a VarInt length prefix.
    MessagePack,
}

impl HubProtocol {
    /// The name sent in the handshake request.
    pub fn name(self) -> &'static str {
        match self {
            HubProtocol::Json => "json",
            HubProtocol::MessagePack => "messagepack",
        }
    }

    /// Whether the transport must carry binary data.
    pub fn is_binary(self) -> bool {
        self == HubProtocol::MessagePack
    }

    /// Appends `message` to `out` as one framed record of this protocol.
    ///
    /// Payloads inside `message` must already be encoded in this protocol (see [`transcode`]).
    pub fn encode(self, message: &HubMessage<'_>, out: &mut Vec<u8>) {
        match self {
            HubProtocol::Json => json::encode(message, out),
            HubProtocol::MessagePack => msgpack::encode(message, out),
        }
    }
}
