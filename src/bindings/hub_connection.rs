//! `HubConnection`: the generic SignalR client exported to JavaScript, shaped like `@microsoft/signalr`'s.
//! It only translates: the connection state machine decides, the browser driver does the I/O.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::calls::Calls;
use super::handlers::Handlers;
use super::js;
use super::logger::Logger;
use super::options;
use crate::browser::driver::Driver;
use crate::browser::global;
use crate::connection::{Connection, Event, InvokeKind, LogLevel, Payload, State, SKIPPED};

#[derive(Default)]
struct Callbacks {
    closed: Vec<Function>,
    reconnecting: Vec<Function>,
    reconnected: Vec<Function>,
    errors: Vec<Function>,
}

struct Shared {
    handlers: Handlers,
    calls: Calls,
    callbacks: RefCell<Callbacks>,
    start_waiters: RefCell<Vec<(Function, Function)>>,
    logger: Logger,
}

/// A connection to a SignalR hub.
#[wasm_bindgen]
pub struct HubConnection {
    driver: Driver,
    shared: Rc<Shared>,
}

#[wasm_bindgen]
impl HubConnection {
    /// Creates a connection to the hub at `url` (not started).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue,
        #[wasm_bindgen(unchecked_param_type = "HubConnectionOptions")] options: Option<JsValue>,
    ) -> Result<HubConnection, JsValue> {
        let url = js::string_arg(&url, "url")?;
        let parsed = options::parse(&url, &options.unwrap_or(JsValue::UNDEFINED), true)?;
        let driver = Driver::new(Connection::new(parsed.config, global::random_seed()), parsed.hooks);
        let shared = Rc::new(Shared {
            handlers: Handlers::default(),
            calls: Calls::default(),
            callbacks: RefCell::new(Callbacks::default()),
            start_waiters: RefCell::new(Vec::new()),
            logger: parsed.logger,
        });
        let sink_shared = Rc::downgrade(&shared);
        driver.set_sink(Box::new(move |driver, event| {
            if let Some(shared) = sink_shared.upgrade() {
                shared.handle(driver, event);
            }
        }));
        Ok(HubConnection { driver, shared })
    }

    /// The connection state: `Disconnected`, `Connecting`, `Connected`, `Disconnecting` or `Reconnecting`.
    #[wasm_bindgen(getter, unchecked_return_type = "HubConnectionState")]
    pub fn state(&self) -> String {
        self.driver.state().name().to_string()
    }

    /// The server's id for this connection (null before negotiate, and with skipNegotiation).
    #[wasm_bindgen(getter, js_name = connectionId)]
    pub fn connection_id(&self) -> Option<String> {
        self.driver.connection_id()
    }

    /// The hub URL.
    #[wasm_bindgen(getter, js_name = baseUrl)]
    pub fn base_url(&self) -> String {
        self.driver.with_connection(|c| c.config().url.clone())
    }

    /// Changes the hub URL (only while Disconnected or Reconnecting).
    #[wasm_bindgen(setter, js_name = baseUrl)]
    pub fn set_base_url(&self, #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue) -> Result<(), JsValue> {
        let url = js::string_arg(&url, "baseUrl")?;
        let state = self.driver.state();
        if state != State::Disconnected && state != State::Reconnecting {
            return Err(js::error("The HubConnection must be in the Disconnected or Reconnecting state to change the url."));
        }
        if !crate::connection::url::is_http(&url) {
            return Err(js::type_error("The hub URL must be an absolute http:// or https:// URL."));
        }
        self.driver.with_connection(|c| c.config_mut().url = url);
        Ok(())
    }

    /// Milliseconds without any message from the server before the connection is considered lost.
    #[wasm_bindgen(getter, js_name = serverTimeoutInMilliseconds)]
    pub fn server_timeout(&self) -> f64 {
        self.driver.with_connection(|c| c.config().server_timeout_ms as f64)
    }

    /// Sets the server timeout (ms).
    #[wasm_bindgen(setter, js_name = serverTimeoutInMilliseconds)]
    pub fn set_server_timeout(&self, #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue) -> Result<(), JsValue> {
        let ms = js::milliseconds_arg(&ms, "serverTimeoutInMilliseconds")?;
        self.driver.with_connection(|c| c.config_mut().server_timeout_ms = ms);
        Ok(())
    }

    /// Milliseconds without sending before a keep-alive ping is sent.
    #[wasm_bindgen(getter, js_name = keepAliveIntervalInMilliseconds)]
    pub fn keep_alive(&self) -> f64 {
        self.driver.with_connection(|c| c.config().keep_alive_ms as f64)
    }

    /// Sets the keep-alive interval (ms).
    #[wasm_bindgen(setter, js_name = keepAliveIntervalInMilliseconds)]
    pub fn set_keep_alive(&self, #[wasm_bindgen(unchecked_param_type = "number")] ms: JsValue) -> Result<(), JsValue> {
        let ms = js::milliseconds_arg(&ms, "keepAliveIntervalInMilliseconds")?;
        self.driver.with_connection(|c| c.config_mut().keep_alive_ms = ms);
        Ok(())
    }

    /// Starts the connection; resolves once connected.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn start(&self) -> Promise {
        if self.driver.state() != State::Disconnected {
            return Promise::reject(&js::error("Cannot start a HubConnection that is not in the 'Disconnected' state."));
        }
        let mut waiter = None;
        let promise = Promise::new(&mut |resolve, reject| waiter = Some((resolve, reject)));
        if let Some(w) = waiter {
            self.shared.start_waiters.borrow_mut().push(w);
        }
        if let Err(e) = self.driver.start() {
            self.shared.settle_start(Err(e));
        }
        promise
    }

    /// Stops the connection; pending invocations are rejected.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn stop(&self) -> Promise {
        self.driver.stop();
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Invokes a hub method and resolves with its result.
    #[wasm_bindgen(variadic, unchecked_return_type = "Promise<T>")]
    pub fn invoke(&self, #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue, args: Array) -> Promise {
        match js::string_arg(&method_name, "methodName") {
            Ok(name) => self.call(InvokeKind::Invoke, &name, &args),
            Err(e) => Promise::reject(&e),
        }
    }

    /// Invokes a hub method without waiting for a result; resolves once sent.
    #[wasm_bindgen(variadic, unchecked_return_type = "Promise<void>")]
    pub fn send(&self, #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue, args: Array) -> Promise {
        match js::string_arg(&method_name, "methodName") {
            Ok(name) => self.call(InvokeKind::Send, &name, &args),
            Err(e) => Promise::reject(&e),
        }
    }

    /// Invokes a streaming hub method; items flow to the subscriber given to `subscribe`.
    #[wasm_bindgen(variadic, unchecked_return_type = "StreamResult<T>")]
    pub fn stream(&self, #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue, args: Array) -> Result<StreamResult, JsValue> {
        let method = js::string_arg(&method_name, "methodName")?;
        Ok(StreamResult { driver: self.driver.clone(), shared: self.shared.clone(), method, args })
    }

    /// Registers a handler for a method the server calls (names match case-insensitively).
    pub fn on(
        &self,
        #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue,
        #[wasm_bindgen(js_name = newMethod, unchecked_param_type = "(...args: never[]) => unknown")] new_method: JsValue,
    ) -> Result<(), JsValue> {
        let name = js::string_arg(&method_name, "methodName")?;
        let f = js::function_arg(new_method, "newMethod")?;
        self.shared.handlers.add(&name, &f);
        Ok(())
    }

    /// Removes one handler, or every handler of the method when none is given.
    pub fn off(
        &self,
        #[wasm_bindgen(js_name = methodName, unchecked_param_type = "string")] method_name: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(...args: never[]) => unknown")] method: JsValue,
    ) -> Result<(), JsValue> {
        let name = js::string_arg(&method_name, "methodName")?;
        let f = (!method.is_undefined() && !method.is_null()).then_some(method);
        self.shared.handlers.remove(&name, f.as_ref());
        Ok(())
    }

    /// Called when the connection closes for good, with the error if there was one.
    pub fn onclose(&self, #[wasm_bindgen(unchecked_param_type = "(error?: Error) => void")] callback: JsValue) -> Result<(), JsValue> {
        let callback = js::function_arg(callback, "callback")?;
        self.shared.callbacks.borrow_mut().closed.push(callback);
        Ok(())
    }

    /// Called when the connection was lost and automatic reconnect begins.
    pub fn onreconnecting(&self, #[wasm_bindgen(unchecked_param_type = "(error?: Error) => void")] callback: JsValue) -> Result<(), JsValue> {
        let callback = js::function_arg(callback, "callback")?;
        self.shared.callbacks.borrow_mut().reconnecting.push(callback);
        Ok(())
    }

    /// Called when automatic reconnect succeeded, with the new connection id.
    pub fn onreconnected(&self, #[wasm_bindgen(unchecked_param_type = "(connectionId?: string) => void")] callback: JsValue) -> Result<(), JsValue> {
        let callback = js::function_arg(callback, "callback")?;
        self.shared.callbacks.borrow_mut().reconnected.push(callback);
        Ok(())
    }

    /// Called when a malformed message from the server was skipped (the connection goes on).
    pub fn onerror(&self, #[wasm_bindgen(unchecked_param_type = "(error: Error) => void")] callback: JsValue) -> Result<(), JsValue> {
        let callback = js::function_arg(callback, "callback")?;
        self.shared.callbacks.borrow_mut().errors.push(callback);
        Ok(())
    }

    fn call(&self, kind: InvokeKind, method: &str, args: &Array) -> Promise {
        match JSON::stringify(args) {
            Ok(arguments) => self.shared.calls.invoke(&self.driver, kind, method, &String::from(arguments)),
            Err(e) => Promise::reject(&js::error(&format!("Arguments could not be serialized: {}", global::error_message(&e)))),
        }
    }
}

