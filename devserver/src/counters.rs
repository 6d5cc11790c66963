//! What the server saw, for tests to assert on: global and per virtual key.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// The transports a connection can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    WebSockets,
    ServerSentEvents,
    LongPolling,
}

impl TransportKind {
    /// The name used in negotiate answers.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::WebSockets => "WebSockets",
            TransportKind::ServerSentEvents => "ServerSentEvents",
            TransportKind::LongPolling => "LongPolling",
        }
    }
}

/// One set of counters.
#[derive(Debug, Default, Clone)]
pub struct CounterSet {
    pub opened: u64,
    pub open: i64,
    pub by_transport: [u64; 3],
    pub open_by_transport: [i64; 3],
    pub negotiations: u64,
    pub invocations: BTreeMap<String, u64>,
    pub subscriptions: BTreeMap<String, u64>,
    pub unsubscriptions: u64,
    pub stream_cancels: u64,
    pub tokens_seen: Vec<String>,
    pub http_requests: BTreeMap<String, u64>,
    pub acks_received: u64,
    pub sequence_messages: u64,
    pub client_results: u64,
    pub closes_sent: u64,
}

impl CounterSet {
    /// The JSON shape of `GET /_dev/counters`.
    pub fn to_json(&self) -> Value {
        json!({
            "connections": {
                "opened": self.opened,
                "open": self.open,
                "byTransport": {
                    "webSockets": self.by_transport[0],
                    "serverSentEvents": self.by_transport[1],
                    "longPolling": self.by_transport[2],
                },
                "openByTransport": {
                    "webSockets": self.open_by_transport[0],
                    "serverSentEvents": self.open_by_transport[1],
                    "longPolling": self.open_by_transport[2],
                },
            },
            "negotiations": self.negotiations,
            "invocations": self.invocations,
            "subscriptions": self.subscriptions,
            "unsubscriptions": self.unsubscriptions,
            "streamCancels": self.stream_cancels,
            "tokensSeen": self.tokens_seen,
            "httpRequests": self.http_requests,
            "acksReceived": self.acks_received,
            "sequenceMessages": self.sequence_messages,
            "clientResults": self.client_results,
            "closesSent": self.closes_sent,
        })
    }
}

/// Global counters plus one set per virtual key (or per raw token on the test hub).
#[derive(Default)]
pub struct Counters {
    inner: Mutex<(CounterSet, HashMap<String, CounterSet>)>,
}

impl Counters {
    /// Applies `f` to the global set and to `key`'s set.
    pub fn bump(&self, key: Option<&str>, f: impl Fn(&mut CounterSet)) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g.0);
        if let Some(k) = key {
            f(g.1.entry(k.to_string()).or_default());
        }
    }

    /// Records a (masked) token.
    pub fn token_seen(&self, key: Option<&str>, token: &str) {
        let masked = crate::util::mask(token);
        self.bump(key, |c| {
            if !c.tokens_seen.contains(&masked) {
                if c.tokens_seen.len() >= 1000 {
                    c.tokens_seen.remove(0);
                }
                c.tokens_seen.push(masked.clone());
            }
        });
    }

    /// A snapshot as JSON, for one key or global.
    pub fn snapshot(&self, key: Option<&str>) -> Value {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match key {
            None => g.0.to_json(),
            Some(k) => g.1.get(k).cloned().unwrap_or_default().to_json(),
        }
    }

    /// Resets one key's counters, or everything. Open-connection gauges survive a reset.
    pub fn reset(&self, key: Option<&str>) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let keep = |c: &CounterSet| CounterSet {
            open: c.open,
            open_by_transport: c.open_by_transport,
            ..Default::default()
        };
        match key {
            None => {
                g.0 = keep(&g.0);
                for c in g.1.values_mut() {
                    *c = keep(c);
                }
            }
            Some(k) => {
                if let Some(c) = g.1.get_mut(k) {
                    *c = keep(c);
                }
            }
        }
    }
}
