//! The connection state machine: start, negotiate, transport fallback, handshake, invocations, keep-alive,
//! server timeout, automatic and stateful reconnect. It does no I/O and reads no clock: the driver feeds it
//! what happened (with the current time in ms) and carries out the [`Action`]s it asks for.

use std::collections::{BTreeMap, VecDeque};

use super::config::Config;
use super::event::{Action, Event, LogLevel, Payload, State};
use super::replay::ReplayBuffer;
use super::retry::{RetryContext, RetryPolicy};
use super::url;
use crate::protocol::negotiate::{self, NegotiateResponse, TransportKind};
use crate::protocol::{
    handshake, json, msgpack, transcode, CancelInvocation, Completion, HubMessage, HubProtocol, Invocation, Outcome,
    ProtocolError, Raw,
};

/// The error that ends pending invocations when the connection goes away.
pub const INVOCATION_CANCELED: &str = "Invocation canceled due to the underlying connection being closed.";
/// How every error about a server record that was skipped begins.
pub const SKIPPED: &str = "Skipped a malformed message from the server";
const NOT_CONNECTED: &str = "Cannot send data if the connection is not in the 'Connected' State.";
const MAX_REDIRECTS: u32 = 100;
const ACK_DELAY_MS: u64 = 1000;

/// How a caller invokes a hub method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokeKind {
    /// Expects a Completion.
    Invoke,
    /// Fire and forget.
    Send,
    /// Expects StreamItems then a Completion.
    Stream,
}

#[derive(Debug)]
enum Phase {
    Idle,
    /// Waiting before the next attempt.
    Waiting { until: u64 },
    /// Waiting for the caller's policy.
    AwaitingPolicy,
    FetchingToken,
    Negotiating { redirects: u32 },
    Opening { candidates: VecDeque<TransportKind>, errors: Vec<String> },
    Handshaking { deadline: u64, buffer: Vec<u8> },
    Open,
    /// Stateful reconnect: reopening the same connection after a drop.
    Resuming { deadline: u64 },
}

#[derive(Debug)]
struct Retry {
    attempts: u32,
    lost_at: u64,
    reason: String,
}

/// A SignalR client connection, driven by the caller.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    state: State,
    phase: Phase,
    generation: u32,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    next_invocation_id: u64,
    pending: BTreeMap<u64, InvokeKind>,
    connection_id: Option<String>,
    access_token: Option<String>,
    base_url: String,
    connect_url: String,
    transport: Option<TransportKind>,
    last_received: u64,
    last_sent: u64,
    retry: Option<Retry>,
    replay: Option<ReplayBuffer>,
    ack_at: Option<u64>,
    random: u64,
    /// While `received_frame` runs: the frame's number, address and length.
    frame: Option<(u32, usize, usize)>,
}

