//! The shared state of one server instance.

use crate::conduit::auth::Auth;
use crate::conduit::tasks::TaskStore;
use crate::config::Config;
use crate::counters::Counters;
use crate::faults::Faults;
use crate::signalr::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Everything the handlers share.
pub struct App {
    pub config: Config,
    pub started: Instant,
    pub conns: Registry,
    pub tasks: TaskStore,
    pub auth: Auth,
    pub counters: Counters,
    pub faults: Faults,
    shutting_down: AtomicBool,
}

impl App {
    pub fn new(config: Config) -> Arc<App> {
        Arc::new(App {
            auth: Auth::new(config.keys.clone()),
            config,
            started: Instant::now(),
            conns: Registry::default(),
            tasks: TaskStore::default(),
            counters: Counters::default(),
            faults: Faults::default(),
            shutting_down: AtomicBool::new(false),
        })
    }

    /// Milliseconds since this server started (monotonic).
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One log line on stderr (never a full key: callers mask).
    pub fn log(&self, args: std::fmt::Arguments<'_>) {
        if !self.config.quiet {
            eprintln!(
                "[devserver {:>9.3}s] {args}",
                self.started.elapsed().as_secs_f64()
            );
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    /// Tells every client the server is going away (Close with allowReconnect) and ends transports.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        for conn in self.conns.all() {
            if conn.protocol().is_some() {
                conn.close(Some("Server is shutting down.".into()), true);
            } else {
                conn.push(crate::signalr::Out::End);
            }
        }
    }
}