impl Drop for HubConnection {
    fn drop(&mut self) {
        self.driver.dispose();
    }
}

/// The result of `stream()`: subscribe to receive its items.
#[wasm_bindgen]
pub struct StreamResult {
    driver: Driver,
    shared: Rc<Shared>,
    method: String,
    args: Array,
}

#[wasm_bindgen]
impl StreamResult {
    /// Starts the stream; `subscriber.next` gets each item, then `complete` or `error`.
    #[wasm_bindgen(unchecked_return_type = "Subscription")]
    pub fn subscribe(&self, #[wasm_bindgen(unchecked_param_type = "Partial<StreamSubscriber<T>>")] subscriber: JsValue) -> Result<JsValue, JsValue> {
        if !subscriber.is_object() {
            return Err(js::type_error("subscriber must be an object with next, error and complete callbacks."));
        }
        let fail = |message: &str| {
            if let Some(f) = js::get(&subscriber, "error").and_then(|f| f.dyn_into::<Function>().ok()) {
                js::call1_safely(&f, &js::error(message));
            }
        };
        let subscription = |id| Subscription { driver: self.driver.clone(), id: Cell::new(id) }.into();
        let arguments = match JSON::stringify(&self.args) {
            Ok(s) => String::from(s),
            Err(e) => {
                fail(&format!("Arguments could not be serialized: {}", global::error_message(&e)));
                return Ok(subscription(None));
            }
        };
        Ok(match self.driver.invoke(InvokeKind::Stream, &self.method, &arguments) {
            Ok(Some(id)) => {
                self.shared.calls.add_stream(id, subscriber);
                subscription(Some(id))
            }
            Ok(None) => subscription(None),
            Err(e) => {
                fail(&e);
                subscription(None)
            }
        })
    }
}