impl Connection {
    /// A disconnected connection with these settings (see [`Config::validate`]); `seed` feeds retry jitter.
    pub fn new(config: Config, seed: u64) -> Self {
        Connection {
            base_url: config.url.clone(),
            config,
            state: State::Disconnected,
            phase: Phase::Idle,
            generation: 0,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            next_invocation_id: 0,
            pending: BTreeMap::new(),
            connection_id: None,
            access_token: None,
            connect_url: String::new(),
            transport: None,
            last_received: 0,
            last_sent: 0,
            retry: None,
            replay: None,
            ack_at: None,
            random: seed | 1,
            frame: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The settings, to change between connections (keep-alive, timeouts, URL).
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The server's id for this connection, once negotiated.
    pub fn connection_id(&self) -> Option<&str> {
        self.connection_id.as_deref()
    }

    /// The transport in use, once connected.
    pub fn transport(&self) -> Option<TransportKind> {
        self.transport
    }

    /// The next thing the driver must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next thing the user should learn.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `timeout` must next be called (ms), if ever.
    pub fn next_timeout(&self) -> Option<u64> {
        let mut next: Option<u64> = None;
        let mut consider = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        match &self.phase {
            Phase::Waiting { until } => consider(*until),
            Phase::Handshaking { deadline, .. } | Phase::Resuming { deadline } => consider(*deadline),
            Phase::Open => {
                consider(self.last_received.saturating_add(self.config.server_timeout_ms.max(1)));
                consider(self.last_sent.saturating_add(self.config.keep_alive_ms.max(1)));
                if let Some(at) = self.ack_at {
                    consider(at);
                }
            }
            _ => {}
        }
        next
    }

    // ----- user commands -----

    /// Starts connecting. Fails if the connection is not disconnected.
    pub fn start(&mut self, now: u64) -> Result<(), String> {
        if self.state != State::Disconnected {
            return Err("Cannot start a connection that is not in the 'Disconnected' state.".into());
        }
        self.config.validate()?;
        self.retry = None;
        self.set_state(State::Connecting);
        self.log(LogLevel::Debug, "Starting connection.".into());
        self.begin_attempt(now);
        Ok(())
    }

    /// Stops the connection: pending work fails, the transport closes, and `Closed` follows if it had started.
    pub fn stop(&mut self, _now: u64) {
        match self.state {
            State::Disconnected | State::Disconnecting => {}
            State::Connecting => {
                self.abandon_transport();
                self.phase = Phase::Idle;
                self.set_state(State::Disconnected);
                self.events.push_back(Event::StartFailed("The connection was stopped during negotiation.".into()));
            }
            State::Reconnecting => {
                self.abandon_transport();
                self.finish_closed(Some("Connection stopped during reconnect delay. Done reconnecting.".into()));
            }
            State::Connected => {
                self.set_state(State::Disconnecting);
                self.abandon_transport();
                self.finish_closed(None);
            }
        }
    }

    /// Invokes `target` with `arguments` (a JSON array text). Returns the invocation id, or `None` for a send.
    pub fn invoke(&mut self, now: u64, kind: InvokeKind, target: &str, arguments: &str) -> Result<Option<u64>, String> {
        if self.state != State::Connected {
            return Err(NOT_CONNECTED.into());
        }
        let args = self.encode_payload(arguments).map_err(|e| format!("Invalid arguments: {e}"))?;
        if !args_is_array(self.config.protocol, &args) {
            return Err("Invalid arguments: expected an array".into());
        }
        if let Some(replay) = &self.replay {
            if replay.buffered_bytes() >= self.config.replay_buffer_bytes {
                return Err("The stateful reconnect buffer is full; wait for the server to acknowledge.".into());
            }
        }
        let id = (kind != InvokeKind::Send).then(|| {
            let id = self.next_invocation_id;
            self.next_invocation_id += 1;
            id
        });
        let id_text = id.map(|i| i.to_string());
        let invocation = Invocation {
            headers: vec![],
            invocation_id: id_text.as_deref().map(Into::into),
            target: target.into(),
            arguments: Raw(&args),
            stream_ids: vec![],
        };
        let message = if kind == InvokeKind::Stream {
            HubMessage::StreamInvocation(invocation)
        } else {
            HubMessage::Invocation(invocation)
        };
        self.send_message(now, &message);
        if let Some(id) = id {
            self.pending.insert(id, kind);
        }
        Ok(id)
    }

    /// Cancels a stream started with `stream`; its Completion follows at once.
    pub fn cancel_stream(&mut self, now: u64, id: u64) {
        if self.pending.get(&id) != Some(&InvokeKind::Stream) {
            return;
        }
        self.pending.remove(&id);
        if self.state == State::Connected {
            let id_text = id.to_string();
            let message = HubMessage::CancelInvocation(CancelInvocation { headers: vec![], invocation_id: id_text.as_str().into() });
            self.send_message(now, &message);
        }
        self.events.push_back(Event::Completion { id, outcome: Ok(None) });
    }

    /// Answers a server invocation that carried an id: `Ok(json)` for a result, `Err(message)` for an error.
    pub fn client_result(&mut self, now: u64, invocation_id: &str, outcome: Result<Option<&str>, &str>) {
        if self.state != State::Connected {
            return;
        }
        let encoded = match outcome {
            Ok(Some(json)) => match self.encode_payload(json) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) => Err(format!("Client result is not serializable: {e}")),
            },
            Ok(None) => Ok(None),
            Err(e) => Err(e.to_string()),
        };
        let outcome = match &encoded {
            Ok(Some(bytes)) => Outcome::Result(Raw(bytes)),
            Ok(None) => Outcome::Result(Raw(if self.config.protocol == HubProtocol::Json { b"null" } else { &[0xc0] })),
            Err(e) => Outcome::Error(e.as_str().into()),
        };
        let message = HubMessage::Completion(Completion { headers: vec![], invocation_id: invocation_id.into(), outcome });
        self.send_message(now, &message);
    }

