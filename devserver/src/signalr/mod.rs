//! The SignalR connection layer: connections and their outbound queues, the registry with
//! groups, negotiate, the three transports, incoming message processing, keep-alive and
//! stateful reconnect. Hub methods live in `crate::hubs`.

pub mod connection;
pub mod endpoint;
pub mod keepalive;
pub mod longpoll;
pub mod receive;
pub mod registry;
pub mod sse;
pub mod ws;

use bytes::Bytes;

/// One transport message (WebSocket message, SSE event, or part of a long-polling answer).
#[derive(Debug, Clone)]
pub struct Frame {
    pub data: Bytes,
    pub binary: bool,
}

/// What a transport's writer is asked to do, in order.
pub enum Out {
    /// Send one transport message.
    Frame(Frame),
    /// Send the same transport message `n` times (floods: no allocation per message).
    Repeat(Frame, u64),
    /// Send transport messages produced lazily (floods whose messages differ).
    Gen(Box<dyn Iterator<Item = Frame> + Send>),
    /// End the transport cleanly after what was queued before (WebSocket close frame,
    /// end of the SSE stream, 204 to the next poll).
    End,
    /// Drop the transport abruptly (no close frame).
    Abort,
}

impl Out {
    /// The frames of a data item (None for End / Abort).
    pub fn into_frames(self) -> Option<Box<dyn Iterator<Item = Frame> + Send>> {
        match self {
            Out::Frame(f) => Some(Box::new(std::iter::once(f))),
            Out::Repeat(f, n) => Some(Box::new(std::iter::repeat(f).take(n as usize))),
            Out::Gen(g) => Some(g),
            Out::End | Out::Abort => None,
        }
    }
}

/// How a transport ended, which decides what happens to its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportEnd {
    /// The server ended it (Close message sent, or stop).
    ServerClosed,
    /// The client closed it cleanly (WebSocket close frame, DELETE).
    ClientClosed,
    /// It broke (network error, EOF without close frame, client went away).
    Broken,
    /// `/_dev/drop` cut it.
    Dropped,
}
