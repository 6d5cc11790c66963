//! The JavaScript API: classes that translate between JavaScript values and the Rust layers below.
//! Only compiled for wasm32.

mod builder;
mod calls;
mod conduit_client;
mod conduit_options;
mod handlers;
mod hub_connection;
mod js;
mod logger;
mod options;
mod string_cache;
mod task_list;
mod typescript;

pub use builder::HubConnectionBuilder;
pub use conduit_client::ConduitRealtimeClient;
pub use hub_connection::{HubConnection, StreamResult, Subscription};
