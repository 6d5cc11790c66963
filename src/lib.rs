//! conduit-realtime: a SignalR client written in Rust for the browser, with a Conduit layer on top.
//!
//! Layers, each in its own folder:
//! - [`protocol`]: the SignalR wire protocol (hub messages, JSON and MessagePack, handshake, negotiate). No I/O.
//! - [`connection`]: the connection state machine (negotiate, transports, handshake, keep-alive, reconnect). No I/O.
#![deny(missing_docs)]

pub mod connection;
pub mod protocol;