/// A running stream; `dispose()` cancels it.
#[wasm_bindgen]
pub struct Subscription {
    driver: Driver,
    id: Cell<Option<u64>>,
}

#[wasm_bindgen]
impl Subscription {
    /// Cancels the stream (the server is told to stop); safe to call again, also from the stream's callbacks.
    pub fn dispose(&self) {
        if let Some(id) = self.id.take() {
            self.driver.with_connection(|c| c.cancel_stream(global::now(), id));
        }
    }
}

impl Shared {
    fn settle_start(&self, result: Result<(), String>) {
        let waiters = core::mem::take(&mut *self.start_waiters.borrow_mut());
        for (resolve, reject) in waiters {
            let _ = match &result {
                Ok(()) => resolve.call0(&JsValue::UNDEFINED),
                Err(e) => reject.call1(&JsValue::UNDEFINED, &js::error(e)),
            };
        }
    }

    fn each(&self, pick: impl Fn(&Callbacks) -> &Vec<Function>, args: &Array) {
        let list = pick(&self.callbacks.borrow()).clone();
        for f in &list {
            js::call_safely(f, args);
        }
    }

    fn handle(self: &Rc<Self>, driver: &Driver, event: Event) {
        match event {
            Event::StateChanged(_) => {}
            Event::Started => self.settle_start(Ok(())),
            Event::StartFailed(e) => self.settle_start(Err(e)),
            Event::Closed(error) => {
                let arg = error.map_or(JsValue::UNDEFINED, |e| js::error(&e));
                self.each(|c| &c.closed, &Array::of1(&arg));
            }
            Event::Reconnecting(error) => {
                let arg = error.map_or(JsValue::UNDEFINED, |e| js::error(&e));
                self.each(|c| &c.reconnecting, &Array::of1(&arg));
            }
            Event::Reconnected(id) => {
                let arg = id.map_or(JsValue::UNDEFINED, |s| JsValue::from_str(&s));
                self.each(|c| &c.reconnected, &Array::of1(&arg));
            }
            Event::ProtocolError(message) => self.each(|c| &c.errors, &Array::of1(&js::error(&message))),
            Event::Log(level, message) => self.logger.log(level, &message),
            Event::Completion { id, outcome } => self.calls.complete(driver, id, outcome),
            Event::StreamItem { id, item } => {
                if let Err(e) = self.calls.stream_item(id, &item) {
                    self.logger.log(LogLevel::Error, &global::error_message(&e));
                }
            }
            Event::Invocation { target, arguments, invocation_id } => {
                self.invoke_handlers(driver, &target, &arguments, invocation_id)
            }
        }
    }

