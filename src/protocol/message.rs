//! The nine SignalR hub messages, borrowing from the bytes they were decoded from.

use std::borrow::Cow;

/// One `headers` entry: a string key and a string value.
pub type Header<'a> = (Cow<'a, str>, Cow<'a, str>);

/// A payload still encoded in the connection's protocol: JSON text or MessagePack bytes.
///
/// Decoders only hand out `Raw` values they have validated as one complete value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a>(pub &'a [u8]);

impl<'a> Raw<'a> {
    /// The encoded bytes.
    pub fn bytes(self) -> &'a [u8] {
        self.0
    }

    /// The JSON text of a payload decoded by the JSON protocol (empty for invalid UTF-8, which it never holds).
    pub fn json_text(self) -> &'a str {
        core::str::from_utf8(self.0).unwrap_or("")
    }
}

/// A hub message of any of the nine types.
#[derive(Debug, Clone, PartialEq)]
pub enum HubMessage<'a> {
    /// Type 1: call a method on the other side; with an id, a Completion is expected.
    Invocation(Invocation<'a>),
    /// Type 2: one item of a stream.
    StreamItem(StreamItem<'a>),
    /// Type 3: the end of an invocation or a stream.
    Completion(Completion<'a>),
    /// Type 4: call a streaming method (the id is always present).
    StreamInvocation(Invocation<'a>),
    /// Type 5: stop a stream.
    CancelInvocation(CancelInvocation<'a>),
    /// Type 6: keep-alive.
    Ping,
    /// Type 7: the server closes the connection.
    Close(Close<'a>),
    /// Type 8: stateful reconnect, the highest sequence id processed.
    Ack(u64),
    /// Type 9: stateful reconnect, the next sequence id the sender will use.
    Sequence(u64),
}

impl HubMessage<'_> {
    /// The SignalR message type number.
    pub fn type_id(&self) -> u8 {
        match self {
            HubMessage::Invocation(_) => 1,
            HubMessage::StreamItem(_) => 2,
            HubMessage::Completion(_) => 3,
            HubMessage::StreamInvocation(_) => 4,
            HubMessage::CancelInvocation(_) => 5,
            HubMessage::Ping => 6,
            HubMessage::Close(_) => 7,
            HubMessage::Ack(_) => 8,
            HubMessage::Sequence(_) => 9,
        }
    }

    /// Whether stateful reconnect counts this message with a sequence id.
    pub fn is_sequenced(&self) -> bool {
        matches!(self.type_id(), 1..=5)
    }
}

/// An Invocation or StreamInvocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation<'a> {
    /// Message headers.
    pub headers: Vec<Header<'a>>,
    /// Present when the caller expects a Completion.
    pub invocation_id: Option<Cow<'a, str>>,
    /// The method name.
    pub target: Cow<'a, str>,
    /// The arguments, encoded as one array.
    pub arguments: Raw<'a>,
    /// Ids of client-to-server streams passed as arguments.
    pub stream_ids: Vec<Cow<'a, str>>,
}

/// A StreamItem.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamItem<'a> {
    /// Message headers.
    pub headers: Vec<Header<'a>>,
    /// The stream this item belongs to.
    pub invocation_id: Cow<'a, str>,
    /// The item, encoded.
    pub item: Raw<'a>,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<'a> {
    /// Finished without a value.
    Void,
    /// Finished with a value, encoded.
    Result(Raw<'a>),
    /// Failed with this message.
    Error(Cow<'a, str>),
}

/// A Completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion<'a> {
    /// Message headers.
    pub headers: Vec<Header<'a>>,
    /// The invocation that ended.
    pub invocation_id: Cow<'a, str>,
    /// Its result or error.
    pub outcome: Outcome<'a>,
}

/// A CancelInvocation.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelInvocation<'a> {
    /// Message headers.
    pub headers: Vec<Header<'a>>,
    /// The stream to stop.
    pub invocation_id: Cow<'a, str>,
}

/// A Close sent by the server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Close<'a> {
    /// Why the server closed, if it said.
    pub error: Option<Cow<'a, str>>,
    /// Whether the client may reconnect.
    pub allow_reconnect: bool,
}
