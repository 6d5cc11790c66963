//! Drives a [`Connection`] with a sequence of operations decoded from bytes, the way the browser driver would
//! (every action carried out and every event delivered after each call), and checks invariants after every
//! step. Shared by the cargo-fuzz target `connection` (fuzz/fuzz_targets/connection.rs) and the bounded test
//! tests/connection_robustness.rs; a violated invariant panics with the last operations.
//!
//! Invariants: no panic; every state change is a legal transition and the events agree with the state
//! (`Started` only when connecting, `Closed` only after a successful start, ...); at most one transport is
//! open, and nothing is sent without one; everything sent decodes in the connection's protocol; every
//! invocation id is new and completes at most once, and every one has completed whenever the state is not
//! `Connected`; `start()` settles at most once; a fired timeout leaves no deadline at or before `now` (else the
//! browser driver would spin); `Disconnected` means no transport, no deadline, nothing pending; `stop()` queues
//! no Open or Send and ends `Disconnected`. Every run ends with `stop()`.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use conduit_realtime::connection::{Action, Config, Connection, Event, InvokeKind, RetryPolicy, State, TransportSet};
use conduit_realtime::protocol::{
    json, msgpack, transcode, CancelInvocation, Close, Completion, HubMessage, HubProtocol, Invocation, Outcome, Raw,
    StreamItem,
};

/// The hub every harness connects to.
pub const HUB: &str = "http://127.0.0.1:5000/hubs/test";
/// Operations per input at most (longer inputs are cut).
pub const MAX_OPS: usize = 400;
/// Number of operation codes understood by [`Harness::apply`].
pub const OP_COUNT: u8 = 21;

/// Reads the fuzz input; past its end every read is zero.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    /// A length byte, then up to that many bytes (fewer at the end of the input).
    pub fn bytes(&mut self) -> &'a [u8] {
        let len = self.byte() as usize;
        let start = self.pos.min(self.data.len());
        let end = (start + len).min(self.data.len());
        self.pos = start + len;
        &self.data[start..end]
    }
}

/// Counts of what a run reached, so the bounded test can check that it went deep.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub ops: u64,
    pub started: u64,
    pub start_failed: u64,
    pub reconnecting: u64,
    pub reconnected: u64,
    pub closed: u64,
    pub resumed: u64,
    pub completions_ok: u64,
    pub completions_err: u64,
    pub stream_items: u64,
    pub invocations: u64,
    pub protocol_errors: u64,
    pub sends: u64,
    pub opens: u64,
}

impl Stats {
    pub fn add(&mut self, o: &Stats) {
        self.ops += o.ops;
        self.started += o.started;
        self.start_failed += o.start_failed;
        self.reconnecting += o.reconnecting;
        self.reconnected += o.reconnected;
        self.closed += o.closed;
        self.resumed += o.resumed;
        self.completions_ok += o.completions_ok;
        self.completions_err += o.completions_err;
        self.stream_items += o.stream_items;
        self.invocations += o.invocations;
        self.protocol_errors += o.protocol_errors;
        self.sends += o.sends;
        self.opens += o.opens;
    }
}

/// The last request of the machine that the harness has not answered yet.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Request {
    Token(u32),
    Negotiate(u32),
    Open(u32),
    Handshake(u32),
}

/// A connection, its virtual clock, and a model of what the driver and the user have seen.
pub struct Harness {
    pub conn: Connection,
    pub now: u64,
    protocol: HubProtocol,
    auto_policy: bool,
    // Driver side.
    token_gen: u32,
    negotiate_gen: u32,
    open_gen: u32,
    open: Option<u32>,
    request: Option<Request>,
    asked_policy: bool,
    opens_and_sends: u32,
    // User side.
    state: State,
    start_pending: bool,
    connected_since_start: bool,
    issued: BTreeMap<u64, InvokeKind>,
    completed: BTreeSet<u64>,
    server_ids: Vec<String>,
    trace: VecDeque<String>,
    pub stats: Stats,
}

fn legal(from: State, to: State) -> bool {
    use State::*;
    matches!(
        (from, to),
        (Disconnected, Connecting)
            | (Connecting, Connected)
            | (Connecting, Disconnected)
            | (Connected, Disconnecting)
            | (Connected, Reconnecting)
            | (Connected, Disconnected)
            | (Disconnecting, Disconnected)
            | (Reconnecting, Connected)
            | (Reconnecting, Disconnected)
    )
}