    /// Arguments `JSON.parse` refused are reported like any malformed record (the decoder checks only their
    /// strings and brackets): a log line and an `onerror` call.
    fn unreadable_arguments(&self, e: &JsValue) {
        let detail = global::error_message(e);
        if !e.is_instance_of::<js_sys::SyntaxError>() {
            return self.logger.log(LogLevel::Error, &detail);
        }
        let message = format!("{SKIPPED}: {detail}");
        self.logger.log(LogLevel::Error, &message);
        self.each(|c| &c.errors, &Array::of1(&js::error(&message)));
    }

    fn invoke_handlers(&self, driver: &Driver, target: &str, arguments: &Payload, invocation_id: Option<String>) {
        let handlers = self.handlers.get(target);
        let Some(id) = invocation_id else {
            match handlers {
                None => self.logger.log(LogLevel::Warning, &format!("No client method with the name '{target}' found.")),
                Some((handlers, _)) => {
                    if let Err(e) = driver.call_handlers(arguments, &handlers) {
                        self.unreadable_arguments(&e);
                    }
                }
            }
            return;
        };
        let handler = match handlers {
            Some((handlers, 1)) => Function::from(handlers.get(0)),
            Some(_) => return respond(driver, &id, Err("Client provided multiple results.".into())),
            None => return respond(driver, &id, Err("Client didn't provide a result.".into())),
        };
        let args = match driver.parse(arguments) {
            Ok(args) => args,
            Err(e) => {
                self.unreadable_arguments(&e);
                return respond(driver, &id, Err(global::error_message(&e)));
            }
        };
        let value = match handler.apply(&JsValue::UNDEFINED, &args.into()) {
            Ok(v) => v,
            Err(e) => return respond(driver, &id, Err(global::error_message(&e))),
        };
        if !value.has_type::<Promise>() {
            return respond(driver, &id, serialize_result(&value));
        }
        let driver = driver.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let outcome = match JsFuture::from(value.unchecked_into::<Promise>()).await {
                Ok(v) => serialize_result(&v),
                Err(e) => Err(global::error_message(&e)),
            };
            respond(&driver, &id, outcome);
        });
    }
}

/// Answers a server invocation that expects a result.
fn respond(driver: &Driver, id: &str, outcome: Result<Option<String>, String>) {
    driver.with_connection(|c| match &outcome {
        Ok(json) => c.client_result(global::now(), id, Ok(json.as_deref())),
        Err(e) => c.client_result(global::now(), id, Err(e)),
    });
}

fn serialize_result(value: &JsValue) -> Result<Option<String>, String> {
    if value.is_undefined() {
        return Ok(None);
    }
    JSON::stringify(value).map(|s| Some(String::from(s))).map_err(|e| global::error_message(&e))
}

