//! Reading `HubConnectionOptions` (the object the constructor and the builder take) into a connection
//! configuration, with a clear error for every wrong value.

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use super::js;
use super::logger::Logger;
use crate::browser::driver::Hooks;
use crate::browser::http::HttpOptions;
use crate::connection::{Config, RetryPolicy, TransportSet, DEFAULT_DELAYS};
use crate::protocol::negotiate::TransportKind;
use crate::protocol::HubProtocol;

const WHAT: &str = "options";

/// Everything a connection needs from its options.
pub struct Parsed {
    /// The connection settings.
    pub config: Config,
    /// Callbacks and HTTP settings.
    pub hooks: Hooks,
    /// Log output.
    pub logger: Logger,
}

/// Parses `options` for a connection to `url`; `defaults` sets library-specific defaults first.
pub fn parse(url: &str, options: &JsValue, with_credentials_default: bool) -> Result<Parsed, JsValue> {
    if !options.is_undefined() && !options.is_null() && !options.is_object() {
        return Err(js::type_error("options must be an object."));
    }
    let mut config = Config::new(url);
    if let Some(t) = js::get(options, "transport") {
        config.transports = transports(&t)?;
    }
    config.skip_negotiation = js::boolean(options, "skipNegotiation", WHAT)?.unwrap_or(false);
    let token_factory = js::function(options, "accessTokenFactory", WHAT)?;
    config.uses_access_token = token_factory.is_some();
    if let Some(p) = js::get(options, "protocol") {
        config.protocol = protocol(&p)?;
    }
    if let Some(r) = js::get(options, "automaticReconnect") {
        config.reconnect = reconnect(&r)?;
    }
    let retry_policy = js::get(options, "automaticReconnect")
        .and_then(|r| js::get(&r, "nextRetryDelayInMilliseconds"))
        .and_then(|f| f.dyn_into::<Function>().ok());
    config.retry_start = js::boolean(options, "retryStart", WHAT)?.unwrap_or(false);
    if let Some(ms) = js::number(options, "serverTimeoutInMilliseconds", WHAT)? {
        config.server_timeout_ms = ms;
    }
    if let Some(ms) = js::number(options, "keepAliveIntervalInMilliseconds", WHAT)? {
        config.keep_alive_ms = ms;
    }
    if let Some(ms) = js::number(options, "handshakeTimeoutInMilliseconds", WHAT)? {
        config.handshake_timeout_ms = ms;
    }
    if let Some(s) = js::get(options, "statefulReconnect") {
        config.stateful_reconnect = s.as_bool().unwrap_or(true);
        if let Some(size) = js::number(&s, "bufferSize", "options.statefulReconnect")? {
            config.replay_buffer_bytes = size as usize;
        }
    }
    config.allow_insecure = js::boolean(options, "allowInsecure", WHAT)?.unwrap_or(false);
    if let Some(size) = js::number(options, "maxMessageSize", WHAT)? {
        config.max_message_bytes = size as usize;
    }
    let http = HttpOptions {
        headers: headers(options)?,
        with_credentials: js::boolean(options, "withCredentials", WHAT)?.unwrap_or(with_credentials_default),
        timeout_ms: js::number(options, "timeout", WHAT)?.unwrap_or(100_000),
        max_body_bytes: 0,
    };
    let logger = match js::get(options, "logLevel").or_else(|| js::get(options, "logger")) {
        Some(l) => Logger::from_js(&l)?,
        None => Logger::default_console(),
    };
    config.validate().map_err(|e| js::type_error(&e))?;
    Ok(Parsed { config, hooks: Hooks { token_factory, retry_policy, http }, logger })
}