    /// The browser came back online or the page resumed: skip any reconnect delay.
    pub fn network_online(&mut self, now: u64) {
        if let Phase::Waiting { .. } = self.phase {
            self.log(LogLevel::Information, "Network is back: reconnecting now.".into());
            self.begin_attempt(now);
        }
    }

    // ----- driver reports -----

    /// The access token for this attempt (`Err` when the factory failed).
    pub fn token_ready(&mut self, now: u64, generation: u32, token: Result<Option<String>, String>) {
        if generation != self.generation || !matches!(self.phase, Phase::FetchingToken) {
            return;
        }
        match token {
            Ok(token) => {
                self.access_token = token;
                self.after_token(now);
            }
            Err(e) => self.attempt_failed(now, format!("The access token factory failed: {e}")),
        }
    }

    /// The negotiate response body, or why the request failed.
    pub fn negotiated(&mut self, now: u64, generation: u32, response: Result<&[u8], String>) {
        let Phase::Negotiating { redirects } = self.phase else { return };
        if generation != self.generation {
            return;
        }
        let body = match response {
            Ok(body) => body,
            Err(e) => return self.attempt_failed(now, format!("Failed to complete negotiation with the server: {e}")),
        };
        match negotiate::parse(body) {
            Err(ProtocolError::ClassicSignalR) => self.attempt_failed(
                now,
                "Detected a connection attempt to an ASP.NET SignalR Server. This client only supports connecting to an ASP.NET Core SignalR Server.".into(),
            ),
            Err(e) => self.attempt_failed(now, format!("Invalid negotiation response: {e}")),
            Ok(NegotiateResponse::Error(e)) => self.attempt_failed(now, e),
            Ok(NegotiateResponse::Redirect { url: next, access_token }) => {
                if redirects >= MAX_REDIRECTS {
                    return self.attempt_failed(now, "Negotiate redirection limit exceeded.".into());
                }
                if !url::is_http(&next) {
                    return self.attempt_failed(now, "Negotiate redirected to a URL that is not http(s).".into());
                }
                if !self.config.permits(&next) {
                    return self.attempt_failed(now, format!("Negotiate redirect refused. {}", Config::insecure_error()));
                }
                if access_token.is_some() {
                    self.access_token = access_token;
                }
                self.log(LogLevel::Debug, "Negotiate redirected to another server.".into());
                self.base_url = next;
                self.phase = Phase::Negotiating { redirects: redirects + 1 };
                self.push_negotiate();
            }
            Ok(NegotiateResponse::Negotiated(n)) => {
                let binary = self.config.protocol.is_binary();
                let candidates: VecDeque<TransportKind> = n
                    .available_transports
                    .iter()
                    .filter_map(|t| {
                        let kind = t.transport?;
                        let format_ok = if binary { t.binary && kind != TransportKind::ServerSentEvents } else { t.text };
                        (self.config.transports.allows(kind) && format_ok).then_some(kind)
                    })
                    .collect();
                if candidates.is_empty() {
                    return self.attempt_failed(
                        now,
                        "None of the transports supported by the client are supported by the server.".into(),
                    );
                }
                let Some(id) = n.id_param() else {
                    return self.attempt_failed(now, "Invalid negotiation response: missing connection id".into());
                };
                self.connect_url = url::with_query(&self.base_url, "id", id);
                self.connection_id = n.connection_id.clone();
                self.replay = (self.config.stateful_reconnect && n.use_stateful_reconnect).then(ReplayBuffer::new);
                self.phase = Phase::Opening { candidates, errors: Vec::new() };
                self.open_next(now);
            }
        }
    }

