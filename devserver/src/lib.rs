//! conduit-devserver: a real ASP.NET Core-compatible SignalR server that simulates the Conduit
//! LLM gateway, for tests, demos and benchmarks.
//!
//! Layout: `protocol` (hub protocols, no I/O) -> `signalr` (connections, transports,
//! negotiate, stateful reconnect) -> `hubs` (hub methods) and `conduit` (keys, tasks, events,
//! HTTP API, media); `http` routes requests, `dev` is the fault-injection API.

// Handlers return `Result<_, Response>`: the error is the answer, its size does not matter.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod conduit;
pub mod config;
pub mod counters;
pub mod dev;
pub mod faults;
pub mod http;
pub mod hubs;
pub mod protocol;
pub mod signalr;
pub mod statics;
pub mod util;

use std::net::SocketAddr;
use std::sync::Arc;

pub use app::App;
pub use config::{Config, Dialect};

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds and starts serving in the background.
pub async fn start(config: Config) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await?;
    let addr = listener.local_addr()?;
    let app = App::new(config);
    let router = axum::Router::new()
        .fallback(http::handle)
        .with_state(app.clone());
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, service).await {
            eprintln!("conduit-devserver: server error: {e}");
        }
    });
    Ok(Running { addr, app, task })
}
