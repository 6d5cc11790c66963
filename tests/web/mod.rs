//! Helpers for browser tests against the dev server (its URL comes from DEVSERVER_URL at compile time).
#![allow(dead_code)]

use js_sys::{Function, Object, Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The dev server started by scripts/test.sh.
pub const SERVER: &str = match option_env!("DEVSERVER_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:5000",
};

/// A virtual key unique to this test run and `name`, so fault injection can target one connection.
pub fn unique_key(name: &str) -> String {
    format!("condt_{}_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), ""), (js_sys::Math::random() * 1e12) as u64)
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        let global: JsValue = js_sys::global().into();
        let set_timeout: Function = Reflect::get(&global, &"setTimeout".into()).unwrap().into();
        set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms)).unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Awaits a promise, returning its value or its rejection message.
pub async fn settle(promise: Promise) -> Result<JsValue, String> {
    JsFuture::from(promise).await.map_err(|e| {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("{e:?}"))
    })
}

/// Calls the dev server's control API and returns its JSON answer.
pub async fn dev(method: &str, path_and_query: &str) -> JsValue {
    dev_with_body(method, path_and_query, None).await
}

/// Calls the control API with a raw body.
pub async fn dev_with_body(method: &str, path_and_query: &str, body: Option<&str>) -> JsValue {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }
    let request = web_sys::Request::new_with_str_and_init(&format!("{SERVER}{path_and_query}"), &init).unwrap();
    let global: JsValue = js_sys::global().into();
    let fetch: Function = Reflect::get(&global, &"fetch".into()).unwrap().into();
    let response: web_sys::Response = JsFuture::from(Promise::from(fetch.call1(&JsValue::NULL, &request).unwrap()))
        .await
        .expect("dev server reachable")
        .into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap().as_string().unwrap();
    JSON::parse(&text).unwrap_or(JsValue::from_str(&text))
}

/// Reads `obj.a.b.c`.
pub fn path(obj: &JsValue, dotted: &str) -> JsValue {
    dotted.split('.').fold(obj.clone(), |v, k| Reflect::get(&v, &k.into()).unwrap_or(JsValue::UNDEFINED))
}