    /// The transport of `generation` is open.
    pub fn transport_opened(&mut self, now: u64, generation: u32) {
        if generation != self.generation {
            return;
        }
        match &mut self.phase {
            Phase::Opening { candidates, .. } => {
                self.transport = candidates.pop_front();
                let version = if self.replay.is_some() { 2 } else { 1 };
                let request = handshake::request(self.config.protocol, version);
                self.phase = Phase::Handshaking { deadline: now + self.config.handshake_timeout_ms, buffer: Vec::new() };
                self.last_received = now;
                self.push_send(now, request, false);
            }
            Phase::Resuming { .. } => {
                self.phase = Phase::Open;
                self.last_received = now;
                self.log(LogLevel::Information, "Stateful reconnect: connection resumed.".into());
                if let Some(replay) = &self.replay {
                    let (first, messages) = replay.resend();
                    let mut data = Vec::new();
                    self.config.protocol.encode(&HubMessage::Sequence(first), &mut data);
                    for m in messages {
                        data.extend_from_slice(m);
                    }
                    let binary = self.config.protocol.is_binary();
                    self.push_send(now, data, binary);
                }
            }
            _ => {}
        }
    }

    /// The transport of `generation` failed to open or closed, with a reason.
    pub fn transport_closed(&mut self, now: u64, generation: u32, reason: String) {
        if generation != self.generation {
            return;
        }
        match &mut self.phase {
            Phase::Opening { candidates, errors } => {
                if let Some(kind) = candidates.pop_front() {
                    errors.push(format!("{} failed: {reason}", kind.name()));
                }
                self.open_next(now);
            }
            Phase::Handshaking { .. } => {
                self.attempt_failed(now, format!("The connection closed before the handshake completed: {reason}"))
            }
            Phase::Open => self.lost(now, reason, true),
            Phase::Resuming { .. } => {
                self.replay = None;
                self.lost(now, format!("Stateful reconnect failed: {reason}"), true);
            }
            _ => {}
        }
    }

    /// The transport of `generation` delivered a frame the driver could not take in (above
    /// [`Config::max_frame_bytes`], or beyond memory): the connection is lost, without a stateful resume, since
    /// the server would resend the same frame.
    pub fn frame_refused(&mut self, now: u64, generation: u32, reason: String) {
        if generation == self.generation {
            self.replay = None;
            self.transport_closed(now, generation, reason);
        }
    }

    /// Data received on the transport of `generation`.
    pub fn received(&mut self, now: u64, generation: u32, data: &[u8]) {
        if generation != self.generation {
            return;
        }
        self.last_received = now;
        let rest = match &mut self.phase {
            Phase::Handshaking { buffer, .. } => {
                let held = buffer.len().saturating_add(data.len());
                if held > self.config.max_frame_bytes() {
                    let message = format!("Invalid handshake response: no record separator in the first {held} bytes");
                    return self.attempt_failed(now, message);
                }
                buffer.extend_from_slice(data);
                match handshake::parse_response(buffer) {
                    Ok(None) => return,
                    Ok(Some((handshake::Response::Accepted, used))) => {
                        let rest = buffer.split_off(used);
                        self.handshake_done();
                        rest
                    }
                    Ok(Some((handshake::Response::Rejected(e), _))) => {
                        return self.attempt_failed(now, format!("Server returned handshake error: {e}"));
                    }
                    Err(e) => return self.attempt_failed(now, format!("Invalid handshake response: {e}")),
                }
            }
            Phase::Open => return self.process(now, data),
            _ => return,
        };
        if !rest.is_empty() {
            self.process(now, &rest);
        }
    }

