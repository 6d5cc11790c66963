//! conduit-realtime: a SignalR client written in Rust for the browser, with a Conduit layer on top.
//!
//! Layers, each in its own folder:
//! - [`protocol`]: the SignalR wire protocol (hub messages, JSON and MessagePack, handshake, negotiate). No I/O.
//! - [`conduit`]: the Conduit layer: dialects, task registry, HTTP answers and errors. No I/O.
//! - [`bindings`] (wasm32 only): the JavaScript classes, which only translate.
//! - `browser` (wasm32 only): WebSocket, Server-Sent Events, long polling, fetch and timers driving a connection.
//! - [`connection`]: the connection state machine (negotiate, transports, handshake, keep-alive, reconnect). No I/O.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
pub mod bindings;
#[cfg(target_arch = "wasm32")]
mod browser;
pub mod conduit;
pub mod connection;
pub mod protocol;