fn transports(value: &JsValue) -> Result<TransportSet, JsValue> {
    let none = TransportSet { web_sockets: false, server_sent_events: false, long_polling: false };
    let invalid = || js::type_error("options.transport must be 'WebSockets', 'ServerSentEvents', 'LongPolling', an array of them, or HttpTransportType flags.");
    if let Some(flags) = value.as_f64() {
        let flags = flags as u32;
        if flags == 0 || flags > 7 {
            return Err(invalid());
        }
        return Ok(TransportSet { web_sockets: flags & 1 != 0, server_sent_events: flags & 2 != 0, long_polling: flags & 4 != 0 });
    }
    let names: Vec<JsValue> = if Array::is_array(value) { Array::from(value).iter().collect() } else { vec![value.clone()] };
    let mut set = none;
    for name in names {
        let kind = name.as_string().and_then(|n| TransportKind::from_name(&n)).ok_or_else(invalid)?;
        match kind {
            TransportKind::WebSockets => set.web_sockets = true,
            TransportKind::ServerSentEvents => set.server_sent_events = true,
            TransportKind::LongPolling => set.long_polling = true,
        }
    }
    if set == none {
        return Err(invalid());
    }
    Ok(set)
}

/// Reads a protocol name or an object with a `name` (like the official `MessagePackHubProtocol`).
pub fn protocol(value: &JsValue) -> Result<HubProtocol, JsValue> {
    let name = value.as_string().or_else(|| js::get(value, "name").and_then(|n| n.as_string()));
    match name.as_deref() {
        Some("json") => Ok(HubProtocol::Json),
        Some("messagepack") => Ok(HubProtocol::MessagePack),
        _ => Err(js::type_error("options.protocol must be 'json' or 'messagepack'.")),
    }
}

/// Reads `automaticReconnect`: `true`, a delay array, backoff options, or a policy object.
pub fn reconnect(value: &JsValue) -> Result<RetryPolicy, JsValue> {
    if let Some(on) = value.as_bool() {
        return Ok(if on { RetryPolicy::Delays(DEFAULT_DELAYS.to_vec()) } else { RetryPolicy::Never });
    }
    if Array::is_array(value) {
        let delays: Option<Vec<u64>> = Array::from(value)
            .iter()
            .map(|d| d.as_f64().filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64))
            .collect();
        return delays
            .map(RetryPolicy::Delays)
            .ok_or_else(|| js::type_error("Reconnect delays must be non-negative numbers."));
    }
    if js::get(value, "nextRetryDelayInMilliseconds").is_some() {
        return match js::get(value, "nextRetryDelayInMilliseconds").map(|f| f.is_function()) {
            Some(true) => Ok(RetryPolicy::External),
            _ => Err(js::type_error("nextRetryDelayInMilliseconds must be a function.")),
        };
    }
    if value.is_object() {
        const W: &str = "options.automaticReconnect";
        let max_attempts = js::number(value, "maxAttempts", W)?.map(|n| n.min(u32::MAX as u64) as u32);
        return Ok(RetryPolicy::Exponential {
            initial_ms: js::number(value, "initialDelayMs", W)?.unwrap_or(1_000),
            max_ms: js::number(value, "maxDelayMs", W)?.unwrap_or(30_000),
            max_attempts,
            jitter_ms: js::number(value, "jitterMs", W)?.unwrap_or(1_000),
        });
    }
    Err(js::type_error(
        "automaticReconnect must be true, an array of delays, backoff options, or an object with nextRetryDelayInMilliseconds.",
    ))
}

fn headers(options: &JsValue) -> Result<Vec<(String, String)>, JsValue> {
    let Some(h) = js::get(options, "headers") else { return Ok(Vec::new()) };
    if !h.is_object() {
        return Err(js::type_error("options.headers must be an object of strings."));
    }
    let mut out = Vec::new();
    for entry in js_sys::Object::entries(h.unchecked_ref()).iter() {
        let pair = Array::from(&entry);
        match (pair.get(0).as_string(), pair.get(1).as_string()) {
            (Some(k), Some(v)) => out.push((k, v)),
            _ => return Err(js::type_error("options.headers must be an object of strings.")),
        }
    }
    Ok(out)
}
