//! `HubConnectionBuilder`: the official client's fluent way to configure a `HubConnection`. Every method
//! writes into one options object, read by the same parser as the constructor's options.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Object;
use wasm_bindgen::prelude::*;

use super::hub_connection::HubConnection;
use super::js;

/// Log levels, numbered as in `@microsoft/signalr`.
#[wasm_bindgen]
#[derive(Clone, Copy)]
pub enum LogLevel {
    /// Very detailed.
    Trace = 0,
    /// For debugging.
    Debug = 1,
    /// Normal lifecycle.
    Information = 2,
    /// Something unexpected that was handled.
    Warning = 3,
    /// A failure.
    Error = 4,
    /// The connection cannot go on.
    Critical = 5,
    /// Nothing is logged.
    None = 6,
}

/// Transport flags, numbered as in `@microsoft/signalr`.
#[wasm_bindgen]
#[derive(Clone, Copy)]
pub enum HttpTransportType {
    /// Any transport the server offers.
    None = 0,
    /// WebSockets.
    WebSockets = 1,
    /// Server-Sent Events.
    ServerSentEvents = 2,
    /// Long polling.
    LongPolling = 4,
}

struct State {
    url: Option<String>,
    options: Object,
}

/// Builds a `HubConnection` step by step; each method returns the builder.
#[wasm_bindgen]
pub struct HubConnectionBuilder {
    state: Rc<RefCell<State>>,
}

impl HubConnectionBuilder {
    fn with(&self, key: &str, value: &JsValue) -> HubConnectionBuilder {
        js::set(&self.state.borrow().options, key, value);
        HubConnectionBuilder { state: self.state.clone() }
    }
}

#[wasm_bindgen]
impl HubConnectionBuilder {
    /// An empty builder.
    #[wasm_bindgen(constructor)]
    pub fn new() -> HubConnectionBuilder {
        HubConnectionBuilder { state: Rc::new(RefCell::new(State { url: None, options: Object::new() })) }
    }

    /// Sets the hub URL, and either connection options or the transport to use.
    #[wasm_bindgen(js_name = withUrl)]
    pub fn with_url(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue,
        #[wasm_bindgen(unchecked_param_type = "HubConnectionOptions | HttpTransportType | TransportName")] options: JsValue,
    ) -> Result<HubConnectionBuilder, JsValue> {
        self.state.borrow_mut().url = Some(js::string_arg(&url, "url")?);
        if options.is_object() {
            let merged = Object::assign(&self.state.borrow().options, options.unchecked_ref());
            self.state.borrow_mut().options = merged;
        } else if !options.is_undefined() && !options.is_null() {
            return Ok(self.with("transport", &options));
        }
        Ok(HubConnectionBuilder { state: self.state.clone() })
    }

    /// Reconnects automatically: the default delays, a delay array, backoff options or a retry policy.
    #[wasm_bindgen(js_name = withAutomaticReconnect)]
    pub fn with_automatic_reconnect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number[] | RetryPolicy | BackoffOptions")] policy: JsValue,
    ) -> HubConnectionBuilder {
        let value = if policy.is_undefined() || policy.is_null() { JsValue::TRUE } else { policy };
        self.with("automaticReconnect", &value)
    }

    /// Also retries a failed initial `start()` with the reconnect policy.
    #[wasm_bindgen(js_name = withStartRetry)]
    pub fn with_start_retry(&self) -> HubConnectionBuilder {
        self.with("retryStart", &JsValue::TRUE)
    }

    /// Sets the server timeout in ms (default 30 000).
    #[wasm_bindgen(js_name = withServerTimeout)]
    pub fn with_server_timeout(&self, milliseconds: f64) -> HubConnectionBuilder {
        self.with("serverTimeoutInMilliseconds", &JsValue::from(milliseconds))
    }

    /// Sets the keep-alive interval in ms (default 15 000).
    #[wasm_bindgen(js_name = withKeepAliveInterval)]
    pub fn with_keep_alive_interval(&self, milliseconds: f64) -> HubConnectionBuilder {
        self.with("keepAliveIntervalInMilliseconds", &JsValue::from(milliseconds))
    }

    /// Enables stateful reconnect (WebSockets), optionally with a replay buffer size in bytes.
    #[wasm_bindgen(js_name = withStatefulReconnect)]
    pub fn with_stateful_reconnect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ bufferSize?: number }")] options: JsValue,
    ) -> HubConnectionBuilder {
        let value = if options.is_object() { options } else { JsValue::TRUE };
        self.with("statefulReconnect", &value)
    }

    /// Sets the log level (a `LogLevel` or its name) or a logger with `log(level, message)`.
    #[wasm_bindgen(js_name = configureLogging)]
    pub fn configure_logging(
        &self,
        #[wasm_bindgen(unchecked_param_type = "LogLevel | LogLevelName | Logger")] logging: JsValue,
    ) -> HubConnectionBuilder {
        self.with("logLevel", &logging)
    }

    /// Chooses the hub protocol: `'json'` (default) or `'messagepack'` (or an object with that `name`).
    #[wasm_bindgen(js_name = withHubProtocol)]
    pub fn with_hub_protocol(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HubProtocolName | { readonly name: HubProtocolName }")] protocol: JsValue,
    ) -> HubConnectionBuilder {
        self.with("protocol", &protocol)
    }

    /// Creates the connection.
    pub fn build(&self) -> Result<HubConnection, JsValue> {
        let state = self.state.borrow();
        let url = state.url.clone().ok_or_else(|| js::error("The 'HubConnectionBuilder.withUrl' method must be called before building the connection."))?;
        HubConnection::new(JsValue::from_str(&url), Some(state.options.clone().into()))
    }
}

impl Default for HubConnectionBuilder {
    fn default() -> Self {
        Self::new()
    }
}
