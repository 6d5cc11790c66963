//! What a connection asks its driver to do ([`Action`]) and what it tells its user ([`Event`]).

use super::retry::RetryContext;
use crate::protocol::negotiate::TransportKind;

/// The lifecycle states of the official client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not connected, not trying.
    Disconnected,
    /// `start()` is in progress.
    Connecting,
    /// Connected: messages flow.
    Connected,
    /// `stop()` is in progress.
    Disconnecting,
    /// The connection was lost and is being re-established.
    Reconnecting,
}

impl State {
    /// The official client's name for the state.
    pub fn name(self) -> &'static str {
        match self {
            State::Disconnected => "Disconnected",
            State::Connecting => "Connecting",
            State::Connected => "Connected",
            State::Disconnecting => "Disconnecting",
            State::Reconnecting => "Reconnecting",
        }
    }
}

/// Log levels, as in the official client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Very detailed.
    Trace = 0,
    /// For debugging.
    Debug = 1,
    /// Normal lifecycle.
    Information = 2,
    /// Something unexpected that was handled.
    Warning = 3,
    /// A failure.
    Error = 4,
    /// The connection cannot go on.
    Critical = 5,
    /// Nothing is logged.
    None = 6,
}

/// Work the driver must carry out, then report back with the same `generation`.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Get an access token from the caller's factory; answer with `token_ready`.
    FetchToken {
        /// Identifies this attempt.
        generation: u32,
    },
    /// `POST` to this negotiate URL; answer with `negotiated`.
    Negotiate {
        /// Identifies this attempt.
        generation: u32,
        /// The negotiate URL, query included.
        url: String,
        /// Bearer token for the request (never logged).
        access_token: Option<String>,
    },
    /// Open a transport to this URL; answer with `transport_opened` / `transport_closed`, and pass what it
    /// receives to `received`.
    Open {
        /// Identifies this transport.
        generation: u32,
        /// Which transport.
        transport: TransportKind,
        /// The http(s) URL with its `id`; the driver adds `access_token` where headers cannot go.
        url: String,
        /// Whether the protocol needs binary frames.
        binary: bool,
        /// Bearer token for the transport (never logged).
        access_token: Option<String>,
    },
    /// Send these bytes on the open transport, as a binary frame when `binary`.
    Send {
        /// The framed messages.
        data: Vec<u8>,
        /// Binary (MessagePack) or text.
        binary: bool,
    },
    /// Close the current transport; no further reports about it are expected.
    Close,
    /// Ask the caller's reconnect policy for the next delay; answer with `retry_delay`.
    AskRetryDelay(RetryContext),
}

/// Something the user of the connection should learn.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The state changed.
    StateChanged(State),
    /// `start()` succeeded.
    Started,
    /// `start()` failed with this message.
    StartFailed(String),
    /// The connection was lost and reconnecting begins.
    Reconnecting(Option<String>),
    /// Reconnected, with the new connection id.
    Reconnected(Option<String>),
    /// Closed for good (after a successful start), with the error if there was one.
    Closed(Option<String>),
    /// The server called a client method.
    Invocation {
        /// The method name as sent.
        target: String,
        /// The arguments: a JSON array.
        arguments: Payload,
        /// Present when the server expects a result (answer with `client_result`).
        invocation_id: Option<String>,
    },
    /// One item of a stream started with `stream`.
    StreamItem {
        /// The stream.
        id: u64,
        /// The item as JSON text.
        item: String,
    },
    /// An invocation or stream ended: `Ok(Some(result as JSON))`, `Ok(None)` for void, or `Err(message)`.
    Completion {
        /// The invocation.
        id: u64,
        /// Its outcome.
        outcome: Result<Option<Payload>, String>,
    },
    /// A bad record from the server was skipped; the connection goes on.
    ProtocolError(String),
    /// A log line.
    Log(LogLevel, String),
}

/// A JSON payload from the server: its text, or where it lies in a frame passed to
/// [`Connection::received_frame`](super::Connection::received_frame), so a browser driver can hand `JSON.parse` a
/// slice of the string it already holds instead of copying the text out of WebAssembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The JSON text.
    Text(String),
    /// Bytes `start..end` (UTF-8 offsets) of the frame numbered `frame`.
    InFrame {
        /// The number the driver gave the frame.
        frame: u32,
        /// Where the payload starts.
        start: usize,
        /// Where it ends (exclusive).
        end: usize,
    },
}

impl Payload {
    /// The payload's text, given the frame it may point into (`None` when it points into another frame).
    pub fn text<'a>(&'a self, frame: Option<(u32, &'a str)>) -> Option<&'a str> {
        match (self, frame) {
            (Payload::Text(text), _) => Some(text),
            (Payload::InFrame { frame, start, end }, Some((number, text))) if *frame == number => text.get(*start..*end),
            (Payload::InFrame { .. }, _) => None,
        }
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Payload::Text(text.to_string())
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Payload::Text(text)
    }
}
