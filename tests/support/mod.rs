//! A scripted driver for the connection state machine: virtual time, and helpers that play the server's part
//! frame by frame (in the style of h2's test support).
#![allow(dead_code)]

use conduit_realtime::connection::{Action, Config, Connection, Event, LogLevel};
use conduit_realtime::protocol::negotiate::TransportKind;

/// A connection plus a virtual clock.
pub struct Driver {
    pub conn: Connection,
    pub now: u64,
    log_lines: Vec<(LogLevel, String)>,
}

pub const HUB: &str = "http://127.0.0.1:5000/hubs/test";

pub fn negotiate_body(id: &str, stateful: bool) -> String {
    format!(
        r#"{{"connectionId":"{id}","connectionToken":"tok-{id}","negotiateVersion":1,"availableTransports":[
        {{"transport":"WebSockets","transferFormats":["Text","Binary"]}},
        {{"transport":"ServerSentEvents","transferFormats":["Text"]}},
        {{"transport":"LongPolling","transferFormats":["Text","Binary"]}}]{}}}"#,
        if stateful { r#","useStatefulReconnect":true"# } else { "" }
    )
}

impl Driver {
    pub fn new(config: Config) -> Self {
        Driver { conn: Connection::new(config, 7), now: 1_000, log_lines: Vec::new() }
    }

    pub fn action(&mut self) -> Action {
        self.conn.poll_action().expect("an action")
    }

    pub fn no_action(&mut self) {
        assert_eq!(self.conn.poll_action(), None);
    }

    /// All events so far, without log lines.
    pub fn events(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(event) = self.conn.poll_event() {
            match event {
                Event::Log(level, line) => self.log_lines.push((level, line)),
                other => events.push(other),
            }
        }
        events
    }

    /// All log lines so far.
    pub fn logs(&mut self) -> Vec<(LogLevel, String)> {
        self.events();
        self.log_lines.clone()
    }

    pub fn expect_negotiate(&mut self) -> (u32, String, Option<String>) {
        match self.action() {
            Action::Negotiate { generation, url, access_token } => (generation, url, access_token),
            other => panic!("expected Negotiate, got {other:?}"),
        }
    }

    pub fn expect_open(&mut self) -> (u32, TransportKind, String) {
        match self.action() {
            Action::Open { generation, transport, url, .. } => (generation, transport, url),
            other => panic!("expected Open, got {other:?}"),
        }
    }

    pub fn expect_send(&mut self) -> Vec<u8> {
        match self.action() {
            Action::Send { data, .. } => data,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    pub fn expect_send_text(&mut self) -> String {
        String::from_utf8(self.expect_send()).unwrap()
    }

    /// Negotiates, opens WebSockets and completes the handshake; returns the transport generation.
    pub fn connect(&mut self, id: &str, stateful: bool) -> u32 {
        let g = self.open_for_handshake(id, stateful);
        self.conn.received(self.now, g, b"{}\x1e");
        g
    }

    /// After `start()`: answers the negotiation and opens the WebSocket; the handshake request is sent and its
    /// answer is left to the caller. Returns the transport's generation.
    pub fn open_for_handshake(&mut self, id: &str, stateful: bool) -> u32 {
        let (g, _, _) = self.expect_negotiate();
        self.conn.negotiated(self.now, g, Ok(negotiate_body(id, stateful).as_bytes()));
        let (g, transport, _) = self.expect_open();
        assert_eq!(transport, TransportKind::WebSockets);
        self.conn.transport_opened(self.now, g);
        let handshake = self.expect_send();
        assert!(handshake.starts_with(b"{\"protocol\":"));
        g
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
        self.conn.timeout(self.now);
    }

    /// Advances to the next deadline and fires it.
    pub fn run_to_next_timeout(&mut self) -> u64 {
        let at = self.conn.next_timeout().expect("a deadline");
        assert!(at >= self.now);
        self.now = at;
        self.conn.timeout(self.now);
        at
    }
}
