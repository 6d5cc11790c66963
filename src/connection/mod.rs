//! The connection state machine of a SignalR client: no I/O and no clock, so it runs natively in tests on
//! virtual time. A driver (the browser layer) turns socket, fetch and timer events into calls and carries out
//! the [`Action`]s it asks for; the user learns what happened from its [`Event`]s.

mod config;
mod event;
mod machine;
mod replay;
mod retry;
pub mod url;

pub use config::{frame_limit, Config, TransportSet, DEFAULT_MAX_MESSAGE_BYTES};
pub use event::{Action, Event, LogLevel, Payload, State};
pub use machine::{Connection, InvokeKind, INVOCATION_CANCELED, SKIPPED};
pub use replay::ReplayBuffer;
pub use retry::{RetryContext, RetryPolicy, DEFAULT_DELAYS};
