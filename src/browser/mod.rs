//! The browser layer: runs the no-I/O connection over the browser's WebSocket, EventSource, fetch and timers.
//! Only compiled for wasm32.

pub mod bytes;
pub mod driver;
pub mod frame;
pub mod global;
pub mod http;
pub mod listener;
pub mod timer;
pub mod transport;