/// Builds a valid configuration from the first bytes of the input.
pub fn config(input: &mut Input<'_>) -> (Config, bool) {
    let a = input.byte();
    let b = input.byte();
    let c = input.byte();
    let mut config = Config::new(HUB);
    config.protocol = if a & 1 == 0 { HubProtocol::Json } else { HubProtocol::MessagePack };
    config.stateful_reconnect = a & 2 != 0;
    config.retry_start = a & 4 != 0;
    config.uses_access_token = a & 8 != 0;
    config.skip_negotiation = a & 16 != 0;
    config.reconnect = match a >> 5 {
        0 => RetryPolicy::Never,
        1 => RetryPolicy::Delays(vec![0, 100]),
        2 => RetryPolicy::Delays(vec![0, 2_000, 10_000, 30_000]),
        3 => RetryPolicy::Exponential { initial_ms: 100, max_ms: 5_000, max_attempts: Some(3), jitter_ms: 50 },
        4 => RetryPolicy::External,
        5 => RetryPolicy::Exponential { initial_ms: 0, max_ms: 0, max_attempts: Some(2), jitter_ms: 0 },
        6 => RetryPolicy::Exponential { initial_ms: 1_000, max_ms: 30_000, max_attempts: None, jitter_ms: 1_000 },
        _ => RetryPolicy::Delays(vec![]),
    };
    config.transports = if config.skip_negotiation {
        TransportSet::only(conduit_realtime::protocol::negotiate::TransportKind::WebSockets)
    } else {
        match b & 7 {
            0 => TransportSet::ALL,
            flags => TransportSet { web_sockets: flags & 1 != 0, server_sent_events: flags & 2 != 0, long_polling: flags & 4 != 0 },
        }
    };
    if b & 8 != 0 {
        config.max_message_bytes = 48;
    }
    if b & 16 != 0 {
        config.replay_buffer_bytes = 80;
    }
    let auto_policy = b & 32 == 0;
    config.keep_alive_ms = [15_000, 1_000, 1, 100][(c & 3) as usize];
    config.server_timeout_ms = config.keep_alive_ms * [2, 1, 30, 3][((c >> 2) & 3) as usize];
    config.handshake_timeout_ms = [15_000, 1, 500, 100_000][((c >> 4) & 3) as usize];
    config.validate().expect("the harness builds valid configurations");
    (config, auto_policy)
}

const ARGUMENTS: &[&str] = &[
    "[]",
    "[1,\"x\",null]",
    "[{\"a\":[true,false,-1.5e3],\"\\u00e9\":\"\\ud83d\\ude00\"}]",
    "[[[[[[[[1]]]]]]]]",
    "{}",
    "not json",
    "[1,]",
    "[\"\\ud800\"]",
    "[18446744073709551616,-9223372036854775809,1e308]",
    "",
];

const VALUES: &[&str] = &["null", "42", "\"text\"", "[1,2,3]", "{\"k\":{\"n\":-0.5}}", "true", "\"\\u0000\""];