    /// Like [`received`](Self::received) for one whole text frame the driver keeps until the resulting events
    /// are delivered: JSON invocation arguments then come as [`Payload::InFrame`] ranges of `data`, numbered
    /// `frame`, instead of copies.
    pub fn received_frame(&mut self, now: u64, generation: u32, data: &[u8], frame: u32) {
        self.frame = Some((frame, data.as_ptr() as usize, data.len()));
        self.received(now, generation, data);
        self.frame = None;
    }

    /// Time passed: fires whatever is due.
    pub fn timeout(&mut self, now: u64) {
        match self.phase {
            Phase::Waiting { until } if now >= until => self.begin_attempt(now),
            Phase::Handshaking { deadline, .. } if now >= deadline => {
                self.attempt_failed(now, "The server did not complete the handshake in time.".into())
            }
            Phase::Resuming { deadline } if now >= deadline => {
                self.replay = None;
                self.lost(now, "Stateful reconnect timed out.".into(), true);
            }
            Phase::Open => {
                if now >= self.last_received.saturating_add(self.config.server_timeout_ms.max(1)) {
                    return self.lost(now, "Server timeout elapsed without receiving a message from the server.".into(), true);
                }
                if self.ack_at.is_some_and(|at| now >= at) {
                    self.ack_at = None;
                    if let Some(id) = self.replay.as_mut().and_then(ReplayBuffer::take_ack) {
                        self.send_message(now, &HubMessage::Ack(id));
                    }
                }
                if now >= self.last_sent.saturating_add(self.config.keep_alive_ms.max(1)) {
                    self.send_message(now, &HubMessage::Ping);
                }
            }
            _ => {}
        }
    }

    /// The caller's policy answered `AskRetryDelay`: wait this long, or give up with `None`.
    pub fn retry_delay(&mut self, now: u64, delay: Option<u64>) {
        if matches!(self.phase, Phase::AwaitingPolicy) {
            self.apply_retry_delay(now, delay);
        }
    }

    // ----- internals -----

    fn set_state(&mut self, state: State) {
        if self.state != state {
            self.state = state;
            self.events.push_back(Event::StateChanged(state));
        }
    }

    fn log(&mut self, level: LogLevel, message: String) {
        self.events.push_back(Event::Log(level, message));
    }

    fn next_random(&mut self) -> f64 {
        self.random ^= self.random << 13;
        self.random ^= self.random >> 7;
        self.random ^= self.random << 17;
        (self.random >> 11) as f64 / (1u64 << 53) as f64
    }

    fn abandon_transport(&mut self) {
        if matches!(self.phase, Phase::Opening { .. } | Phase::Handshaking { .. } | Phase::Open | Phase::Resuming { .. }) {
            self.actions.push_back(Action::Close);
        }
        self.generation = self.generation.wrapping_add(1);
        self.transport = None;
        self.ack_at = None;
    }

    fn begin_attempt(&mut self, now: u64) {
        self.generation = self.generation.wrapping_add(1);
        self.base_url = self.config.url.clone();
        self.access_token = None;
        self.connection_id = None;
        self.replay = None;
        if self.config.uses_access_token {
            self.phase = Phase::FetchingToken;
            self.actions.push_back(Action::FetchToken { generation: self.generation });
        } else {
            self.after_token(now);
        }
    }

    fn after_token(&mut self, now: u64) {
        if self.config.skip_negotiation {
            self.connect_url = self.base_url.clone();
            self.phase = Phase::Opening { candidates: VecDeque::from([TransportKind::WebSockets]), errors: Vec::new() };
            self.open_next(now);
        } else {
            self.phase = Phase::Negotiating { redirects: 0 };
            self.push_negotiate();
        }
    }

    fn push_negotiate(&mut self) {
        let url = url::negotiate(&self.base_url, self.config.stateful_reconnect);
        self.actions.push_back(Action::Negotiate { generation: self.generation, url, access_token: self.access_token.clone() });
    }

