//! Reading `ConduitClientOptions`: the seed's options plus what real users need, each checked.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::js;
use super::logger::Logger;
use super::options::protocol;
use crate::conduit::api;
use crate::connection::{LogLevel, TransportSet, DEFAULT_MAX_MESSAGE_BYTES};
use crate::protocol::negotiate::TransportKind;
use crate::protocol::HubProtocol;

const WHAT: &str = "options";

/// The client's settings.
pub struct ClientOptions {
    /// The long-lived virtual key, when the page has one.
    pub virtual_key: Option<String>,
    /// Returns a (short-lived) key for every connect and HTTP call, instead of the virtual key.
    pub access_token_factory: Option<Function>,
    /// The Conduit base URL, without a trailing slash.
    pub base_url: String,
    /// Automatic reconnect attempts before giving up.
    pub max_reconnect_attempts: u32,
    /// Log output.
    pub logger: Logger,
    /// Hub protocol.
    pub protocol: HubProtocol,
    /// Allowed transports.
    pub transports: TransportSet,
    /// Connect WebSockets directly without negotiate (the seed's behaviour, the default).
    pub skip_negotiation: bool,
    /// Server timeout (ms); the deployed server pings every 30 s.
    pub server_timeout_ms: u64,
    /// Keep-alive interval (ms).
    pub keep_alive_ms: u64,
    /// HTTP request timeout (ms).
    pub request_timeout_ms: u64,
    /// Send cookies with requests.
    pub with_credentials: bool,
    /// Finished tasks kept in the registry.
    pub max_finished_tasks: usize,
    /// Skip server messages larger than this many bytes.
    pub max_message_bytes: usize,
    /// Allow plain http/ws to hosts other than this machine.
    pub allow_insecure: bool,
}

/// Parses and checks the constructor's options.
pub fn parse(options: &JsValue) -> Result<ClientOptions, JsValue> {
    if !options.is_object() {
        return Err(js::type_error("ConduitRealtimeClient needs an options object with a virtualKey."));
    }
    let virtual_key = match js::get(options, "virtualKey") {
        None => None,
        Some(v) => match v.as_string() {
            Some(k) if !k.trim().is_empty() => Some(k),
            Some(_) => return Err(js::type_error("options.virtualKey must not be empty.")),
            None => return Err(js::type_error("options.virtualKey must be a string.")),
        },
    };
    let access_token_factory = js::function(options, "accessTokenFactory", WHAT)?;
    if virtual_key.is_none() && access_token_factory.is_none() {
        return Err(js::type_error("options.virtualKey (or options.accessTokenFactory) is required."));
    }
    let base_url = match js::get(options, "baseUrl") {
        None => "https://api.conduit.im".to_string(),
        Some(v) => {
            let url = v.as_string().ok_or_else(|| js::type_error("options.baseUrl must be a string."))?;
            api::normalize_base_url(&url).map_err(|e| js::type_error(&format!("options.{e}")))?
        }
    };
    let allow_insecure = js::boolean(options, "allowInsecure", WHAT)?.unwrap_or(false);
    if !allow_insecure && !crate::connection::url::is_secure(&base_url) && !crate::connection::url::is_loopback(&base_url) {
        return Err(js::type_error(
            "options.baseUrl uses plain http to a host other than this machine, which would send the key unencrypted. Use https, or set allowInsecure: true.",
        ));
    }
    let transports = match js::get(options, "transport") {
        None => TransportSet::only(TransportKind::WebSockets),
        Some(t) => {
            let name = t.as_string().unwrap_or_default();
            match TransportKind::from_name(&name) {
                Some(kind) => TransportSet::only(kind),
                None if name == "auto" => TransportSet::ALL,
                None => return Err(js::type_error("options.transport must be 'WebSockets', 'ServerSentEvents', 'LongPolling' or 'auto'.")),
            }
        }
    };
    let skip_default = transports.is_web_sockets_only() && js::get(options, "transport").is_none();
    let skip_negotiation = js::boolean(options, "skipNegotiation", WHAT)?.unwrap_or(skip_default);
    if skip_negotiation && !transports.is_web_sockets_only() {
        return Err(js::type_error("options.skipNegotiation needs the WebSockets transport."));
    }
    let logger = match js::get(options, "logger").or_else(|| js::get(options, "logLevel")) {
        Some(l) => Logger::from_js(&l)?,
        None if js::boolean(options, "enableLogging", WHAT)? == Some(true) => Logger::from_js(&JsValue::from(LogLevel::Information as u32))?,
        None => Logger::default_console(),
    };
    let max_reconnect_attempts = js::number(options, "maxReconnectAttempts", WHAT)?.unwrap_or(5).min(u32::MAX as u64) as u32;
    Ok(ClientOptions {
        virtual_key,
        access_token_factory,
        base_url,
        max_reconnect_attempts,
        logger,
        protocol: js::get(options, "protocol").map(|p| protocol(&p)).transpose()?.unwrap_or(HubProtocol::Json),
        transports,
        skip_negotiation,
        server_timeout_ms: positive(options, "serverTimeoutInMilliseconds")?.unwrap_or(60_000),
        keep_alive_ms: positive(options, "keepAliveIntervalInMilliseconds")?.unwrap_or(15_000),
        request_timeout_ms: positive(options, "requestTimeoutInMilliseconds")?.unwrap_or(30_000),
        with_credentials: js::boolean(options, "withCredentials", WHAT)?.unwrap_or(false),
        max_finished_tasks: js::number(options, "maxFinishedTasks", WHAT)?.unwrap_or(500) as usize,
        max_message_bytes: js::number(options, "maxMessageSize", WHAT)?.map_or(DEFAULT_MAX_MESSAGE_BYTES, |n| n as usize),
        allow_insecure,
    })
}

fn positive(options: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    match js::number(options, key, WHAT)? {
        Some(0) => Err(js::type_error(&format!("options.{key} must be positive."))),
        other => Ok(other),
    }
}