impl Harness {
    pub fn new(config: Config, auto_policy: bool, seed: u64) -> Self {
        let protocol = config.protocol;
        Harness {
            conn: Connection::new(config, seed),
            now: 1_000,
            protocol,
            auto_policy,
            token_gen: 0,
            negotiate_gen: 0,
            open_gen: 0,
            open: None,
            request: None,
            asked_policy: false,
            opens_and_sends: 0,
            state: State::Disconnected,
            start_pending: false,
            connected_since_start: false,
            issued: BTreeMap::new(),
            completed: BTreeSet::new(),
            server_ids: Vec::new(),
            trace: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    fn note(&mut self, line: String) {
        if self.trace.len() == 40 {
            self.trace.pop_front();
        }
        self.trace.push_back(line);
    }

    #[track_caller]
    fn fail(&self, message: &str) -> ! {
        let trace: Vec<&str> = self.trace.iter().map(String::as_str).collect();
        panic!("invariant violated: {message}\nstate {:?}, last operations:\n  {}", self.state, trace.join("\n  "));
    }

    // ----- the driver: carry out actions, deliver events -----

    fn pump(&mut self) {
        loop {
            if let Some(action) = self.conn.poll_action() {
                self.perform(action);
                continue;
            }
            if let Some(event) = self.conn.poll_event() {
                self.deliver(event);
                continue;
            }
            break;
        }
        self.check_quiescent();
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::FetchToken { generation } => {
                self.note(format!("  <- FetchToken #{generation}"));
                self.token_gen = generation;
                self.request = Some(Request::Token(generation));
            }
            Action::Negotiate { generation, .. } => {
                self.note(format!("  <- Negotiate #{generation}"));
                self.negotiate_gen = generation;
                self.request = Some(Request::Negotiate(generation));
            }
            Action::Open { generation, binary, .. } => {
                self.note(format!("  <- Open #{generation}"));
                self.opens_and_sends += 1;
                self.stats.opens += 1;
                if let Some(other) = self.open {
                    self.fail(&format!("transport #{generation} opened while #{other} is still open"));
                }
                if binary != self.protocol.is_binary() {
                    self.fail("Open asked for the wrong transfer format");
                }
                self.open = Some(generation);
                self.open_gen = generation;
                self.request = Some(Request::Open(generation));
            }
            Action::Send { data, binary } => {
                self.note(format!("  <- Send {} bytes", data.len()));
                self.opens_and_sends += 1;
                self.stats.sends += 1;
                if self.open.is_none() {
                    self.fail("Send with no open transport");
                }
                self.check_sent(&data, binary);
            }
            Action::Close => {
                self.note("  <- Close".into());
                self.open = None;
                if matches!(self.request, Some(Request::Open(_) | Request::Handshake(_))) {
                    self.request = None;
                }
            }
            Action::AskRetryDelay(context) => {
                self.note(format!("  <- AskRetryDelay({})", context.previous_retry_count));
                self.asked_policy = true;
                if self.auto_policy {
                    let delay = (context.previous_retry_count < 3).then_some(u64::from(context.previous_retry_count) * 10);
                    self.asked_policy = false;
                    self.conn.retry_delay(self.now, delay);
                }
            }
        }
    }

    /// Everything the client sends must decode in its protocol (the handshake request is JSON text).
    fn check_sent(&mut self, data: &[u8], binary: bool) {
        if data.starts_with(b"{\"protocol\":") {
            if binary {
                self.fail("the handshake request went out as binary");
            }
            if let Some(open) = self.open {
                self.request = Some(Request::Handshake(open));
            }
            let end = data.iter().position(|&b| b == 0x1e).unwrap_or_else(|| self.fail("handshake request without 0x1E"));
            if end + 1 != data.len() {
                self.fail("bytes after the handshake request");
            }
            return;
        }
        if binary != self.protocol.is_binary() {
            self.fail("a hub message went out in the wrong transfer format");
        }
        match self.protocol {
            HubProtocol::Json => {
                if core::str::from_utf8(data).is_err() {
                    self.fail("a text frame that is not UTF-8 (the driver would send an empty string)");
                }
                for record in json::records(data) {
                    match record.map(json::decode) {
                        Ok(Ok(_)) => {}
                        other => self.fail(&format!("sent a JSON record that does not decode: {other:?} in {:?}", String::from_utf8_lossy(data))),
                    }
                }
            }
            HubProtocol::MessagePack => {
                for record in msgpack::records(data) {
                    match record.map(msgpack::decode) {
                        Ok(Ok(_)) => {}
                        other => self.fail(&format!("sent a MessagePack record that does not decode: {other:?} in {data:02x?}")),
                    }
                }
            }
        }
    }

    fn deliver(&mut self, event: Event) {
        match &event {
            Event::Log(_, line) => {
                if line.contains("resumed") {
                    self.stats.resumed += 1;
                }
                return;
            }
            other => self.note(format!("  => {other:?}").chars().take(160).collect()),
        }
        match event {
            Event::StateChanged(to) => {
                if !legal(self.state, to) {
                    self.fail(&format!("illegal transition {:?} -> {to:?}", self.state));
                }
                self.state = to;
            }
            Event::Started => {
                self.stats.started += 1;
                if !self.start_pending || self.state != State::Connected {
                    self.fail("Started without a pending start, or not Connected");
                }
                self.start_pending = false;
                self.connected_since_start = true;
            }
            Event::StartFailed(_) => {
                self.stats.start_failed += 1;
                if !self.start_pending || self.state != State::Disconnected {
                    self.fail("StartFailed without a pending start, or not Disconnected");
                }
                self.start_pending = false;
            }
            Event::Reconnecting(_) => {
                self.stats.reconnecting += 1;
                if self.state != State::Reconnecting {
                    self.fail("Reconnecting event while not Reconnecting");
                }
            }
            Event::Reconnected(_) => {
                self.stats.reconnected += 1;
                if self.state != State::Connected || !self.connected_since_start {
                    self.fail("Reconnected while not Connected, or without a successful start");
                }
            }
            Event::Closed(_) => {
                self.stats.closed += 1;
                if self.state != State::Disconnected || !self.connected_since_start || self.start_pending {
                    self.fail("Closed while not Disconnected, or without a successful start");
                }
                self.connected_since_start = false;
            }
            Event::Invocation { invocation_id, .. } => {
                self.stats.invocations += 1;
                if let Some(id) = invocation_id {
                    self.server_ids.push(id);
                }
            }
            Event::StreamItem { id, .. } => {
                self.stats.stream_items += 1;
                if self.issued.get(&id) != Some(&InvokeKind::Stream) || self.completed.contains(&id) {
                    self.fail(&format!("StreamItem for #{id}, which is not a running stream"));
                }
            }
            Event::Completion { id, outcome } => {
                if outcome.is_ok() {
                    self.stats.completions_ok += 1;
                } else {
                    self.stats.completions_err += 1;
                }
                if !self.issued.contains_key(&id) {
                    self.fail(&format!("Completion for #{id}, which was never issued"));
                }
                if !self.completed.insert(id) {
                    self.fail(&format!("invocation #{id} completed twice"));
                }
            }
            Event::ProtocolError(_) => self.stats.protocol_errors += 1,
            Event::Log(..) => {}
        }
    }

    fn check_quiescent(&mut self) {
        if self.conn.state() != self.state {
            self.fail(&format!("state() is {:?} but the events said {:?}", self.conn.state(), self.state));
        }
        if self.state != State::Connected {
            if let Some(id) = self.issued.keys().find(|id| !self.completed.contains(id)) {
                self.fail(&format!("invocation #{id} still pending while {:?}", self.state));
            }
        }
        if self.state == State::Disconnected {
            if let Some(g) = self.open {
                self.fail(&format!("Disconnected with transport #{g} still open"));
            }
            if let Some(at) = self.conn.next_timeout() {
                self.fail(&format!("Disconnected with a deadline at {at}"));
            }
            if self.start_pending {
                self.fail("Disconnected with start() never settled");
            }
        }
    }

    // ----- operations -----

    fn generation(&self, input: &mut Input<'_>, latest: u32) -> u32 {
        match input.byte() % 8 {
            0..=4 => latest,
            5 => latest.wrapping_sub(1),
            6 => latest.wrapping_add(1),
            _ => input.u32(),
        }
    }

    fn payload(&self, json_text: &str) -> Vec<u8> {
        match self.protocol {
            HubProtocol::Json => json_text.as_bytes().to_vec(),
            HubProtocol::MessagePack => transcode::json_to_msgpack(json_text).expect("valid JSON"),
        }
    }

    fn pick_issued(&self, input: &mut Input<'_>) -> String {
        let ids: Vec<u64> = self.issued.keys().copied().collect();
        match input.byte() {
            n if n < 200 && !ids.is_empty() => ids[n as usize % ids.len()].to_string(),
            200..=219 => "not-a-number".into(),
            220..=239 => (self.issued.len() as u64 + u64::from(input.byte())).to_string(),
            _ => ["", "-1", "18446744073709551616", "0x1", " 1", "01"][input.byte() as usize % 6].into(),
        }
    }

    /// One server message in the connection's protocol.
    fn server_message(&mut self, input: &mut Input<'_>, out: &mut Vec<u8>) {
        let value = self.payload(VALUES[input.byte() as usize % VALUES.len()]);
        let args = self.payload(["[]", "[1]", "[{\"x\":\"y\"}]", "[null,\"\\u00e9\"]"][input.byte() as usize % 4]);
        let id = self.pick_issued(input);
        let error = ["boom", "", "\u{1F600}"][input.byte() as usize % 3];
        let target = ["Hello", "pushed", "", "ImageGenerationProgress"][input.byte() as usize % 4];
        let server_id = (input.byte() % 2 == 0).then(|| u64::from(input.byte()).to_string());
        let message = match input.byte() % 11 {
            0 | 1 => HubMessage::Completion(Completion {
                headers: vec![],
                invocation_id: Cow::Owned(id),
                outcome: match input.byte() % 3 {
                    0 => Outcome::Void,
                    1 => Outcome::Result(Raw(&value)),
                    _ => Outcome::Error(error.into()),
                },
            }),
            2 | 3 => HubMessage::StreamItem(StreamItem { headers: vec![], invocation_id: Cow::Owned(id), item: Raw(&value) }),
            4 => HubMessage::Invocation(Invocation {
                headers: vec![("h".into(), "v".into())],
                invocation_id: server_id.as_deref().map(Cow::Borrowed),
                target: target.into(),
                arguments: Raw(&args),
                stream_ids: vec![],
            }),
            5 => HubMessage::Ping,
            6 => HubMessage::Close(Close {
                error: (input.byte() % 2 == 0).then_some(Cow::Borrowed(error)),
                allow_reconnect: input.byte() % 2 == 0,
            }),
            7 => HubMessage::Ack(u64::from(input.byte() % 8)),
            8 => HubMessage::Sequence(u64::from(input.byte() % 8)),
            9 => HubMessage::StreamInvocation(Invocation {
                headers: vec![],
                invocation_id: Some("s".into()),
                target: target.into(),
                arguments: Raw(&args),
                stream_ids: vec!["1".into()],
            }),
            _ => HubMessage::CancelInvocation(CancelInvocation { headers: vec![], invocation_id: Cow::Owned(id) }),
        };
        self.protocol.encode(&message, out);
    }

    /// What the server sends in one transport message.
    fn server_frame(&mut self, input: &mut Input<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        match input.byte() % 14 {
            0 => out.extend_from_slice(b"{}\x1e"),
            1 => {
                out.extend_from_slice(b"{}\x1e");
                self.server_message(input, &mut out);
            }
            2 => out.extend_from_slice(b"{\"error\":\"Requested protocol is not available.\"}\x1e"),
            3 => {
                out.extend_from_slice(input.bytes());
                out.push(0x1e);
            }
            4 => out.extend_from_slice(input.bytes()),
            5..=8 => self.server_message(input, &mut out),
            9 | 10 => {
                for _ in 0..1 + input.byte() % 4 {
                    self.server_message(input, &mut out);
                }
            }
            11 => {
                // A good message with one byte changed.
                self.server_message(input, &mut out);
                if !out.is_empty() {
                    let at = input.byte() as usize % out.len();
                    out[at] = input.byte();
                }
            }
            12 => {
                // A bad record between two good ones.
                self.server_message(input, &mut out);
                match self.protocol {
                    HubProtocol::Json => {
                        out.extend_from_slice(input.bytes());
                        out.push(0x1e);
                    }
                    HubProtocol::MessagePack => {
                        let junk = input.bytes();
                        out.push(junk.len() as u8 & 0x7f);
                        out.extend_from_slice(&junk[..junk.len().min(0x7f)]);
                    }
                }
                self.server_message(input, &mut out);
            }
            _ => {
                // A message cut short.
                self.server_message(input, &mut out);
                let keep = input.byte() as usize % (out.len() + 1);
                out.truncate(keep);
            }
        }
        out
    }

    fn negotiate_body(&mut self, input: &mut Input<'_>) -> Result<Vec<u8>, String> {
        let stateful = if input.byte() % 2 == 0 { ",\"useStatefulReconnect\":true" } else { "" };
        let transports = [
            r#"{"transport":"WebSockets","transferFormats":["Text","Binary"]},{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text","Binary"]}"#,
            r#"{"transport":"WebSockets","transferFormats":["Text","Binary"]}"#,
            r#"{"transport":"ServerSentEvents","transferFormats":["Text"]},{"transport":"LongPolling","transferFormats":["Text"]}"#,
            r#"{"transport":"LongPolling","transferFormats":["Binary"]},{"transport":"WebTransport","transferFormats":["Binary"]}"#,
            "",
        ][input.byte() as usize % 5];
        let body = match input.byte() % 12 {
            0..=4 => format!(
                r#"{{"connectionId":"c{0}","connectionToken":"t{0}","negotiateVersion":1,"availableTransports":[{transports}]{stateful}}}"#,
                input.byte()
            ),
            5 => format!(r#"{{"connectionId":"v0","availableTransports":[{transports}]}}"#),
            6 => r#"{"url":"http://127.0.0.1:5000/other","accessToken":"redirected"}"#.into(),
            7 => [r#"{"url":"ftp://example.com/hub"}"#, r#"{"url":"http://example.com/hub"}"#][input.byte() as usize % 2].into(),
            8 => r#"{"error":"Negotiate failed"}"#.into(),
            9 => r#"{"Url":"/signalr","ConnectionToken":"x","ConnectionId":"y","ProtocolVersion":"1.5"}"#.into(),
            10 => return Err("HTTP 500".into()),
            _ => return Ok(input.bytes().to_vec()),
        };
        Ok(body.into_bytes())
    }

    /// Answers the machine's last request the way a healthy server would.
    fn progress(&mut self, input: &mut Input<'_>) {
        match self.request.take() {
            None if self.state == State::Disconnected => self.start(),
            None if self.asked_policy => {
                self.asked_policy = false;
                self.conn.retry_delay(self.now, Some(10));
            }
            None => {
                if let Some(at) = self.conn.next_timeout() {
                    self.now = self.now.max(at);
                    self.conn.timeout(self.now);
                }
            }
            Some(Request::Token(g)) => self.conn.token_ready(self.now, g, Ok(Some("token".into()))),
            Some(Request::Negotiate(g)) => {
                let stateful = if input.byte() % 2 == 0 { ",\"useStatefulReconnect\":true" } else { "" };
                let body = format!(
                    r#"{{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{{"transport":"WebSockets","transferFormats":["Text","Binary"]}},{{"transport":"LongPolling","transferFormats":["Text","Binary"]}}]{stateful}}}"#
                );
                self.conn.negotiated(self.now, g, Ok(body.as_bytes()));
            }
            Some(Request::Open(g)) => self.conn.transport_opened(self.now, g),
            Some(Request::Handshake(g)) => self.conn.received(self.now, g, b"{}\x1e"),
        }
    }

    fn start(&mut self) {
        let was = self.state;
        match self.conn.start(self.now) {
            Ok(()) if was == State::Disconnected => {
                self.start_pending = true;
                self.connected_since_start = false;
            }
            Ok(()) => self.fail(&format!("start() succeeded while {was:?}")),
            Err(e) if was == State::Disconnected && self.conn.config().validate().is_ok() => {
                self.fail(&format!("start() failed while Disconnected with a valid configuration: {e}"))
            }
            Err(_) => {}
        }
    }

    /// Stops and checks that the machine ends Disconnected with nothing open, pending or scheduled.
    pub fn stop(&mut self) {
        self.note("stop".into());
        self.opens_and_sends = 0;
        self.conn.stop(self.now);
        self.pump();
        if self.opens_and_sends != 0 {
            self.fail("stop() led to an Open or a Send");
        }
        if self.state != State::Disconnected {
            self.fail("not Disconnected after stop()");
        }
        self.request = None;
    }

    fn fire(&mut self) {
        self.conn.timeout(self.now);
        self.pump();
        if let Some(at) = self.conn.next_timeout() {
            if at <= self.now {
                self.fail(&format!("after timeout({}) the next deadline is still {at}: the driver would spin", self.now));
            }
        }
    }

    /// Decodes and applies one operation, then carries out what the machine asked and checks the invariants.
    pub fn step(&mut self, input: &mut Input<'_>) {
        let op = input.byte();
        self.apply(op, input);
    }

    /// Applies operation `op` (taken modulo [`OP_COUNT`]) with its parameters read from `input`.
    pub fn apply(&mut self, op: u8, input: &mut Input<'_>) {
        self.stats.ops += 1;
        let op = op % OP_COUNT;
        self.note(format!("op {op} at t={}", self.now));
        match op {
            0 => self.start(),
            1 => return self.stop(),
            2 | 3 => {
                let kind = [InvokeKind::Invoke, InvokeKind::Send, InvokeKind::Stream][input.byte() as usize % 3];
                let args = ARGUMENTS[input.byte() as usize % ARGUMENTS.len()];
                let target = ["Echo", "", "\u{1e}", "\"quoted\"\\", "\u{1F600}"][input.byte() as usize % 5];
                let state = self.state;
                match self.conn.invoke(self.now, kind, target, args) {
                    Ok(_) if state != State::Connected => self.fail(&format!("invoke() succeeded while {state:?}")),
                    Ok(Some(id)) => {
                        if kind == InvokeKind::Send {
                            self.fail("a send got an invocation id");
                        }
                        if self.issued.insert(id, kind).is_some() {
                            self.fail(&format!("invocation id #{id} handed out twice"));
                        }
                    }
                    Ok(None) if kind != InvokeKind::Send => self.fail("an invoke got no invocation id"),
                    Ok(None) | Err(_) => {}
                }
            }
            4 => {
                let id = self.pick_issued(input).parse().unwrap_or(u64::MAX);
                self.conn.cancel_stream(self.now, id);
            }
            5 => {
                let id = match self.server_ids.last() {
                    Some(id) if input.byte() % 4 != 0 => id.clone(),
                    _ => "x\"\u{1e}".into(),
                };
                let json = VALUES.iter().chain(["nope", "[1,"].iter()).nth(input.byte() as usize % (VALUES.len() + 2)).copied();
                let outcome = match input.byte() % 3 {
                    0 => Ok(json),
                    1 => Ok(None),
                    _ => Err("client failed"),
                };
                self.conn.client_result(self.now, &id, outcome);
            }
            6 => self.conn.network_online(self.now),
            7 => {
                let g = self.generation(input, self.token_gen);
                let token = match input.byte() % 4 {
                    0 | 1 => Ok(Some("token".to_string())),
                    2 => Ok(None),
                    _ => Err("factory threw".to_string()),
                };
                self.conn.token_ready(self.now, g, token);
            }
            8 => {
                let g = self.generation(input, self.negotiate_gen);
                let body = self.negotiate_body(input);
                self.conn.negotiated(self.now, g, body.as_deref().map_err(Clone::clone));
            }
            9 => {
                let g = self.generation(input, self.open_gen);
                self.conn.transport_opened(self.now, g);
            }
            10 => {
                let g = self.generation(input, self.open_gen);
                if self.open == Some(g) {
                    self.open = None;
                }
                if input.byte() % 2 == 0 {
                    self.conn.transport_closed(self.now, g, "closed by the test".into());
                } else {
                    self.conn.frame_refused(self.now, g, "a frame refused by the test".into());
                }
            }
            11..=13 => {
                let g = self.generation(input, self.open_gen);
                let data = self.server_frame(input);
                self.note(format!("received {} bytes on #{g}: {:?}", data.len(), String::from_utf8_lossy(&data).chars().take(80).collect::<String>()));
                self.conn.received(self.now, g, &data);
            }
            14 => return self.fire(),
            15 => {
                self.now += [1, 10, 100, 1_000, 15_000, 30_000, 60_000][input.byte() as usize % 7] + u64::from(input.byte());
                return self.fire();
            }
            16 => {
                if let Some(at) = self.conn.next_timeout() {
                    self.now = self.now.max(at);
                }
                return self.fire();
            }
            17 => {
                let delay = match input.byte() % 4 {
                    0 => None,
                    1 => Some(0),
                    _ => Some(u64::from(input.u16())),
                };
                self.asked_policy = false;
                self.conn.retry_delay(self.now, delay);
            }
            18 | 19 => {
                for _ in 0..1 + input.byte() % 4 {
                    self.progress(input);
                    self.pump();
                }
            }
            _ => {
                // What HubConnection's keepAliveIntervalInMilliseconds / serverTimeoutInMilliseconds setters can
                // store at any time: any positive number, truncated to whole ms (0.5 becomes 0).
                let ms = [0, 1, 100, 30_000][input.byte() as usize % 4];
                let config = self.conn.config_mut();
                if input.byte() % 2 == 0 {
                    config.keep_alive_ms = ms;
                } else {
                    config.server_timeout_ms = ms;
                }
                let line = format!("keep-alive {} ms, server timeout {} ms", config.keep_alive_ms, config.server_timeout_ms);
                self.note(line);
            }
        }
        self.pump();
    }
}

/// Runs one input: a configuration, up to [`MAX_OPS`] operations, then `stop()`.
pub fn run(data: &[u8]) -> Stats {
    let mut input = Input::new(data);
    let (config, auto_policy) = config(&mut input);
    let seed = u64::from(input.u32());
    let mut h = Harness::new(config, auto_policy, seed);
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        h.step(&mut input);
    }
    h.stop();
    h.stop();
    h.stats
}
