//! Runs a [`Connection`] in the browser: performs its actions with fetch, transports and timers, feeds back
//! what happens, and hands its events to a sink. Never holds a borrow while calling out, so callbacks may call
//! straight back in.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, JsString, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::bytes;
use super::frame::Frame;
use super::global;
use super::http::{self, Body, HttpOptions};
use super::listener::EventListener;
use super::timer::Timeout;
use super::transport::{Transport, TransportEvents};
use crate::connection::{Action, Connection, Event, InvokeKind, Payload, RetryContext, State};

const STALE_FRAME: &str = "conduit-realtime: a message outlived the frame it came in";
const NOT_AN_ARRAY: &str = "conduit-realtime: the arguments of an invocation are not an array";

/// JavaScript callbacks and settings the driver uses.
pub struct Hooks {
    /// Returns the access token (string or Promise of one); called before every connect.
    pub token_factory: Option<Function>,
    /// `nextRetryDelayInMilliseconds(context)` of a caller's reconnect policy.
    pub retry_policy: Option<Function>,
    /// Request settings.
    pub http: HttpOptions,
}

/// Receives every event of the connection.
pub type Sink = Box<dyn Fn(&Driver, Event)>;

/// Called once the events of one batch (a frame, a timer, a call) have all gone to the sink.
pub type Settled = Box<dyn Fn()>;

struct Shared {
    conn: RefCell<Connection>,
    hooks: Hooks,
    sink: RefCell<Option<Rc<Sink>>>,
    settled: RefCell<Option<Rc<Settled>>>,
    transport: RefCell<Option<(u32, Transport)>>,
    timer: RefCell<Option<(u64, Timeout)>>,
    listeners: RefCell<Vec<EventListener>>,
    pumping: Cell<bool>,
    /// The clock as first read during the batch being delivered: one read per batch, none when nothing asks.
    batch_time: Cell<Option<u64>>,
    /// The text frame whose events are being delivered, and the number of the last one.
    frame: RefCell<Option<Rc<Frame>>>,
    frames: Cell<u32>,
}

/// A handle to a connection running in the browser.
#[derive(Clone)]
pub struct Driver(Rc<Shared>);

impl Driver {
    /// A driver for `conn`; set the sink before starting.
    pub fn new(conn: Connection, hooks: Hooks) -> Self {
        Driver(Rc::new(Shared {
            conn: RefCell::new(conn),
            hooks,
            sink: RefCell::new(None),
            settled: RefCell::new(None),
            transport: RefCell::new(None),
            timer: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            pumping: Cell::new(false),
            batch_time: Cell::new(None),
            frame: RefCell::new(None),
            frames: Cell::new(0),
        }))
    }

    /// Sets where events go.
    pub fn set_sink(&self, sink: Sink) {
        *self.0.sink.borrow_mut() = Some(Rc::new(sink));
    }

    /// The time (ms since the epoch) of the batch whose events are being delivered.
    pub fn batch_time(&self) -> u64 {
        let now = self.0.batch_time.get().unwrap_or_else(global::now);
        self.0.batch_time.set(Some(now));
        now
    }

    /// Sets what runs after each batch of events (not after a batch without events).
    pub fn set_settled(&self, settled: Settled) {
        *self.0.settled.borrow_mut() = Some(Rc::new(settled));
    }

    fn weak(&self) -> Weak<Shared> {
        Rc::downgrade(&self.0)
    }

    fn from_weak(weak: &Weak<Shared>) -> Option<Driver> {
        weak.upgrade().map(Driver)
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.0.conn.borrow().state()
    }

    /// The server's connection id.
    pub fn connection_id(&self) -> Option<String> {
        self.0.conn.borrow().connection_id().map(str::to_string)
    }

