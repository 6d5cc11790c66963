//! Everything a connection is configured with, with the official client's defaults.

use super::retry::RetryPolicy;
use crate::protocol::negotiate::TransportKind;
use crate::protocol::HubProtocol;

/// The transports a caller allows, tried in the server's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportSet {
    /// WebSockets allowed.
    pub web_sockets: bool,
    /// Server-Sent Events allowed.
    pub server_sent_events: bool,
    /// Long polling allowed.
    pub long_polling: bool,
}

impl TransportSet {
    /// Every transport.
    pub const ALL: TransportSet = TransportSet { web_sockets: true, server_sent_events: true, long_polling: true };

    /// Only this transport.
    pub fn only(kind: TransportKind) -> Self {
        TransportSet {
            web_sockets: kind == TransportKind::WebSockets,
            server_sent_events: kind == TransportKind::ServerSentEvents,
            long_polling: kind == TransportKind::LongPolling,
        }
    }

    /// Whether `kind` is allowed.
    pub fn allows(self, kind: TransportKind) -> bool {
        match kind {
            TransportKind::WebSockets => self.web_sockets,
            TransportKind::ServerSentEvents => self.server_sent_events,
            TransportKind::LongPolling => self.long_polling,
        }
    }

    /// Whether exactly WebSockets and nothing else is allowed.
    pub fn is_web_sockets_only(self) -> bool {
        self == TransportSet::only(TransportKind::WebSockets)
    }
}

/// A connection's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The hub URL (http or https).
    pub url: String,
    /// JSON or MessagePack.
    pub protocol: HubProtocol,
    /// Which transports may be used.
    pub transports: TransportSet,
    /// Connect a WebSocket directly, without negotiate (WebSockets only).
    pub skip_negotiation: bool,
    /// Whether an access token is fetched (from the caller's factory) before every connect.
    pub uses_access_token: bool,
    /// Send a Ping after this long without sending anything (ms).
    pub keep_alive_ms: u64,
    /// Give the connection up after this long without hearing from the server (ms).
    pub server_timeout_ms: u64,
    /// Give a handshake (or a stateful resume) up after this long (ms).
    pub handshake_timeout_ms: u64,
    /// When to reconnect after a lost connection.
    pub reconnect: RetryPolicy,
    /// Retry a failed initial `start()` with the reconnect policy instead of failing at once.
    pub retry_start: bool,
    /// Ask the server for stateful reconnect (WebSockets only).
    pub stateful_reconnect: bool,
    /// Stateful reconnect: bytes of unacknowledged messages kept for replay before sends are refused.
    pub replay_buffer_bytes: usize,
    /// Incoming records larger than this are skipped with an error (frames: see [`Config::max_frame_bytes`]).
    pub max_message_bytes: usize,
    /// Allow unencrypted http/ws to hosts other than this machine.
    pub allow_insecure: bool,
}

const INSECURE: &str =
    "Refusing plain http/ws to a host other than this machine: tokens would travel unencrypted. Use https, or set allowInsecure.";

/// Incoming records above this many bytes are skipped unless configured otherwise.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The largest transport frame (WebSocket message, Server-Sent Event, poll answer) or HTTP body taken in when
/// records may have `max_message_bytes`: a frame may carry several records, so four at the largest size, and never
/// less than 64 KiB, so that negotiate answers and handshakes fit whatever the record limit.
pub fn frame_limit(max_message_bytes: usize) -> usize {
    max_message_bytes.saturating_mul(4).max(64 * 1024)
}

impl Config {
    /// The largest transport frame taken in: see [`frame_limit`].
    pub fn max_frame_bytes(&self) -> usize {
        frame_limit(self.max_message_bytes)
    }

    /// Whether connecting to `url` is allowed: encrypted, or to this machine, or insecure allowed.
    pub fn permits(&self, url: &str) -> bool {
        self.allow_insecure || super::url::is_secure(url) || super::url::is_loopback(url)
    }

    /// The error for a URL that [`Config::permits`] refuses.
    pub fn insecure_error() -> &'static str {
        INSECURE
    }

    /// Defaults of the official client for `url`: JSON, every transport, 15 s keep-alive, 30 s server timeout,
    /// no automatic reconnect.
    pub fn new(url: impl Into<String>) -> Self {
        Config {
            url: url.into(),
            protocol: HubProtocol::Json,
            transports: TransportSet::ALL,
            skip_negotiation: false,
            uses_access_token: false,
            keep_alive_ms: 15_000,
            server_timeout_ms: 30_000,
            handshake_timeout_ms: 15_000,
            reconnect: RetryPolicy::Never,
            retry_start: false,
            stateful_reconnect: false,
            replay_buffer_bytes: 100_000,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            allow_insecure: false,
        }
    }

    /// Checks the settings, returning a message for the first problem found.
    pub fn validate(&self) -> Result<(), String> {
        if !super::url::is_http(&self.url) {
            return Err("The hub URL must be an absolute http:// or https:// URL.".into());
        }
        if !self.permits(&self.url) {
            return Err(INSECURE.into());
        }
        if self.skip_negotiation && !self.transports.is_web_sockets_only() {
            return Err("Negotiation can only be skipped when using the WebSocket transport directly.".into());
        }
        if !(self.transports.web_sockets || self.transports.server_sent_events || self.transports.long_polling) {
            return Err("At least one transport must be allowed.".into());
        }
        if self.keep_alive_ms == 0 || self.server_timeout_ms == 0 || self.handshake_timeout_ms == 0 {
            return Err("Timeouts and the keep-alive interval must be positive.".into());
        }
        if self.server_timeout_ms < self.keep_alive_ms {
            return Err("The server timeout must not be shorter than the keep-alive interval.".into());
        }
        Ok(())
    }
}