    fn open_next(&mut self, now: u64) {
        let Phase::Opening { candidates, errors } = &mut self.phase else { return };
        match candidates.front() {
            Some(&transport) => {
                self.generation = self.generation.wrapping_add(1);
                self.actions.push_back(Action::Open {
                    generation: self.generation,
                    transport,
                    url: self.connect_url.clone(),
                    binary: self.config.protocol.is_binary(),
                    access_token: self.access_token.clone(),
                });
            }
            None => {
                let message = if errors.len() == 1 {
                    errors.remove(0)
                } else {
                    format!("Unable to connect to the server with any of the available transports. {}", errors.join(" "))
                };
                self.attempt_failed(now, message);
            }
        }
    }

    fn handshake_done(&mut self) {
        self.phase = Phase::Open;
        let was = self.state;
        self.set_state(State::Connected);
        let transport = self.transport.map_or("", TransportKind::name);
        self.log(LogLevel::Information, format!("Connected using {transport}."));
        if was == State::Reconnecting {
            self.retry = None;
            self.events.push_back(Event::Reconnected(self.connection_id.clone()));
        } else {
            self.retry = None;
            self.events.push_back(Event::Started);
        }
    }

    fn attempt_failed(&mut self, now: u64, reason: String) {
        self.abandon_transport();
        self.log(LogLevel::Warning, format!("Connection attempt failed: {reason}"));
        let retrying = self.state == State::Reconnecting
            || (self.state == State::Connecting && self.config.retry_start && self.config.reconnect != RetryPolicy::Never);
        if !retrying {
            self.phase = Phase::Idle;
            self.set_state(State::Disconnected);
            self.events.push_back(Event::StartFailed(reason));
            return;
        }
        match &mut self.retry {
            Some(retry) => {
                retry.attempts += 1;
                retry.reason = reason;
            }
            None => self.retry = Some(Retry { attempts: 0, lost_at: now, reason }),
        }
        self.schedule_retry(now);
    }

    /// The connection was lost after the handshake.
    fn lost(&mut self, now: u64, reason: String, allow_reconnect: bool) {
        if allow_reconnect && self.replay.is_some() && self.transport == Some(TransportKind::WebSockets) {
            if let Phase::Open = self.phase {
                self.log(LogLevel::Information, format!("Connection lost ({reason}); resuming with stateful reconnect."));
                if let Some(replay) = &mut self.replay {
                    replay.disconnected();
                }
                self.actions.push_back(Action::Close);
                self.generation = self.generation.wrapping_add(1);
                self.phase = Phase::Resuming { deadline: now + self.config.handshake_timeout_ms };
                self.actions.push_back(Action::Open {
                    generation: self.generation,
                    transport: TransportKind::WebSockets,
                    url: self.connect_url.clone(),
                    binary: self.config.protocol.is_binary(),
                    access_token: self.access_token.clone(),
                });
                return;
            }
        }
        self.abandon_transport();
        self.fail_pending(INVOCATION_CANCELED);
        if allow_reconnect && self.config.reconnect != RetryPolicy::Never {
            self.set_state(State::Reconnecting);
            self.log(LogLevel::Warning, format!("Connection lost: {reason}. Reconnecting."));
            self.events.push_back(Event::Reconnecting(Some(reason.clone())));
            self.retry = Some(Retry { attempts: 0, lost_at: now, reason });
            self.schedule_retry(now);
        } else {
            self.finish_closed(Some(reason));
        }
    }

    fn schedule_retry(&mut self, now: u64) {
        let Some(retry) = &self.retry else { return };
        let context = RetryContext {
            previous_retry_count: retry.attempts,
            elapsed_ms: now.saturating_sub(retry.lost_at),
            reason: retry.reason.clone(),
        };
        let random = self.next_random();
        match self.config.reconnect.next_delay(&context, random) {
            Some(delay) => self.apply_retry_delay(now, delay),
            None => {
                self.phase = Phase::AwaitingPolicy;
                self.actions.push_back(Action::AskRetryDelay(context));
            }
        }
    }