    /// Reads the connection (briefly: do not call out while holding it).
    pub fn with_connection<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let result = f(&mut self.0.conn.borrow_mut());
        self.pump();
        result
    }

    /// Starts connecting.
    pub fn start(&self) -> Result<(), String> {
        let result = self.with_connection(|c| c.start(global::now()));
        if result.is_ok() && self.state() != State::Disconnected {
            self.listen_for_network();
        }
        result
    }

    /// Stops the connection.
    pub fn stop(&self) {
        self.with_connection(|c| c.stop(global::now()));
    }

    /// Invokes a hub method with arguments as a JSON array text.
    pub fn invoke(&self, kind: InvokeKind, target: &str, arguments: &str) -> Result<Option<u64>, String> {
        self.with_connection(|c| c.invoke(global::now(), kind, target, arguments))
    }

    /// Feeds a text frame to the connection and delivers its events while the frame is kept, so JSON arguments
    /// reach handlers as slices of the socket's own string.
    fn receive_text(&self, generation: u32, js: JsString) {
        let units = js.length() as usize;
        if let Err(reason) = self.check_frame(units, "characters") {
            return self.refuse_frame(generation, reason);
        }
        if self.0.pumping.get() {
            let text = js.as_string().unwrap_or_default();
            return self.with_connection(|c| c.received(global::now(), generation, text.as_bytes()));
        }
        let number = self.0.frames.get().wrapping_add(1);
        self.0.frames.set(number);
        let frame = match Frame::new(number, js, units) {
            Ok(frame) => Rc::new(frame),
            Err(reason) => return self.refuse_frame(generation, reason),
        };
        *self.0.frame.borrow_mut() = Some(frame.clone());
        self.0.conn.borrow_mut().received_frame(global::now(), generation, frame.text.as_bytes(), number);
        self.pump();
        self.0.frame.borrow_mut().take();
    }

    /// Feeds a binary frame to the connection.
    fn receive_binary(&self, generation: u32, data: Uint8Array) {
        match bytes::copy(&data, |size| self.check_frame(size, "bytes")) {
            Ok(bytes) => self.with_connection(|c| c.received(global::now(), generation, &bytes)),
            Err(reason) => self.refuse_frame(generation, reason),
        }
    }

    /// Whether a frame of `size` is within the connection's frame limit, checked before it is copied.
    fn check_frame(&self, size: usize, unit: &str) -> Result<(), String> {
        let limit = self.0.conn.borrow().config().max_frame_bytes();
        if size <= limit {
            return Ok(());
        }
        Err(format!("The server sent a frame of {size} {unit}, above the limit of {limit} (four times maxMessageSize, at least 64 KiB)."))
    }

    fn refuse_frame(&self, generation: u32, reason: String) {
        self.with_connection(|c| c.frame_refused(global::now(), generation, reason));
    }

    /// Request settings for the connection's own requests, whose bodies are bounded like frames.
    fn http_options(&self) -> HttpOptions {
        let limit = self.0.conn.borrow().config().max_frame_bytes();
        HttpOptions { max_body_bytes: limit, ..self.0.hooks.http.clone() }
    }

    fn current_frame(&self, number: u32) -> Option<Rc<Frame>> {
        self.0.frame.borrow().as_ref().filter(|f| f.number == number).cloned()
    }

    /// Calls each handler with the payload (a JSON array) as its arguments; a throwing handler is logged.
    pub fn call_handlers(&self, payload: &Payload, handlers: &Array) -> Result<(), JsValue> {
        match payload {
            Payload::InFrame { frame, start, end } => match self.current_frame(*frame) {
                Some(f) => f.deliver(*start, *end, handlers),
                None => Err(JsValue::from_str(STALE_FRAME)),
            },
            Payload::Text(text) => {
                let args: Array = js_sys::JSON::parse(text)?.dyn_into().map_err(|_| JsValue::from_str(NOT_AN_ARRAY))?;
                super::frame::call_all(&args, handlers);
                Ok(())
            }
        }
    }

    /// Parses a payload with the browser's `JSON.parse`.
    pub fn parse(&self, payload: &Payload) -> Result<JsValue, JsValue> {
        match payload {
            Payload::InFrame { frame, start, end } => match self.current_frame(*frame) {
                Some(f) => f.parse(*start, *end),
                None => Err(JsValue::from_str(STALE_FRAME)),
            },
            Payload::Text(text) => js_sys::JSON::parse(text),
        }
    }

    /// Runs `f` on a payload's JSON text.
    pub fn with_text<T>(&self, payload: &Payload, f: impl FnOnce(&str) -> T) -> Result<T, JsValue> {
        let frame = match payload {
            Payload::InFrame { frame, .. } => self.current_frame(*frame),
            Payload::Text(_) => None,
        };
        match payload.text(frame.as_ref().map(|fr| (fr.number, fr.text.as_str()))) {
            Some(text) => Ok(f(text)),
            None => Err(JsValue::from_str(STALE_FRAME)),
        }
    }

    fn listen_for_network(&self) {
        if !self.0.listeners.borrow().is_empty() {
            return;
        }
        let global = global::event_target();
        let document = js_sys::Reflect::get(&global, &"document".into())
            .ok()
            .filter(|d| d.is_object())
            .map(|d| d.unchecked_into::<web_sys::EventTarget>());
        let mut targets = vec![(global, "online"), (global::event_target(), "pageshow")];
        if let Some(doc) = document {
            targets.push((doc.clone(), "resume"));
            targets.push((doc, "visibilitychange"));
        }
        let listeners: Vec<EventListener> = targets
            .into_iter()
            .map(|(target, event)| {
                let weak = self.weak();
                EventListener::new(&target, event, move |_| {
                    if let Some(d) = Driver::from_weak(&weak) {
                        d.with_connection(|c| c.network_online(global::now()));
                    }
                })
            })
            .collect();
        *self.0.listeners.borrow_mut() = listeners;
    }

    /// Carries out queued actions and delivers queued events until both queues are empty.
    pub fn pump(&self) {
        if self.0.pumping.replace(true) {
            return;
        }
        self.0.batch_time.set(None);
        let mut delivered = false;
        loop {
            let action = self.0.conn.borrow_mut().poll_action();
            if let Some(action) = action {
                self.perform(action);
                continue;
            }
            let event = self.0.conn.borrow_mut().poll_event();
            if let Some(event) = event {
                let sink = self.0.sink.borrow().clone();
                if let Some(sink) = sink {
                    sink(self, event);
                    delivered = true;
                }
                continue;
            }
            break;
        }
        self.rearm_timer();
        if self.0.conn.borrow().state() == State::Disconnected {
            // The network listeners only speed up reconnects: gone with the connection, back on `start`.
            self.0.listeners.borrow_mut().clear();
        }
        self.0.pumping.set(false);
        let settled = if delivered { self.0.settled.borrow().clone() } else { None };
        if let Some(settled) = settled {
            settled();
        }
    }

    fn rearm_timer(&self) {
        let next = self.0.conn.borrow().next_timeout();
        let mut timer = self.0.timer.borrow_mut();
        match next {
            None => *timer = None,
            Some(at) if timer.as_ref().is_some_and(|(armed, _)| *armed <= at) => {}
            Some(at) => {
                let weak = self.weak();
                let delay = at.saturating_sub(global::now());
                *timer = Some((
                    at,
                    Timeout::new(delay, move || {
                        if let Some(d) = Driver::from_weak(&weak) {
                            d.0.timer.borrow_mut().take();
                            d.with_connection(|c| c.timeout(global::now()));
                        }
                    }),
                ));
            }
        }
    }

    fn perform(&self, action: Action) {
        match action {
            Action::FetchToken { generation } => self.fetch_token(generation),
            Action::Negotiate { generation, url, access_token } => {
                let weak = self.weak();
                let options = self.http_options();
                wasm_bindgen_futures::spawn_local(async move {
                    let result = http::request("POST", &url, access_token.as_deref(), Body::None, None, &options).await;
                    let Some(d) = Driver::from_weak(&weak) else { return };
                    let body = match &result {
                        Ok(r) if (200..300).contains(&r.status) => Ok(r.body.as_slice()),
                        Ok(r) => Err(http::describe_status(r)),
                        Err(e) => Err(e.message()),
                    };
                    d.with_connection(|c| c.negotiated(global::now(), generation, body));
                });
            }
            Action::Open { generation, transport, url, binary, access_token } => {
                let events = self.transport_events(generation);
                let opened = Transport::open(transport, &url, access_token.as_deref(), binary, &self.http_options(), events);
                match opened {
                    Ok(t) => *self.0.transport.borrow_mut() = Some((generation, t)),
                    Err(e) => {
                        self.0.conn.borrow_mut().transport_closed(global::now(), generation, e);
                    }
                }
            }
            Action::Send { data, binary } => {
                let result = self.0.transport.borrow().as_ref().map(|(g, t)| (*g, t.send(data, binary)));
                if let Some((generation, Err(e))) = result {
                    self.0.conn.borrow_mut().transport_closed(global::now(), generation, e);
                }
            }
            Action::Close => {
                let old = self.0.transport.borrow_mut().take();
                drop(old);
            }
            Action::AskRetryDelay(context) => {
                let delay = self.ask_policy(&context);
                self.0.conn.borrow_mut().retry_delay(global::now(), delay);
            }
        }
    }

    fn transport_events(&self, generation: u32) -> TransportEvents {
        let (w1, w2, w3, w4, w5) = (self.weak(), self.weak(), self.weak(), self.weak(), self.weak());
        TransportEvents {
            on_open: Box::new(move || {
                if let Some(d) = Driver::from_weak(&w1) {
                    d.with_connection(|c| c.transport_opened(global::now(), generation));
                }
            }),
            on_data: Box::new(move |data| {
                if let Some(d) = Driver::from_weak(&w2) {
                    d.with_connection(|c| c.received(global::now(), generation, data));
                }
            }),
            on_binary: Box::new(move |data| {
                if let Some(d) = Driver::from_weak(&w5) {
                    d.receive_binary(generation, data);
                }
            }),
            on_text: Box::new(move |js| {
                if let Some(d) = Driver::from_weak(&w4) {
                    d.receive_text(generation, js);
                }
            }),
            on_close: Box::new(move |reason| {
                if let Some(d) = Driver::from_weak(&w3) {
                    d.with_connection(|c| c.transport_closed(global::now(), generation, reason));
                }
            }),
        }
    }

    fn fetch_token(&self, generation: u32) {
        fn token_of(value: Result<JsValue, JsValue>) -> Result<Option<String>, String> {
            match value {
                Ok(v) if v.is_null() || v.is_undefined() => Ok(None),
                Ok(v) => v.as_string().map(Some).ok_or_else(|| "the access token factory must return a string".into()),
                Err(e) => Err(global::error_message(&e)),
            }
        }
        let value = match &self.0.hooks.token_factory {
            None => Ok(JsValue::UNDEFINED),
            Some(f) => f.call0(&JsValue::NULL),
        };
        match value {
            Ok(v) if v.has_type::<Promise>() => {
                let weak = self.weak();
                wasm_bindgen_futures::spawn_local(async move {
                    let value = JsFuture::from(v.unchecked_into::<Promise>()).await;
                    if let Some(d) = Driver::from_weak(&weak) {
                        d.with_connection(|c| c.token_ready(global::now(), generation, token_of(value)));
                    }
                });
            }
            other => self.0.conn.borrow_mut().token_ready(global::now(), generation, token_of(other)),
        }
    }

    fn ask_policy(&self, context: &RetryContext) -> Option<u64> {
        let policy = self.0.hooks.retry_policy.as_ref()?;
        let ctx = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&ctx, &JsValue::from_str(k), v);
        };
        set("previousRetryCount", &JsValue::from(context.previous_retry_count));
        set("elapsedMilliseconds", &JsValue::from(context.elapsed_ms as f64));
        set("retryReason", &js_sys::Error::new(&context.reason).into());
        match policy.call1(&JsValue::NULL, &ctx) {
            Ok(v) => v.as_f64().filter(|ms| ms.is_finite() && *ms >= 0.0).map(|ms| ms as u64),
            Err(e) => {
                web_sys::console::error_2(&"conduit-realtime: the reconnect policy threw; giving up.".into(), &e);
                None
            }
        }
    }

    /// Stops the connection (delivering the resulting events), then tears down transport, timer and listeners.
    pub fn dispose(&self) {
        self.stop();
        self.0.transport.borrow_mut().take();
        self.0.timer.borrow_mut().take();
        self.0.listeners.borrow_mut().clear();
        self.0.sink.borrow_mut().take();
        self.0.settled.borrow_mut().take();
    }
}