/// An options object from JSON plus extra JS values.
pub fn object(json: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let o: Object = JSON::parse(json).unwrap().into();
    for (k, v) in extra {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

/// A JS function from a Rust closure (leaked for the test's lifetime).
pub fn func(f: impl FnMut(JsValue) -> JsValue + 'static) -> JsValue {
    Closure::<dyn FnMut(JsValue) -> JsValue>::new(f).into_js_value()
}

/// Polls `check` every 20 ms until it holds or `timeout_ms` passes.
pub async fn wait_for(what: &str, timeout_ms: u32, mut check: impl FnMut() -> bool) {
    let mut waited = 0;
    while !check() {
        assert!(waited < timeout_ms, "timed out waiting for {what}");
        sleep(20).await;
        waited += 20;
    }
}

/// Milliseconds since the epoch.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A JS function of two arguments from a Rust closure (leaked for the test's lifetime).
pub fn func2(f: impl FnMut(JsValue, JsValue) -> JsValue + 'static) -> JsValue {
    Closure::<dyn FnMut(JsValue, JsValue) -> JsValue>::new(f).into_js_value()
}

/// Writes a line to the browser console (shown by `wasm-pack test ... -- --nocapture`, and for failures).
pub fn console_line(line: &str) {
    web_sys::console::log_1(&JsValue::from_str(line));
}

/// The dev server's connections of `key`: (all of them, those that ever had a transport attached).
/// A negotiated connection whose transport never attached has no transport; the server forgets it after 30 s.
pub async fn server_connections(key: &str) -> (u32, u32) {
    let answer = dev("GET", &format!("/_dev/connections?key={key}")).await;
    let list = js_sys::Array::from(&path(&answer, "connections"));
    let with_transport = list.iter().filter(|c| !path(c, "transport").is_null() && !path(c, "transport").is_undefined()).count();
    (list.length(), with_transport as u32)
}

/// What a test's leak counters see (`leaksSnapshot()` of the inline JS in tests/web_faults_*.rs): live
/// WebSockets and EventSources, pending timers and intervals set from the client's code, and listeners the
/// client's code added to window/document.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Leaks {
    pub sockets: f64,
    pub sources: f64,
    pub timers: f64,
    pub intervals: f64,
    pub listeners: f64,
    pub sockets_opened: f64,
    pub sources_opened: f64,
}

impl Leaks {
    /// Reads a `leaksSnapshot()` object.
    pub fn from_snapshot(s: &JsValue) -> Leaks {
        let n = |k: &str| path(s, k).as_f64().unwrap_or(f64::NAN);
        Leaks {
            sockets: n("socketsLive"),
            sources: n("sourcesLive"),
            timers: n("timersClient"),
            intervals: n("intervalsClient"),
            listeners: n("listenersClient"),
            sockets_opened: n("socketsOpened"),
            sources_opened: n("sourcesOpened"),
        }
    }

    /// What is live now beyond `base` (never negative).
    pub fn excess_over(&self, base: &Leaks) -> Leaks {
        let d = |a: f64, b: f64| (a - b).max(0.0);
        Leaks {
            sockets: d(self.sockets, base.sockets),
            sources: d(self.sources, base.sources),
            timers: d(self.timers, base.timers),
            intervals: d(self.intervals, base.intervals),
            listeners: d(self.listeners, base.listeners),
            sockets_opened: self.sockets_opened - base.sockets_opened,
            sources_opened: self.sources_opened - base.sources_opened,
        }
    }
}

/// Waits (up to 5 s: closing handshakes and in-flight requests finish on their own) until nothing the client
/// created is left beyond `base`: no live socket or EventSource, no pending timer or interval, no window/document
/// listener (when `listeners`), and no connection of `key` at the server (negotiated connections that never got
/// a transport are tolerated when `unattached_ok`: the server, not the client, keeps those for 30 s).
/// Returns the excess it saw last (all zero on success); panics with the numbers otherwise.
pub async fn expect_released(what: &str, key: &str, base: Leaks, read: impl Fn() -> Leaks, listeners: bool, unattached_ok: bool) -> Leaks {
    let started = now();
    loop {
        let excess = read().excess_over(&base);
        let (total, attached) = server_connections(key).await;
        let client_clean = excess.sockets == 0.0
            && excess.sources == 0.0
            && excess.timers == 0.0
            && excess.intervals == 0.0
            && (!listeners || excess.listeners == 0.0);
        let server_clean = attached == 0 && (unattached_ok || total == 0);
        if client_clean && server_clean {
            return excess;
        }
        if now() - started > 5_000.0 {
            panic!(
                "{what}: left behind: {} live socket(s), {} EventSource(s), {} pending timer(s), {} interval(s), {} listener(s){}; server: {total} connection(s) of the key, {attached} with a transport",
                excess.sockets,
                excess.sources,
                excess.timers,
                excess.intervals,
                excess.listeners,
                if listeners { "" } else { " (listeners not checked here)" },
            );
        }
        sleep(50).await;
    }
}

// ----- Helpers for hostile-server and misuse tests (web_hostile.rs, web_misuse.rs) -----

/// Pushes `data` as one WebSocket frame (binary or text) to every WebSocket connection of `key`; returns how
/// many connections got it.
pub async fn raw_frame(key: &str, data: &[u8], binary: bool) -> u32 {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&js_sys::Uint8Array::from(data));
    let url = format!("{SERVER}/_dev/raw?key={key}&binary={}", if binary { 1 } else { 0 });
    let request = web_sys::Request::new_with_str_and_init(&url, &init).unwrap();
    let global: JsValue = js_sys::global().into();
    let fetch: Function = Reflect::get(&global, &"fetch".into()).unwrap().into();
    let response: web_sys::Response = JsFuture::from(Promise::from(fetch.call1(&JsValue::NULL, &request).unwrap()))
        .await
        .expect("dev server reachable")
        .into();
    let text = JsFuture::from(response.text().unwrap()).await.unwrap().as_string().unwrap();
    path(&JSON::parse(&text).unwrap_or(JsValue::NULL), "sent").as_f64().unwrap_or(0.0) as u32
}

/// Lines a logger saw, as (level, message).
pub type LogLines = std::rc::Rc<std::cell::RefCell<Vec<(u32, String)>>>;

/// A `{ log(level, message) }` logger object that keeps every line, and the lines.
pub fn log_collector() -> (JsValue, LogLines) {
    let lines: LogLines = Default::default();
    let sink = lines.clone();
    let log = Closure::<dyn FnMut(JsValue, JsValue)>::new(move |level: JsValue, message: JsValue| {
        sink.borrow_mut().push((level.as_f64().unwrap_or(-1.0) as u32, message.as_string().unwrap_or_default()));
    })
    .into_js_value();
    (object("{}", &[("log", log)]), lines)
}

/// The message of a thrown value or rejection: `error.message` for an Error, else its string form.
pub fn message_of(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => String::from(js_sys::JsString::from(e.clone())),
    }
}