    fn apply_retry_delay(&mut self, now: u64, delay: Option<u64>) {
        match delay {
            Some(0) => self.begin_attempt(now),
            Some(ms) => {
                self.log(LogLevel::Information, format!("Next connection attempt in {ms} ms."));
                self.phase = Phase::Waiting { until: now.saturating_add(ms) };
            }
            None => {
                let reason = self.retry.take().map(|r| r.reason).unwrap_or_default();
                if self.state == State::Connecting {
                    self.phase = Phase::Idle;
                    self.set_state(State::Disconnected);
                    self.events.push_back(Event::StartFailed(reason));
                } else {
                    self.log(LogLevel::Warning, "Reconnect retries have been exhausted.".into());
                    self.finish_closed(Some(reason));
                }
            }
        }
    }

    fn finish_closed(&mut self, error: Option<String>) {
        self.fail_pending(INVOCATION_CANCELED);
        self.phase = Phase::Idle;
        self.retry = None;
        self.replay = None;
        self.set_state(State::Disconnected);
        self.events.push_back(Event::Closed(error));
    }

    fn fail_pending(&mut self, message: &str) {
        for (id, _) in core::mem::take(&mut self.pending) {
            self.events.push_back(Event::Completion { id, outcome: Err(message.into()) });
        }
    }

    fn encode_payload(&self, json_text: &str) -> Result<Vec<u8>, ProtocolError> {
        match self.config.protocol {
            HubProtocol::Json => json::validate_value(json_text).map(|v| v.as_bytes().to_vec()),
            HubProtocol::MessagePack => transcode::json_to_msgpack(json_text),
        }
    }

    fn decode_payload(&self, raw: Raw<'_>) -> Result<String, ProtocolError> {
        match self.config.protocol {
            HubProtocol::Json => Ok(raw.json_text().to_string()),
            HubProtocol::MessagePack => transcode::msgpack_to_json(raw.bytes()),
        }
    }

    /// A JSON payload inside the frame being received is passed by position; anything else as text.
    fn payload(&self, raw: Raw<'_>) -> Result<Payload, ProtocolError> {
        if let (HubProtocol::Json, Some((frame, base, len))) = (self.config.protocol, self.frame) {
            let bytes = raw.bytes();
            let start = (bytes.as_ptr() as usize).wrapping_sub(base);
            if start <= len && bytes.len() <= len - start {
                return Ok(Payload::InFrame { frame, start, end: start + bytes.len() });
            }
        }
        self.decode_payload(raw).map(Payload::Text)
    }

    fn send_message(&mut self, now: u64, message: &HubMessage<'_>) {
        let mut data = Vec::new();
        self.config.protocol.encode(message, &mut data);
        let resuming = matches!(self.phase, Phase::Resuming { .. });
        if message.is_sequenced() {
            if let Some(replay) = &mut self.replay {
                replay.record_sent(&data);
            }
        }
        if !resuming {
            let binary = self.config.protocol.is_binary();
            self.push_send(now, data, binary);
        }
    }

    fn push_send(&mut self, now: u64, data: Vec<u8>, binary: bool) {
        self.last_sent = now;
        self.actions.push_back(Action::Send { data, binary });
    }

    fn process(&mut self, now: u64, data: &[u8]) {
        let limit = self.config.max_message_bytes;
        match self.config.protocol {
            HubProtocol::Json => {
                for record in json::records(data) {
                    match record {
                        Ok(r) if r.len() > limit => self.bad_record(ProtocolError::TooLarge(r.len() as u64)),
                        Ok(r) => match json::decode(r) {
                            Ok(m) => self.dispatch(now, m),
                            Err(e) => self.bad_record(e),
                        },
                        Err(e) => self.bad_record(e),
                    }
                    if !matches!(self.phase, Phase::Open) {
                        return;
                    }
                }
            }
            HubProtocol::MessagePack => {
                for record in msgpack::records(data) {
                    match record {
                        Ok(r) if r.len() > limit => self.bad_record(ProtocolError::TooLarge(r.len() as u64)),
                        Ok(r) => match msgpack::decode(r) {
                            Ok(m) => self.dispatch(now, m),
                            Err(e) => self.bad_record(e),
                        },
                        Err(e) => {
                            return self.lost(now, format!("Invalid MessagePack framing from the server: {e}"), true);
                        }
                    }
                    if !matches!(self.phase, Phase::Open) {
                        return;
                    }
                }
            }
        }
    }

    fn bad_record(&mut self, error: ProtocolError) {
        let message = format!("{SKIPPED}: {error}");
        self.log(LogLevel::Error, message.clone());
        self.events.push_back(Event::ProtocolError(message));
    }

    fn dispatch(&mut self, now: u64, message: HubMessage<'_>) {
        if let Some(replay) = &mut self.replay {
            match &message {
                HubMessage::Ack(id) => return replay.acknowledge(*id),
                HubMessage::Sequence(id) => {
                    if !replay.reset_sequence(*id) {
                        self.replay = None;
                        self.lost(now, "Sequence ID greater than amount of messages we've received.".into(), false);
                    }
                    return;
                }
                m if m.is_sequenced() => {
                    if !replay.accept_received() {
                        return;
                    }
                    if replay.ack_pending() && self.ack_at.is_none() {
                        self.ack_at = Some(now + ACK_DELAY_MS);
                    }
                }
                _ => {}
            }
        }
        match message {
            HubMessage::Invocation(m) => match self.payload(m.arguments) {
                Ok(arguments) => self.events.push_back(Event::Invocation {
                    target: m.target.into_owned(),
                    arguments,
                    invocation_id: m.invocation_id.map(|c| c.into_owned()),
                }),
                Err(e) => self.bad_record(e),
            },
            HubMessage::StreamItem(m) => {
                let Some(id) = self.pending_id(&m.invocation_id, Some(InvokeKind::Stream)) else { return };
                match self.decode_payload(m.item) {
                    Ok(item) => self.events.push_back(Event::StreamItem { id, item }),
                    Err(e) => self.bad_record(e),
                }
            }
            HubMessage::Completion(m) => {
                let Some(id) = self.pending_id(&m.invocation_id, None) else { return };
                let kind = self.pending.remove(&id);
                let outcome = match m.outcome {
                    Outcome::Void => Ok(None),
                    Outcome::Error(e) => Err(e.into_owned()),
                    Outcome::Result(raw) if kind == Some(InvokeKind::Stream) => {
                        let _ = raw;
                        Ok(None)
                    }
                    Outcome::Result(raw) => match self.payload(raw) {
                        Ok(json) => Ok(Some(json)),
                        Err(e) => Err(format!("Invalid result from the server: {e}")),
                    },
                };
                self.events.push_back(Event::Completion { id, outcome });
            }
            HubMessage::Ping | HubMessage::Ack(_) | HubMessage::Sequence(_) => {}
            HubMessage::Close(close) => {
                let reason = match close.error {
                    Some(e) => format!("Server returned an error on close: {e}"),
                    None => "The server closed the connection.".into(),
                };
                if close.allow_reconnect {
                    // A server that asks us to reconnect wants a fresh connection, not a resume.
                    self.replay = None;
                }
                self.lost(now, reason, close.allow_reconnect);
            }
            HubMessage::StreamInvocation(_) | HubMessage::CancelInvocation(_) => {
                self.log(LogLevel::Warning, "Ignored a client-to-server stream message this client did not start.".into());
            }
        }
    }

    fn pending_id(&mut self, id: &str, expect: Option<InvokeKind>) -> Option<u64> {
        let parsed = id.parse::<u64>().ok().filter(|n| match (self.pending.get(n), expect) {
            (Some(kind), Some(want)) => *kind == want,
            (Some(_), None) => true,
            (None, _) => false,
        });
        if parsed.is_none() {
            self.log(LogLevel::Warning, format!("Ignored a message for unknown invocation '{}'.", truncate(id, 64)));
        }
        parsed
    }
}

fn args_is_array(protocol: HubProtocol, args: &[u8]) -> bool {
    match protocol {
        HubProtocol::Json => args.first() == Some(&b'['),
        HubProtocol::MessagePack => matches!(args.first(), Some(0x90..=0x9f | 0xdc | 0xdd)),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