/// Calls `target[name](...args)` synchronously: what it returned (a Promise is not awaited) or threw.
pub fn call_now(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let method = Reflect::get(target, &name.into())?;
    let method: Function = method.dyn_into().map_err(|_| JsValue::from(js_sys::Error::new(&format!("{name} is not a method"))))?;
    method.apply(target, &args.iter().collect())
}

/// Awaits a returned Promise: `Ok(value)`, or `Err(thrown or rejection)`.
pub async fn settled(returned: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    match returned?.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

/// Calls `target[name](...args)` and awaits a returned Promise.
pub async fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    settled(call_now(target, name, args)).await
}

/// Errors that mean a trap or wasm-bindgen's own bookkeeping failed, never a useful error for a caller.
pub const INTERNAL_ERRORS: &[&str] = &[
    "unreachable",
    "recursive use of an object",
    "attempted to take ownership",
    "memory access out of bounds",
    "invalid malloc request",
    "closure invoked",
    "already borrowed",
    "already mutably borrowed",
    "RuntimeError",
];

/// What is wrong with `result` if it is not a thrown `Error` (or a rejection with one) whose message mentions
/// `hint` (case-insensitively; `a|b` accepts either) and is not a trap or an internal wasm-bindgen error.
pub fn clear_error_problem(what: &str, result: &Result<JsValue, JsValue>, hint: &str) -> Option<String> {
    let error = match result {
        Ok(v) => return Some(format!("{what}: expected an error mentioning '{hint}', got a value {v:?}")),
        Err(e) => e,
    };
    if !error.is_instance_of::<js_sys::Error>() {
        return Some(format!("{what}: threw a non-Error {error:?}"));
    }
    let message = message_of(error);
    let name = path(error, "name").as_string().unwrap_or_default();
    if INTERNAL_ERRORS.iter().any(|internal| message.contains(internal) || name.contains(internal)) {
        return Some(format!("{what}: internal error {name}: {message}"));
    }
    if !hint.split('|').any(|h| message.to_lowercase().contains(&h.to_lowercase())) {
        return Some(format!("{what}: {name} '{message}' does not mention '{hint}'"));
    }
    None
}

/// Asserts [`clear_error_problem`] finds nothing wrong.
#[track_caller]
pub fn assert_clear_error(what: &str, result: &Result<JsValue, JsValue>, hint: &str) {
    if let Some(problem) = clear_error_problem(what, result, hint) {
        panic!("{problem}");
    }
}

// ----- Leak counters (tests/web/leaks.js): what a client leaves behind -----

#[wasm_bindgen(module = "/tests/web/leaks.js")]
extern "C" {
    /// Wraps WebSocket, EventSource, timers and window/document listeners with counters (once per page).
    #[wasm_bindgen(js_name = leaksInstall)]
    pub fn leaks_install();
    #[wasm_bindgen(js_name = leaksSnapshot)]
    /// The raw counters (see `leaks` for the parsed form).
    pub fn leaks_snapshot() -> JsValue;
    /// Fires `online` on window: a reconnecting client skips its delay.
    #[wasm_bindgen(js_name = dispatchOnline)]
    pub fn dispatch_online();
}

/// What the counters see now.
pub fn leaks() -> Leaks {
    Leaks::from_snapshot(&leaks_snapshot())
}

// ----- The fault matrix (web_faults_*.rs): injecting faults and counting them -----

thread_local! {
    /// Faults injected so far in this test binary.
    pub static FAULTS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Fault cases run so far in this test binary.
    pub static CASES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Injects a fault through the dev server's `/_dev` API and counts it.
pub async fn fault(path_and_query: &str) -> JsValue {
    FAULTS.with(|f| f.set(f.get() + 1));
    dev("POST", &format!("/_dev/{path_and_query}")).await
}

/// Counts one fault case.
pub fn case() {
    CASES.with(|c| c.set(c.get() + 1));
}

/// A number at a dotted path of a JSON value (0 when absent).
pub fn num(v: &JsValue, dotted: &str) -> f64 {
    path(v, dotted).as_f64().unwrap_or(0.0)
}

/// The dev server's counters for a key.
pub async fn counters(key: &str) -> JsValue {
    dev("GET", &format!("/_dev/counters?key={key}")).await
}

/// Negotiate faults: the query of `/_dev/fail?target=negotiate`, and what the error must say.
pub const NEGOTIATE_FAULTS: [(&str, &str); 5] = [
    ("status=500", "HTTP 500"),
    ("status=404", "HTTP 404"),
    ("status=401", "HTTP 401"),
    ("status=200&body=%3Chtml%3Ea%20proxy%20page%3C%2Fhtml%3E", "Invalid negotiation response"),
    ("status=0&delayMs=4000", "timed out after 700 ms"),
];
