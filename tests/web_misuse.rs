//! Wrong or hostile use of the public API in headless Chromium: every public method of HubConnectionBuilder,
//! HubConnection, StreamResult/Subscription and ConduitRealtimeClient called with wrong types (numbers for
//! strings, null/undefined, objects, functions, Symbols, BigInt), option objects with missing or wrong fields,
//! calls in the wrong state, and re-entrant calls from inside callbacks. Each must give a clear error (a thrown
//! or rejected Error naming what is wrong) or a documented no-op, never a trap or a wasm-bindgen internal error
//! ("recursive use of an object", "memory access out of bounds", "unreachable"); the instance must work after.
//!
//! Every scenario runs twice: on the classes of this test build (whose wasm-bindgen glue is built in debug
//! mode, with argument type checks) and on the shipped package, `pkg/web` as built by scripts/build.sh (release
//! glue, no checks), loaded from the dev server. Failures are collected per scenario and reported together.
#![cfg(target_arch = "wasm32")]
// Wrong arguments are built fresh for every call; `&[v.clone()]` reads better than `slice::from_ref`.
#![allow(unknown_lints, clippy::cloned_ref_to_slice_refs)]

mod web;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use conduit_realtime::bindings::{ConduitRealtimeClient, HubConnection, HubConnectionBuilder};
use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
let loads = 0;
export async function loadShipped(server) {
  const base = server + '/pkg/web/';
  // A fresh module instance per call (a new URL is a new module), so one test cannot damage another.
  const m = await import(base + 'conduit_realtime.js?instance=' + (++loads));
  await m.default({ module_or_path: base + 'conduit_realtime_bg.wasm' });
  return m;
}
export function wrongStrings() { return [42, null, undefined, {}, () => 1, Symbol('s'), 10n, ['Echo']]; }
export function wrongFunctions() { return [42, null, undefined, 'f', {}, Symbol('s'), 10n]; }
export function describe(v) {
  if (typeof v === 'symbol') return 'Symbol';
  if (typeof v === 'bigint') return v + 'n';
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}
export function construct(ctor, args) { return Reflect.construct(ctor, args); }
export function circular() { const o = { a: 1 }; o.self = o; return o; }
export function throwingToJson() { return { toJSON() { throw new Error('toJSON boom'); } }; }
export function setProperty(target, key, value) { target[key] = value; }
const errors = [];
export function captureConsoleErrors() {
  if (!console.__hostileCapture) {
    const original = console.error;
    console.error = function (...args) {
      errors.push(args.map((a) => (a && a.message) || String(a)).join(' '));
      return original.apply(this, args);
    };
    console.__hostileCapture = true;
  }
  errors.length = 0;
}
export function consoleErrors() { return errors.slice(); }
// Counts WebSocket frames sent by every connection of the page.
export function countWebSocketSends() {
  if (!WebSocket.prototype.__hostileCounted) {
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (...args) {
      globalThis.__hostileSends = (globalThis.__hostileSends || 0) + 1;
      return send.apply(this, args);
    };
    WebSocket.prototype.__hostileCounted = true;
  }
  return globalThis.__hostileSends || 0;
}
// Callbacks that throw (a Rust closure must not throw through wasm).
export function badTokenFactories() {
  return [
    ['returns 42', () => 42],
    ['returns an object', () => ({ token: 'k' })],
    ['returns a Symbol', () => Symbol('k')],
    ['throws', () => { throw new Error('factory boom'); }],
    ['rejects', () => Promise.reject(new Error('async factory boom'))],
    ['resolves to 42', () => Promise.resolve(42)],
  ];
}
export function countingThrower(state) { return () => { state.calls = (state.calls || 0) + 1; throw new Error('callback threw'); }; }
export function stopAndThrow(conn, state) {
  return () => { state.calls = (state.calls || 0) + 1; conn.stop(); throw new Error('onerror threw'); };
}
// complete() disposes the subscription kept in state.subscription: the usual clean-up.
export function disposingSubscriber(state) {
  return { complete() { state.completes = (state.completes || 0) + 1; if (state.subscription) state.subscription.dispose(); } };
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = loadShipped)]
    async fn load_shipped(server: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = wrongStrings)]
    fn wrong_strings() -> Array;
    #[wasm_bindgen(js_name = wrongFunctions)]
    fn wrong_functions() -> Array;
    fn describe(v: &JsValue) -> String;
    #[wasm_bindgen(catch)]
    fn construct(ctor: &JsValue, args: &Array) -> Result<JsValue, JsValue>;
    fn circular() -> JsValue;
    #[wasm_bindgen(js_name = throwingToJson)]
    fn throwing_to_json() -> JsValue;
    #[wasm_bindgen(catch, js_name = setProperty)]
    fn set_property(target: &JsValue, key: &str, value: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(js_name = captureConsoleErrors)]
    fn capture_console_errors();
    #[wasm_bindgen(js_name = consoleErrors)]
    fn console_errors() -> Array;
    #[wasm_bindgen(js_name = badTokenFactories)]
    fn bad_token_factories() -> Array;
    #[wasm_bindgen(js_name = countWebSocketSends)]
    fn count_web_socket_sends() -> u32;
    #[wasm_bindgen(js_name = countingThrower)]
    fn counting_thrower(state: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = stopAndThrow)]
    fn stop_and_throw(conn: &JsValue, state: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = disposingSubscriber)]
    fn disposing_subscriber(state: &JsValue) -> JsValue;
}

fn counted(state: &JsValue, field: &str) -> u32 {
    path(state, field).as_f64().unwrap_or(0.0) as u32
}

/// The exported classes of one build.
struct Api {
    name: &'static str,
    m: JsValue,
}

impl Api {
    /// This test build's classes, reached through the constructor of an instance.
    fn test_build() -> Api {
        let m = Object::new();
        let class_of = |instance: JsValue| Reflect::get(&instance, &"constructor".into()).unwrap();
        let hub = HubConnection::new(JsValue::from_str(&format!("{SERVER}/hubs/test")), None).unwrap();
        set_field(&m, "HubConnection", &class_of(hub.into()));
        set_field(&m, "HubConnectionBuilder", &class_of(HubConnectionBuilder::new().into()));
        let client = ConduitRealtimeClient::new(object(r#"{"virtualKey":"condt_x"}"#, &[])).unwrap();
        set_field(&m, "ConduitRealtimeClient", &class_of(client.into()));
        Api { name: "test build", m: m.into() }
    }

    async fn shipped() -> Api {
        let m = load_shipped(SERVER).await.unwrap_or_else(|e| {
            panic!("cannot load {SERVER}/pkg/web/ ({}): build it with scripts/build.sh before the dev server starts", message_of(&e))
        });
        Api { name: "shipped pkg/web", m }
    }

    async fn both() -> Vec<Api> {
        vec![Api::test_build(), Api::shipped().await]
    }

    fn construct(&self, class: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let ctor = Reflect::get(&self.m, &class.into()).unwrap();
        construct(&ctor, &args.iter().collect())
    }

    /// A HubConnection to the test hub, with the key the dev server's counters go by.
    fn hub(&self, key: &str) -> JsValue {
        let token = key.to_string();
        let options = object(r#"{"transport":"WebSockets"}"#, &[("accessTokenFactory", func(move |_| JsValue::from_str(&token)))]);
        self.construct("HubConnection", &[format!("{SERVER}/hubs/test").into(), options]).expect("a valid HubConnection")
    }

    fn client(&self, key: &str) -> JsValue {
        let options = object(&format!(r#"{{"virtualKey":"{key}","baseUrl":"{SERVER}/dialect/deployed"}}"#), &[]);
        self.construct("ConduitRealtimeClient", &[options]).expect("a valid client")
    }
}

fn set_field(target: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(target, &key.into(), value).unwrap();
}

/// Failures of one scenario on one build, reported together at the end.
struct Cases {
    build: &'static str,
    run: u32,
    failures: Vec<String>,
}

impl Cases {
    fn new(api: &Api) -> Cases {
        capture_console_errors();
        Cases { build: api.name, run: 0, failures: Vec::new() }
    }

    fn fail(&mut self, what: &str, why: String) {
        self.failures.push(format!("[{}] {what}: {why}", self.build));
    }

    /// Expects a thrown or rejected Error mentioning `hint` that is no trap or internal error.
    fn error(&mut self, what: &str, result: &Result<JsValue, JsValue>, hint: &str) {
        self.run += 1;
        if let Some(problem) = clear_error_problem(what, result, hint) {
            self.failures.push(format!("[{}] {problem}", self.build));
        }
    }

    /// Expects a value (a documented no-op or a success).
    fn ok(&mut self, what: &str, result: &Result<JsValue, JsValue>) -> JsValue {
        self.run += 1;
        match result {
            Ok(v) => v.clone(),
            Err(e) => {
                self.fail(what, format!("expected success, got {}: {}", path(e, "name").as_string().unwrap_or_default(), message_of(e)));
                JsValue::UNDEFINED
            }
        }
    }

    fn check(&mut self, what: &str, holds: bool, detail: impl std::fmt::Debug) {
        self.run += 1;
        if !holds {
            self.fail(what, format!("{detail:?}"));
        }
    }

    /// No handler error was a wasm-bindgen internal error (they are reported on the console).
    fn no_internal_console_errors(&mut self, what: &str) {
        let errors: Vec<String> = console_errors().iter().filter_map(|e| e.as_string()).collect();
        let internal: Vec<&String> = errors.iter().filter(|e| INTERNAL_ERRORS.iter().any(|i| e.contains(i))).collect();
        self.check(what, internal.is_empty(), internal);
    }

    /// Logs the number of cases; the failures, if any, as one text.
    fn finish(self, scenario: &str) -> Option<String> {
        web_sys::console::log_1(&format!("CASES {scenario} [{}]: {}", self.build, self.run).into());
        (!self.failures.is_empty())
            .then(|| format!("{scenario}: {} of {} cases failed:\n{}", self.failures.len(), self.run, self.failures.join("\n")))
    }
}

/// Runs `scenario` on both builds, then fails with every failure of both.
async fn on_both<F, Fut>(scenario: &str, f: F)
where
    F: Fn(Api) -> Fut,
    Fut: std::future::Future<Output = Cases>,
{
    let mut failures = Vec::new();
    for api in Api::both().await {
        failures.extend(f(api).await.finish(scenario));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What wasm-bindgen throws for a method called on a freed object (release glue | debug glue).
const FREED: &str = "null pointer|moved value";

fn noop() -> JsValue {
    Function::new_no_args("").into()
}

fn url() -> JsValue {
    format!("{SERVER}/hubs/test").into()
}

// ----- HubConnectionBuilder -----

async fn builder_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let builder = || api.construct("HubConnectionBuilder", &[]).unwrap();
    for v in wrong_strings().iter() {
        let d = describe(&v);
        let b = builder();
        let r = call_now(&b, "withUrl", &[v.clone()]).and_then(|b| call_now(&b, "build", &[]));
        c.error(&format!("withUrl({d}).build()"), &r, "string");
    }
    let b = builder();
    let r = call(&b, "build", &[]).await;
    c.error("build() without withUrl", &r, "withUrl");
    // Wrong options reach build() as TypeErrors naming the option.
    let wrong: Vec<(&str, &str, JsValue, &str)> = vec![
        ("withUrl", "transport 'Pigeons'", "Pigeons".into(), "transport"),
        ("withUrl", "transport 0", 0.into(), "transport"),
        ("withUrl", "transport 99", 99.into(), "transport"),
        ("withUrl", "transport Symbol", js_sys::Symbol::for_("s").into(), "transport"),
        ("withUrl", "options with skipNegotiation and every transport", object(r#"{"skipNegotiation":true}"#, &[]), "Negotiation"),
        ("withUrl", "options.headers of numbers", object(r#"{"headers":{"x":1}}"#, &[]), "headers"),
        ("withUrl", "options.accessTokenFactory a string", object(r#"{"accessTokenFactory":"token"}"#, &[]), "function"),
        ("withUrl", "options.timeout -1", object(r#"{"timeout":-1}"#, &[]), "timeout"),
        ("withUrl", "options.withCredentials 'yes'", object(r#"{"withCredentials":"yes"}"#, &[]), "withCredentials"),
        ("withAutomaticReconnect", "'soon'", "soon".into(), "automaticReconnect"),
        ("withAutomaticReconnect", "[0, -5]", JsValue::from(Array::of2(&0.into(), &(-5).into())), "non-negative"),
        ("withAutomaticReconnect", "[0, 'x']", JsValue::from(Array::of2(&0.into(), &"x".into())), "non-negative"),
        ("withAutomaticReconnect", "a function", noop(), "automaticReconnect"),
        ("withAutomaticReconnect", "{nextRetryDelayInMilliseconds: 5}", object(r#"{"nextRetryDelayInMilliseconds":5}"#, &[]), "function"),
        ("withAutomaticReconnect", "{maxAttempts: -1}", object(r#"{"maxAttempts":-1}"#, &[]), "maxAttempts"),
        ("withServerTimeout", "-1", (-1).into(), "number"),
        ("withServerTimeout", "'abc'", "abc".into(), "number"),
        ("withServerTimeout", "Infinity", f64::INFINITY.into(), "number"),
        ("withServerTimeout", "10n", js_sys::BigInt::from(10).into(), "number"),
        ("withKeepAliveInterval", "NaN", f64::NAN.into(), "number"),
        ("withKeepAliveInterval", "{}", Object::new().into(), "number"),
        ("withStatefulReconnect", "{bufferSize: 'big'}", object(r#"{"bufferSize":"big"}"#, &[]), "bufferSize"),
        ("configureLogging", "99", 99.into(), "log level"),
        ("configureLogging", "'loud'", "loud".into(), "log level"),
        ("configureLogging", "{log: 5}", object(r#"{"log":5}"#, &[]), "log level"),
        ("configureLogging", "Symbol", js_sys::Symbol::for_("s").into(), "log level"),
        ("withHubProtocol", "'xml'", "xml".into(), "protocol"),
        ("withHubProtocol", "{name: 5}", object(r#"{"name":5}"#, &[]), "protocol"),
        ("withHubProtocol", "42", 42.into(), "protocol"),
    ];
    for (method, d, value, hint) in wrong {
        let b = builder();
        let mut r = call(&b, "withUrl", &[url()]).await;
        if method == "withUrl" {
            r = call(&b, "withUrl", &[url(), value]).await;
        } else if r.is_ok() {
            r = call(&b, method, &[value]).await;
        }
        let r = match r {
            Ok(b) => call(&b, "build", &[]).await,
            Err(e) => Err(e),
        };
        c.error(&format!("{method}({d}) then build()"), &r, hint);
    }
    // Missing fields are defaults, extra fields are ignored.
    let b = builder();
    let r = call(&b, "withUrl", &[url(), object(r#"{"transport":["WebSockets"],"nonsense":1}"#, &[])]).await;
    let r = match r {
        Ok(b) => call(&b, "withAutomaticReconnect", &[object("{}", &[])]).await,
        e => e,
    };
    let conn = match r {
        Ok(b) => call(&b, "build", &[]).await,
        e => e,
    };
    let conn = c.ok("withUrl(url, {transport: [...], nonsense}) + withAutomaticReconnect({}) builds", &conn);
    let started = call(&conn, "start", &[]).await;
    c.ok("the built connection starts", &started);
    let echoed = call(&conn, "invoke", &["Echo".into(), "x".into()]).await;
    c.check("the built connection invokes", echoed.as_ref().ok().and_then(|v| v.as_string()).as_deref() == Some("x"), &echoed);
    let _ = call(&conn, "stop", &[]).await;
    // A freed builder throws a plain Error (wasm-bindgen's null pointer check), it does not trap.
    let b = builder();
    let _ = call(&b, "free", &[]).await;
    let r = call(&b, "withUrl", &[url()]).await;
    c.error("withUrl() on a freed builder", &r, FREED);
    c
}

#[wasm_bindgen_test]
async fn builder_rejects_wrong_types_and_bad_options() {
    on_both("HubConnectionBuilder", builder_cases).await;
}

// ----- HubConnection: wrong types -----

async fn hub_constructor_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    for v in wrong_strings().iter() {
        let r = api.construct("HubConnection", &[v.clone()]);
        c.error(&format!("new HubConnection({})", describe(&v)), &r, "string");
    }
    let wrong: Vec<(&str, JsValue, &str)> = vec![
        ("options 42", 42.into(), "object"),
        ("options 'WebSockets'", "WebSockets".into(), "object"),
        ("options.transport Symbol", object("{}", &[("transport", js_sys::Symbol::for_("s").into())]), "transport"),
        ("options.transport 10n", object("{}", &[("transport", js_sys::BigInt::from(1).into())]), "transport"),
        ("options.accessTokenFactory 42", object(r#"{"accessTokenFactory":42}"#, &[]), "function"),
        ("options.logLevel {}", object(r#"{"logLevel":{}}"#, &[]), "log level"),
        ("options.headers {a: Symbol}", object("{}", &[("headers", object("{}", &[("a", js_sys::Symbol::for_("s").into())]))]), "headers"),
        ("options.timeout 10n", object("{}", &[("timeout", js_sys::BigInt::from(10).into())]), "timeout"),
        ("options.protocol {name: {}}", object(r#"{"protocol":{"name":{}}}"#, &[]), "protocol"),
        ("options.maxMessageSize -1", object(r#"{"maxMessageSize":-1}"#, &[]), "maxMessageSize"),
        ("options.statefulReconnect {bufferSize: -1}", object(r#"{"statefulReconnect":{"bufferSize":-1}}"#, &[]), "bufferSize"),
        ("options.keepAlive above serverTimeout", object(r#"{"keepAliveIntervalInMilliseconds":60000}"#, &[]), "keep-alive"),
        ("options.handshakeTimeoutInMilliseconds 0", object(r#"{"handshakeTimeoutInMilliseconds":0}"#, &[]), "positive"),
    ];
    for (d, options, hint) in wrong {
        let r = api.construct("HubConnection", &[url(), options]);
        c.error(&format!("new HubConnection(url, {d})"), &r, hint);
    }
    for bad_url in ["ftp://example.com/hub", "", "/relative", "http://example.com/hub"] {
        let r = api.construct("HubConnection", &[bad_url.into()]);
        c.error(&format!("new HubConnection('{bad_url}')"), &r, if bad_url.contains("example.com/hub") && bad_url.starts_with("http") { "allowInsecure" } else { "http" });
    }
    // Missing fields: defaults; null and undefined options too.
    for options in [JsValue::UNDEFINED, JsValue::NULL, object("{}", &[])] {
        let r = api.construct("HubConnection", &[url(), options.clone()]);
        c.ok(&format!("new HubConnection(url, {})", describe(&options)), &r);
    }
    c
}

#[wasm_bindgen_test]
async fn hub_connection_constructor_rejects_wrong_types() {
    on_both("new HubConnection", hub_constructor_cases).await;
}

async fn hub_method_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let key = unique_key("misuse_methods");
    let conn = api.hub(&key);
    c.ok("start", &call(&conn, "start", &[]).await);
    for v in wrong_strings().iter() {
        let d = describe(&v);
        for method in ["invoke", "send"] {
            let r = call(&conn, method, &[v.clone(), 1.into()]).await;
            c.error(&format!("{method}({d})"), &r, "string");
        }
        c.error(&format!("stream({d})"), &call(&conn, "stream", &[v.clone()]).await, "string");
        c.error(&format!("on({d}, f)"), &call(&conn, "on", &[v.clone(), noop()]).await, "string");
        c.error(&format!("off({d})"), &call(&conn, "off", &[v.clone()]).await, "string");
    }
    for v in wrong_functions().iter() {
        let d = describe(&v);
        c.error(&format!("on('x', {d})"), &call(&conn, "on", &["x".into(), v.clone()]).await, "function");
        for method in ["onclose", "onreconnecting", "onreconnected", "onerror"] {
            c.error(&format!("{method}({d})"), &call(&conn, method, &[v.clone()]).await, "function");
        }
        // Removing something that was never added is a no-op, whatever it is.
        c.ok(&format!("off('x', {d})"), &call(&conn, "off", &["x".into(), v.clone()]).await);
    }
    // Arguments are serialized like JSON.stringify: what it refuses is a rejection naming the cause.
    let r = call(&conn, "invoke", &["Echo".into(), js_sys::BigInt::from(10).into()]).await;
    c.error("invoke('Echo', 10n)", &r, "serialized");
    c.error("invoke('Echo', circular)", &call(&conn, "invoke", &["Echo".into(), circular()]).await, "serialized");
    c.error("invoke('Echo', toJSON throws)", &call(&conn, "invoke", &["Echo".into(), throwing_to_json()]).await, "toJSON boom");
    c.error("send('Echo', 10n)", &call(&conn, "send", &["Echo".into(), js_sys::BigInt::from(10).into()]).await, "serialized");
    let echoed = call(&conn, "invoke", &["Echo".into(), js_sys::Symbol::for_("s").into()]).await;
    c.check("invoke('Echo', Symbol) sends null, as JSON.stringify does", echoed.as_ref().is_ok_and(|v| v.is_null()), &echoed);
    let unknown = call(&conn, "invoke", &["NoSuchMethod".into()]).await;
    c.error("invoke('NoSuchMethod')", &unknown, "NoSuchMethod");
    // Properties.
    for v in wrong_strings().iter() {
        let r = set_property(&conn, "baseUrl", &v).map(|_| JsValue::UNDEFINED);
        c.error(&format!("baseUrl = {} while connected", describe(&v)), &r, "string");
    }
    let r = set_property(&conn, "baseUrl", &url()).map(|_| JsValue::UNDEFINED);
    c.error("baseUrl = url while connected", &r, "Disconnected");
    for (v, d) in [(JsValue::from("abc"), "'abc'"), ((-5).into(), "-5"), (f64::NAN.into(), "NaN"), (js_sys::BigInt::from(1).into(), "1n")] {
        for property in ["serverTimeoutInMilliseconds", "keepAliveIntervalInMilliseconds"] {
            let before = Reflect::get(&conn, &property.into()).unwrap();
            let r = set_property(&conn, property, &v).map(|_| JsValue::UNDEFINED);
            let after = Reflect::get(&conn, &property.into()).unwrap();
            c.error(&format!("{property} = {d}"), &r, "number");
            c.check(&format!("{property} = {d} keeps the value"), after == before, (&before, &after));
        }
    }
    for getter in ["state", "connectionId", "baseUrl", "serverTimeoutInMilliseconds", "keepAliveIntervalInMilliseconds"] {
        c.ok(&format!("{getter} after all that"), &Reflect::get(&conn, &getter.into()));
    }
    let echoed = call(&conn, "invoke", &["Echo".into(), "still".into()]).await;
    c.check("Echo after every wrong call", echoed.as_ref().ok().and_then(|v| v.as_string()).as_deref() == Some("still"), &echoed);
    c.check("still connected", path(&conn, "state").as_string().as_deref() == Some("Connected"), path(&conn, "state"));
    c.ok("stop", &call(&conn, "stop", &[]).await);
    c.no_internal_console_errors("console");
    c
}

#[wasm_bindgen_test]
async fn hub_connection_methods_reject_wrong_types() {
    on_both("HubConnection methods", hub_method_cases).await;
}

// ----- HubConnection: wrong state -----

async fn hub_state_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let key = unique_key("misuse_state");
    let conn = api.hub(&key);
    let closes = Rc::new(Cell::new(0));
    let cl = closes.clone();
    let _ = call(&conn, "onclose", &[func(move |_| {
        cl.set(cl.get() + 1);
        JsValue::UNDEFINED
    })])
    .await;
    c.error("invoke before start", &call(&conn, "invoke", &["Echo".into(), 1.into()]).await, "'Connected' State");
    c.error("send before start", &call(&conn, "send", &["Echo".into()]).await, "'Connected' State");
    let errors = Rc::new(RefCell::new(Vec::<String>::new()));
    let subscriber = |errors: &Rc<RefCell<Vec<String>>>| {
        let e = errors.clone();
        object("{}", &[("error", func(move |err| {
            e.borrow_mut().push(message_of(&err));
            JsValue::UNDEFINED
        }))])
    };
    let stream = call(&conn, "stream", &["Counter".into(), 3.into(), 10.into()]).await.unwrap();
    let subscription = call(&stream, "subscribe", &[subscriber(&errors)]).await;
    c.check("stream before start: the subscriber's error", errors.borrow().iter().any(|e| e.contains("'Connected' State")), errors.borrow().clone());
    let subscription = c.ok("stream before start: a Subscription", &subscription);
    c.ok("dispose of a stream that never started", &call(&subscription, "dispose", &[]).await);
    c.ok("stop before start", &call(&conn, "stop", &[]).await);
    c.check("stop before start: no onclose", closes.get() == 0, closes.get());
    let first = call_now(&conn, "start", &[]);
    let second = call(&conn, "start", &[]).await;
    c.error("start while starting", &second, "'Disconnected' state");
    c.ok("the first start", &settled(first).await);
    c.error("start while connected", &call(&conn, "start", &[]).await, "'Disconnected' state");
    c.error("baseUrl = 'ftp://x' ", &set_property(&conn, "baseUrl", &"ftp://x".into()).map(|_| JsValue::UNDEFINED), "Connected");
    let pending = call_now(&conn, "invoke", &["Delay".into(), 2_000.into(), "late".into()]);
    let (stop1, stop2) = (call(&conn, "stop", &[]).await, call(&conn, "stop", &[]).await);
    c.ok("stop", &stop1);
    c.ok("stop again (a no-op)", &stop2);
    c.error("an invoke pending at stop", &settled(pending).await, "canceled");
    c.check("one onclose for two stops", closes.get() == 1, closes.get());
    errors.borrow_mut().clear();
    let stream = call(&conn, "stream", &["Counter".into(), 3.into(), 10.into()]).await.unwrap();
    let _ = call(&stream, "subscribe", &[subscriber(&errors)]).await;
    c.check("subscribe after stop: the subscriber's error", errors.borrow().iter().any(|e| e.contains("'Connected' State")), errors.borrow().clone());
    c.error("invoke after stop", &call(&conn, "invoke", &["Echo".into(), 1.into()]).await, "'Connected' State");
    // A keep-alive longer than the server timeout (each setter alone accepts it) is refused by start().
    let _ = set_property(&conn, "keepAliveIntervalInMilliseconds", &60_000.into());
    c.error("start with keep-alive above the server timeout", &call(&conn, "start", &[]).await, "keep-alive");
    let _ = set_property(&conn, "keepAliveIntervalInMilliseconds", &15_000.into());
    c.ok("baseUrl = url while disconnected", &set_property(&conn, "baseUrl", &url()).map(|_| JsValue::UNDEFINED));
    c.error("baseUrl = 'ftp://x' while disconnected", &set_property(&conn, "baseUrl", &"ftp://x".into()).map(|_| JsValue::UNDEFINED), "http");
    c.ok("start after stop", &call(&conn, "start", &[]).await);
    let echoed = call(&conn, "invoke", &["Echo".into(), "again".into()]).await;
    c.check("Echo after restart", echoed.as_ref().ok().and_then(|v| v.as_string()).as_deref() == Some("again"), &echoed);
    // The setter takes any number above 0 and truncates it: 0.5 ms becomes a keep-alive of 0 while connected.
    let before = count_web_socket_sends();
    let _ = set_property(&conn, "keepAliveIntervalInMilliseconds", &0.5.into());
    sleep(300).await;
    let sent = count_web_socket_sends() - before;
    let _ = set_property(&conn, "keepAliveIntervalInMilliseconds", &15_000.into());
    c.check("keepAliveIntervalInMilliseconds = 0.5 while connected does not flood the server", sent < 10, format!("{sent} frames sent in 300 ms"));
    let _ = call(&conn, "stop", &[]).await;
    // A freed connection throws a plain Error, it does not trap.
    let _ = call(&conn, "free", &[]).await;
    c.error("start() on a freed connection", &call(&conn, "start", &[]).await, FREED);
    // Token factories that fail or return no string: start() rejects naming the factory, and the next start
    // with a good token works on the same instance.
    for entry in bad_token_factories().iter() {
        let entry = Array::from(&entry);
        let (d, factory) = (entry.get(0).as_string().unwrap(), entry.get(1));
        let good = Rc::new(Cell::new(false));
        let g = good.clone();
        let bad = factory.clone();
        let chooser = func(move |_| if g.get() { JsValue::from_str("condt_good") } else { bad.dyn_ref::<Function>().unwrap().call0(&JsValue::NULL).unwrap_or_else(|e| e) });
        // A thrown error must stay a throw: wrap in JS so the factory itself throws.
        let factory_js: JsValue = if d == "throws" { factory.clone() } else { chooser };
        let options = object(r#"{"transport":"WebSockets"}"#, &[("accessTokenFactory", factory_js)]);
        let conn = api.construct("HubConnection", &[url(), options]).unwrap();
        let r = call(&conn, "start", &[]).await;
        c.error(&format!("start() with an accessTokenFactory that {d}"), &r, "access token factory|factory boom");
        if d != "throws" {
            good.set(true);
            c.ok(&format!("start() after the factory that {d} works again"), &call(&conn, "start", &[]).await);
        }
        let _ = call(&conn, "stop", &[]).await;
    }
    // A factory that stops the connection it is fetching a token for.
    let slot: Rc<RefCell<JsValue>> = Default::default();
    let s3 = slot.clone();
    let stopper = func(move |_| {
        let _ = call_now(&s3.borrow(), "stop", &[]);
        JsValue::from_str("condt_k")
    });
    let conn = api.construct("HubConnection", &[url(), object(r#"{"transport":"WebSockets"}"#, &[("accessTokenFactory", stopper)])]).unwrap();
    *slot.borrow_mut() = conn.clone();
    c.error("start() whose token factory calls stop()", &call(&conn, "start", &[]).await, "stopped");
    c.check("Disconnected after a stop from the token factory", path(&conn, "state").as_string().as_deref() == Some("Disconnected"), path(&conn, "state"));
    c.no_internal_console_errors("console");
    c
}

#[wasm_bindgen_test]
async fn hub_connection_calls_in_the_wrong_state() {
    on_both("HubConnection state", hub_state_cases).await;
}

// ----- StreamResult and Subscription -----

async fn stream_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let key = unique_key("misuse_stream");
    let conn = api.hub(&key);
    c.ok("start", &call(&conn, "start", &[]).await);
    let counter = || call_now(&conn, "stream", &["Counter".into(), 3.into(), 20.into()]).unwrap();
    for v in [JsValue::from(42), JsValue::NULL, JsValue::UNDEFINED, "next".into(), js_sys::Symbol::for_("s").into()] {
        let r = call(&counter(), "subscribe", &[v.clone()]).await;
        c.error(&format!("subscribe({})", describe(&v)), &r, "subscriber");
    }
    // A subscriber whose next() throws still gets the later items and complete().
    let state = Object::new().into();
    let completed = Rc::new(Cell::new(0));
    let d = completed.clone();
    let thrower = object("{}", &[
        ("next", counting_thrower(&state)),
        ("complete", func(move |_| {
            d.set(d.get() + 1);
            JsValue::UNDEFINED
        })),
    ]);
    let _ = call(&counter(), "subscribe", &[thrower]).await;
    wait_for("complete after throwing next()", 5_000, || completed.get() == 1).await;
    c.check("every item reached the throwing next()", counted(&state, "calls") == 3, counted(&state, "calls"));
    // complete() that disposes its own subscription (a common clean-up), and a second dispose: no-ops.
    let state: JsValue = Object::new().into();
    let stream = call_now(&conn, "stream", &["Counter".into(), 1000.into(), 20.into()]).unwrap();
    let sub = call(&stream, "subscribe", &[disposing_subscriber(&state)]).await.unwrap();
    set_field(&state, "subscription", &sub);
    sleep(50).await;
    c.ok("dispose() a running stream", &call(&sub, "dispose", &[]).await);
    c.check("dispose() completes the stream once", counted(&state, "completes") == 1, counted(&state, "completes"));
    c.ok("dispose() again", &call(&sub, "dispose", &[]).await);
    c.no_internal_console_errors("complete() that disposes its own subscription");
    // Two subscriptions of one StreamResult are two streams; dispose after completion tells the server nothing.
    let completes = Rc::new(Cell::new(0));
    let cc = completes.clone();
    let twice = counter();
    let mut subs = Vec::new();
    for _ in 0..2 {
        let cc = cc.clone();
        let s = object("{}", &[("complete", func(move |_| {
            cc.set(cc.get() + 1);
            JsValue::UNDEFINED
        }))]);
        subs.push(call(&twice, "subscribe", &[s]).await.unwrap());
    }
    wait_for("both subscriptions complete", 5_000, || completes.get() == 2).await;
    let before = path(&dev("GET", &format!("/_dev/counters?key={key}")).await, "streamCancels").as_f64().unwrap_or(0.0);
    for s in &subs {
        c.ok("dispose() after completion", &call(s, "dispose", &[]).await);
    }
    sleep(100).await;
    let after = path(&dev("GET", &format!("/_dev/counters?key={key}")).await, "streamCancels").as_f64().unwrap_or(0.0);
    c.check("dispose() after completion sends no CancelInvocation", after == before, (before, after));
    // A subscription outliving its connection.
    let stream = call_now(&conn, "stream", &["Counter".into(), 1000.into(), 20.into()]).unwrap();
    let errors = Rc::new(RefCell::new(Vec::<String>::new()));
    let e = errors.clone();
    let sub = call(&stream, "subscribe", &[object("{}", &[("error", func(move |err| {
        e.borrow_mut().push(message_of(&err));
        JsValue::UNDEFINED
    }))])]).await.unwrap();
    let _ = call(&conn, "stop", &[]).await;
    c.check("stop ends a running stream with an error", errors.borrow().iter().any(|m| m.contains("canceled")), errors.borrow().clone());
    c.ok("dispose() after stop", &call(&sub, "dispose", &[]).await);
    c.ok("free() a subscription", &call(&sub, "free", &[]).await);
    c.error("dispose() on a freed subscription", &call(&sub, "dispose", &[]).await, FREED);
    c
}

#[wasm_bindgen_test]
async fn stream_result_and_subscription_misuse() {
    on_both("StreamResult/Subscription", stream_cases).await;
}

// ----- HubConnection: re-entrant callbacks -----

async fn hub_reentrant_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let key = unique_key("misuse_reentrant");
    let conn = Rc::new(api.hub(&key));
    let push = |conn: &JsValue, method: &str, arg: JsValue| {
        settled(call_now(conn, "send", &["SendToCaller".into(), method.into(), Array::of1(&arg).into()]))
    };
    // onclose that restarts the connection (the documented way to reconnect by hand).
    let restarts = Rc::new(Cell::new(0));
    let (c1, r1) = (conn.clone(), restarts.clone());
    let restart = func(move |_| {
        if r1.get() == 0 {
            r1.set(1);
            let _ = call_now(&c1, "start", &[]);
        }
        JsValue::UNDEFINED
    });
    let _ = call(&conn, "onclose", &[restart]).await;
    c.ok("start", &call(&conn, "start", &[]).await);
    c.ok("stop (onclose restarts)", &call(&conn, "stop", &[]).await);
    wait_for("restarted from onclose", 5_000, || path(&conn, "state").as_string().as_deref() == Some("Connected")).await;
    let echoed = call(&conn, "invoke", &["Echo".into(), "restarted".into()]).await;
    c.check("Echo after a restart from onclose", echoed.as_ref().ok().and_then(|v| v.as_string()).as_deref() == Some("restarted"), &echoed);
    // A handler that adds and removes handlers (itself included) while being dispatched.
    let calls = Rc::new(RefCell::new(Vec::<&str>::new()));
    let (k1, c2) = (calls.clone(), conn.clone());
    let late = func({
        let k = calls.clone();
        move |_| {
            k.borrow_mut().push("late");
            JsValue::UNDEFINED
        }
    });
    let late2 = late.clone();
    let self_slot: Rc<RefCell<JsValue>> = Rc::new(RefCell::new(JsValue::UNDEFINED));
    let s1 = self_slot.clone();
    let juggler = func(move |_| {
        k1.borrow_mut().push("juggler");
        let _ = call_now(&c2, "off", &["Juggle".into(), s1.borrow().clone()]);
        let _ = call_now(&c2, "on", &["Juggle".into(), late2.clone()]);
        JsValue::UNDEFINED
    });
    *self_slot.borrow_mut() = juggler.clone();
    let _ = call(&conn, "on", &["Juggle".into(), juggler]).await;
    let _ = push(&conn, "Juggle", 1.into()).await;
    wait_for("the juggler ran", 5_000, || !calls.borrow().is_empty()).await;
    sleep(50).await;
    let _ = push(&conn, "Juggle", 2.into()).await;
    wait_for("the late handler ran", 5_000, || calls.borrow().contains(&"late")).await;
    c.check("handlers changed during dispatch apply to the next call", *calls.borrow() == ["juggler", "late"], calls.borrow().clone());
    // onerror that throws and stops the connection, from inside the malformed-record report.
    let state: JsValue = Object::new().into();
    let _ = call(&conn, "onerror", &[stop_and_throw(&conn, &state)]).await;
    raw_frame(&key, b"{bad\x1e{\"type\":1,\"target\":\"Juggle\",\"arguments\":[3]}\x1e", false).await;
    wait_for("onerror stopped the connection", 5_000, || path(&conn, "state").as_string().as_deref() == Some("Disconnected")).await;
    c.check("onerror ran once", counted(&state, "calls") == 1, counted(&state, "calls"));
    // A handler that frees the connection while the server is talking to it.
    c.ok("start again", &call(&conn, "start", &[]).await);
    let c4 = conn.clone();
    let freer = func(move |_| {
        let _ = call_now(&c4, "free", &[]);
        JsValue::UNDEFINED
    });
    let _ = call(&conn, "on", &["FreeMe".into(), freer]).await;
    let _ = push(&conn, "FreeMe", 1.into()).await;
    sleep(300).await;
    c.error("the connection is gone after free() in a handler", &Reflect::get(&conn, &"state".into()), FREED);
    let connections = dev("GET", &format!("/_dev/connections?key={key}")).await;
    c.check("free() in a handler closed the socket", js_sys::Array::from(&path(&connections, "connections")).length() == 0, connections);
    c.no_internal_console_errors("console");
    c
}

#[wasm_bindgen_test]
async fn hub_connection_reentrant_callbacks() {
    on_both("HubConnection re-entrancy", hub_reentrant_cases).await;
}

// ----- ConduitRealtimeClient -----

async fn client_constructor_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let base = format!("{SERVER}/dialect/deployed");
    let with = |extra: &str| object(&format!(r#"{{"virtualKey":"condt_k","baseUrl":"{base}"{extra}}}"#), &[]);
    let wrong: Vec<(&str, JsValue, &str)> = vec![
        ("no options", JsValue::UNDEFINED, "options"),
        ("null", JsValue::NULL, "options"),
        ("a key string", "condt_k".into(), "options"),
        ("42", 42.into(), "options"),
        ("{}", object("{}", &[]), "virtualKey"),
        ("virtualKey 42", object(r#"{"virtualKey":42}"#, &[]), "virtualKey"),
        ("virtualKey ''", object(r#"{"virtualKey":""}"#, &[]), "virtualKey"),
        ("virtualKey '  '", object(r#"{"virtualKey":"  "}"#, &[]), "virtualKey"),
        ("virtualKey Symbol", object("{}", &[("virtualKey", js_sys::Symbol::for_("s").into())]), "virtualKey"),
        ("virtualKey 10n", object("{}", &[("virtualKey", js_sys::BigInt::from(10).into())]), "virtualKey"),
        ("accessTokenFactory 'x'", object(r#"{"accessTokenFactory":"x"}"#, &[]), "accessTokenFactory"),
        ("baseUrl 5", object(r#"{"virtualKey":"condt_k","baseUrl":5}"#, &[]), "baseUrl"),
        ("baseUrl 'ftp://x'", object(r#"{"virtualKey":"condt_k","baseUrl":"ftp://x"}"#, &[]), "baseUrl"),
        ("baseUrl with a query", object(r#"{"virtualKey":"condt_k","baseUrl":"https://a.example/?x=1"}"#, &[]), "baseUrl"),
        ("plain http to another host", object(r#"{"virtualKey":"condt_k","baseUrl":"http://a.example"}"#, &[]), "allowInsecure"),
        ("transport 'Pigeons'", with(r#","transport":"Pigeons""#), "transport"),
        ("transport 1", with(r#","transport":1"#), "transport"),
        ("protocol 'xml'", with(r#","protocol":"xml""#), "protocol"),
        ("maxReconnectAttempts -1", with(r#","maxReconnectAttempts":-1"#), "maxReconnectAttempts"),
        ("maxReconnectAttempts '5'", with(r#","maxReconnectAttempts":"5""#), "maxReconnectAttempts"),
        ("serverTimeoutInMilliseconds 0", with(r#","serverTimeoutInMilliseconds":0"#), "serverTimeoutInMilliseconds"),
        ("requestTimeoutInMilliseconds 0", with(r#","requestTimeoutInMilliseconds":0"#), "requestTimeoutInMilliseconds"),
        ("logLevel {}", with(r#","logLevel":{}"#), "log level"),
        ("enableLogging 'yes'", with(r#","enableLogging":"yes""#), "enableLogging"),
        ("withCredentials 1", with(r#","withCredentials":1"#), "withCredentials"),
        ("maxFinishedTasks 10n", object("{}", &[("virtualKey", "condt_k".into()), ("maxFinishedTasks", js_sys::BigInt::from(10).into())]), "maxFinishedTasks"),
        ("skipNegotiation with LongPolling", with(r#","skipNegotiation":true,"transport":"LongPolling""#), "skipNegotiation"),
    ];
    for (d, options, hint) in wrong {
        let r = api.construct("ConduitRealtimeClient", &[options]);
        c.error(&format!("new ConduitRealtimeClient({d})"), &r, hint);
    }
    c.check("TypeErrors", api.construct("ConduitRealtimeClient", &[JsValue::UNDEFINED]).err().is_some_and(|e| e.is_instance_of::<js_sys::TypeError>()), "");
    c.ok("only a key", &api.construct("ConduitRealtimeClient", &[object(r#"{"virtualKey":"condt_k"}"#, &[])]));
    c.ok("only a factory", &api.construct("ConduitRealtimeClient", &[object("{}", &[("accessTokenFactory", noop())])]));
    c
}

#[wasm_bindgen_test]
async fn conduit_client_constructor_rejects_bad_options() {
    on_both("new ConduitRealtimeClient", client_constructor_cases).await;
}

async fn client_method_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let key = unique_key("misuse_client");
    let client = api.client(&key);
    let hubs: Vec<JsValue> = vec![42.into(), JsValue::NULL, JsValue::UNDEFINED, "audio".into(), "IMAGE".into(), object("{}", &[]), js_sys::Symbol::for_("s").into()];
    for h in &hubs {
        c.error(&format!("connect({})", describe(h)), &call(&client, "connect", &[h.clone()]).await, "hubType");
    }
    let ids: Vec<JsValue> = vec![42.into(), JsValue::NULL, JsValue::UNDEFINED, "".into(), object("{}", &[]), js_sys::Symbol::for_("s").into(), js_sys::BigInt::from(1).into()];
    for id in &ids {
        let d = describe(id);
        c.error(&format!("subscribeToTask({d}, 'image')"), &call(&client, "subscribeToTask", &[id.clone(), "image".into()]).await, "taskId");
        c.error(&format!("unsubscribeFromTask({d})"), &call(&client, "unsubscribeFromTask", &[id.clone()]).await, "taskId");
        c.error(&format!("cancelTask({d}, 'image')"), &call(&client, "cancelTask", &[id.clone(), "image".into()]).await, "taskId");
        c.error(&format!("getTaskStatus({d}, 'image')"), &call(&client, "getTaskStatus", &[id.clone(), "image".into()]).await, "taskId");
    }
    for h in &hubs[..4] {
        c.error(&format!("subscribeToTask('t', {})", describe(h)), &call(&client, "subscribeToTask", &["t".into(), h.clone()]).await, "taskType");
    }
    c.error("cancelTask('t', 'audio')", &call(&client, "cancelTask", &["t".into(), "audio".into()]).await, "taskType");
    c.error("cancelTask of an unknown task without its type", &call(&client, "cancelTask", &["t".into()]).await, "taskType");
    c.error("getTaskStatus of an unknown task without its type", &call(&client, "getTaskStatus", &["t".into()]).await, "taskType");
    let params: Vec<(&str, JsValue, &str)> = vec![
        ("undefined", JsValue::UNDEFINED, "prompt"),
        ("42", 42.into(), "prompt"),
        ("'a prompt'", "a prompt".into(), "prompt"),
        ("[]", Array::new().into(), "prompt"),
        ("{}", object("{}", &[]), "prompt"),
        ("{prompt: 5}", object(r#"{"prompt":5}"#, &[]), "prompt"),
        ("{prompt: '  '}", object(r#"{"prompt":"  "}"#, &[]), "prompt"),
        ("{prompt, model: 5}", object(r#"{"prompt":"x","model":5}"#, &[]), "model"),
        ("{prompt, n: 10n}", object(r#"{"prompt":"x"}"#, &[("n", js_sys::BigInt::from(10).into())]), "JSON"),
        ("{prompt, self: circular}", object(r#"{"prompt":"x"}"#, &[("self", circular())]), "JSON"),
    ];
    for (d, p, hint) in &params {
        for method in ["generateImage", "generateVideo"] {
            c.error(&format!("{method}({d})"), &call(&client, method, &[p.clone()]).await, hint);
        }
    }
    for v in wrong_strings().iter() {
        let d = describe(&v);
        for method in ["on", "once"] {
            c.error(&format!("{method}({d}, f)"), &call(&client, method, &[v.clone(), noop()]).await, "string");
        }
        c.error(&format!("off({d})"), &call(&client, "off", &[v.clone()]).await, "string");
        if !v.is_null() && !v.is_undefined() {
            c.error(&format!("removeAllListeners({d})"), &call(&client, "removeAllListeners", &[v.clone()]).await, "string");
        }
    }
    for v in wrong_functions().iter() {
        let d = describe(&v);
        for method in ["on", "once"] {
            c.error(&format!("{method}('progress', {d})"), &call(&client, method, &["progress".into(), v.clone()]).await, "function");
        }
        c.error(&format!("onChange({d})"), &call(&client, "onChange", &[v.clone()]).await, "function");
        c.ok(&format!("off('progress', {d}) (nothing to remove)"), &call(&client, "off", &["progress".into(), v.clone()]).await);
    }
    c.check("isConnected(42) is a boolean", call_now(&client, "isConnected", &[42.into()]).is_ok_and(|v| v == JsValue::FALSE), "");
    c.ok("on() of an unknown event name (never emitted)", &call(&client, "on", &["no-such-event".into(), noop()]).await);
    c.ok("getSnapshot", &call(&client, "getSnapshot", &[]).await);
    c.ok("clearFinishedTasks", &call(&client, "clearFinishedTasks", &[]).await);
    // After all of that the client works.
    c.ok("connect('image')", &call(&client, "connect", &["image".into()]).await);
    let id = call(&client, "generateImage", &[object(r#"{"prompt":"after misuse ms=200 steps=2"}"#, &[])]).await;
    c.check("generateImage after the wrong calls", id.as_ref().is_ok_and(|v| v.is_string()), &id);
    c.ok("disconnect", &call(&client, "disconnect", &[]).await);
    c.no_internal_console_errors("console");
    c
}

#[wasm_bindgen_test]
async fn conduit_client_methods_reject_wrong_types() {
    on_both("ConduitRealtimeClient methods", client_method_cases).await;
}

fn events(client: &JsValue, names: &[&'static str]) -> Rc<RefCell<Vec<(&'static str, JsValue)>>> {
    let log: Rc<RefCell<Vec<(&'static str, JsValue)>>> = Default::default();
    for name in names {
        let sink = log.clone();
        let name: &'static str = name;
        let _ = call_now(client, "on", &[name.into(), func(move |p| {
            sink.borrow_mut().push((name, p));
            JsValue::UNDEFINED
        })]);
    }
    log
}

async fn client_state_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    let key = unique_key("misuse_client_state");
    let client = api.client(&key);
    let log = events(&client, &["subscribed", "connected", "error", "completed"]);
    c.error("subscribeToTask before connect", &call(&client, "subscribeToTask", &["t".into(), "image".into()]).await, "connect('image')");
    // generateImage without connect works over HTTP (documented) and subscribes to nothing.
    let id = call(&client, "generateImage", &[object(r#"{"prompt":"no socket ms=200 steps=2"}"#, &[])]).await;
    let id = c.ok("generateImage without connect", &id);
    c.check("generateImage without connect: a task id", id.is_string(), &id);
    c.check("generateImage without connect: no subscription", log.borrow().iter().all(|(n, _)| *n != "subscribed"), "");
    c.ok("unsubscribeFromTask of a task never subscribed", &call(&client, "unsubscribeFromTask", &[id.clone()]).await);
    let status = call(&client, "getTaskStatus", &[id.clone()]).await;
    c.ok("getTaskStatus of that task (its type is remembered)", &status);
    // Two connects at once share one start; a connect once connected resolves at once.
    let (a, b) = (call_now(&client, "connect", &["image".into()]), call_now(&client, "connect", &["image".into()]));
    c.ok("connect('image')", &settled(a).await);
    c.ok("connect('image') at the same time", &settled(b).await);
    c.ok("connect('image') when connected", &call(&client, "connect", &["image".into()]).await);
    let connected = log.borrow().iter().filter(|(n, _)| *n == "connected").count();
    c.check("one 'connected' event for three connects", connected == 1, connected);
    c.ok("subscribeToTask once connected", &call(&client, "subscribeToTask", &[id.clone(), "image".into()]).await);
    c.ok("subscribeToTask again (already subscribed)", &call(&client, "subscribeToTask", &[id.clone(), "image".into()]).await);
    // connect() while the hub reconnects resolves once it is back (it is not a second start).
    let reconnecting = events(&client, &["reconnecting", "reconnected"]);
    dev("POST", &format!("/_dev/drop?key={key}")).await;
    wait_for("reconnecting", 5_000, || reconnecting.borrow().iter().any(|(n, _)| *n == "reconnecting")).await;
    let during = call(&client, "connect", &["image".into()]).await;
    c.ok("connect('image') while reconnecting", &during);
    wait_for("reconnected", 10_000, || reconnecting.borrow().iter().any(|(n, _)| *n == "reconnected")).await;
    c.check("connected after the reconnect", call_now(&client, "isConnected", &["image".into()]) == Ok(JsValue::TRUE), "");
    c.ok("disconnect", &call(&client, "disconnect", &[]).await);
    c.ok("disconnect again (a no-op)", &call(&client, "disconnect", &[]).await);
    c.error("connect after disconnect", &call(&client, "connect", &["image".into()]).await, "disposed");
    c.error("generateImage after disconnect", &call(&client, "generateImage", &[object(r#"{"prompt":"x"}"#, &[])]).await, "disposed");
    c.error("subscribeToTask after disconnect", &call(&client, "subscribeToTask", &[id.clone(), "image".into()]).await, "connect");
    let snapshot = call_now(&client, "getSnapshot", &[]).unwrap_or(JsValue::UNDEFINED);
    c.check("the snapshot says disposed", path(&snapshot, "disposed") == JsValue::TRUE, &snapshot);
    c.check("isConnected() after disconnect", call_now(&client, "isConnected", &[]).is_ok_and(|v| v == JsValue::FALSE), "");
    let _ = call(&client, "free", &[]).await;
    c.error("connect() on a freed client", &call(&client, "connect", &["image".into()]).await, FREED);
    // A token factory that returns no string: the hub and HTTP calls say so (instead of a bare 401).
    for entry in bad_token_factories().iter() {
        let entry = Array::from(&entry);
        let (d, factory) = (entry.get(0).as_string().unwrap(), entry.get(1));
        let options = object(&format!(r#"{{"baseUrl":"{SERVER}/dialect/deployed"}}"#), &[("accessTokenFactory", factory)]);
        let client = api.construct("ConduitRealtimeClient", &[options]).unwrap();
        let r = call(&client, "generateImage", &[object(r#"{"prompt":"x"}"#, &[])]).await;
        c.error(&format!("generateImage() with an accessTokenFactory that {d}"), &r, "access token factory");
        let r = call(&client, "connect", &["image".into()]).await;
        c.error(&format!("connect() with an accessTokenFactory that {d}"), &r, "access token factory");
        let _ = call(&client, "disconnect", &[]).await;
    }
    c.no_internal_console_errors("console");
    c
}

#[wasm_bindgen_test]
async fn conduit_client_calls_in_the_wrong_state() {
    on_both("ConduitRealtimeClient state", client_state_cases).await;
}

async fn client_reentrant_cases(api: Api) -> Cases {
    let mut c = Cases::new(&api);
    // An onChange listener that calls connect() again while the first connect() is starting.
    let key = unique_key("misuse_client_onchange");
    let client = Rc::new(api.client(&key));
    let inner: Rc<RefCell<Option<js_sys::Promise>>> = Default::default();
    let (c1, i1) = (client.clone(), inner.clone());
    let listener = func(move |_| {
        if i1.borrow().is_none() {
            if let Ok(p) = Reflect::get(&c1, &"connect".into()).and_then(|f| Function::from(f).call1(&c1, &"image".into())) {
                *i1.borrow_mut() = Some(p.into());
            }
        }
        JsValue::UNDEFINED
    });
    let _ = call(&client, "onChange", &[listener]).await;
    let outer = call(&client, "connect", &["image".into()]).await;
    c.ok("connect() with an onChange listener that calls connect()", &outer);
    let inner = inner.borrow_mut().take();
    c.check("the listener's connect() ran", inner.is_some(), "");
    if let Some(p) = inner {
        c.ok("the connect() called from onChange", &settle(p).await.map_err(|e| JsValue::from(js_sys::Error::new(&e))));
    }
    let mut waited = 0;
    while call_now(&client, "isConnected", &["image".into()]).ok() != Some(JsValue::TRUE) && waited < 5_000 {
        sleep(50).await;
        waited += 50;
    }
    c.check("the hub connects", waited < 5_000, "not connected after 5 s");
    let _ = call(&client, "disconnect", &[]).await;

    // Listeners that throw, unsubscribe, remove themselves and disconnect from inside events.
    let key = unique_key("misuse_client_listeners");
    let client = Rc::new(api.client(&key));
    let log = events(&client, &["progress", "completed", "unsubscribed", "disconnected", "error"]);
    let _ = call(&client, "on", &["progress".into(), Function::new_no_args("throw new Error('listener threw')").into()]).await;
    let once_calls = Rc::new(Cell::new(0));
    let oc = once_calls.clone();
    let _ = call(&client, "once", &["progress".into(), func(move |_| {
        oc.set(oc.get() + 1);
        JsValue::UNDEFINED
    })]).await;
    let (c2, unsub) = (client.clone(), Rc::new(RefCell::new(None::<js_sys::Promise>)));
    let u2 = unsub.clone();
    let self_slot: Rc<RefCell<JsValue>> = Default::default();
    let s2 = self_slot.clone();
    let unsubscriber = func(move |p| {
        // Unsubscribe from the task and remove this listener, from inside its own event.
        if u2.borrow().is_none() {
            let f = Function::from(Reflect::get(&c2, &"unsubscribeFromTask".into()).unwrap());
            *u2.borrow_mut() = f.call1(&c2, &path(&p, "taskId")).ok().map(Into::into);
            let off = Function::from(Reflect::get(&c2, &"off".into()).unwrap());
            let _ = off.call2(&c2, &"progress".into(), &s2.borrow());
        }
        JsValue::UNDEFINED
    });
    *self_slot.borrow_mut() = unsubscriber.clone();
    let _ = call(&client, "on", &["progress".into(), unsubscriber]).await;
    c.ok("connect", &call(&client, "connect", &["image".into()]).await);
    let id = call(&client, "generateImage", &[object(r#"{"prompt":"reentrant ms=600 steps=4"}"#, &[])]).await;
    let id = c.ok("generateImage", &id);
    wait_for("the first progress", 5_000, || unsub.borrow().is_some()).await;
    let unsubscribed = unsub.borrow_mut().take().unwrap();
    c.ok("unsubscribeFromTask() called from a progress listener", &settle(unsubscribed).await.map_err(|e| JsValue::from(js_sys::Error::new(&e))));
    c.check("once() ran once", once_calls.get() == 1, once_calls.get());
    c.check("an 'unsubscribed' event", log.borrow().iter().any(|(n, p)| *n == "unsubscribed" && path(p, "taskId") == id), "");
    // A 'completed' listener that disconnects; a 'disconnected' listener that tries to connect again.
    let (c3, c4) = (client.clone(), client.clone());
    let reconnect = Rc::new(RefCell::new(None::<js_sys::Promise>));
    let r4 = reconnect.clone();
    let _ = call(&client, "on", &["completed".into(), func(move |_| {
        let _ = Function::from(Reflect::get(&c3, &"disconnect".into()).unwrap()).call0(&c3);
        JsValue::UNDEFINED
    })]).await;
    let _ = call(&client, "on", &["disconnected".into(), func(move |_| {
        *r4.borrow_mut() = Function::from(Reflect::get(&c4, &"connect".into()).unwrap()).call1(&c4, &"image".into()).ok().map(Into::into);
        JsValue::UNDEFINED
    })]).await;
    let second = call(&client, "generateImage", &[object(r#"{"prompt":"then disconnect ms=200 steps=2"}"#, &[])]).await;
    c.ok("a second generateImage", &second);
    let _ = call(&client, "subscribeToTask", &[second.clone().unwrap_or_default(), "image".into()]).await;
    wait_for("disconnected from a 'completed' listener", 10_000, || log.borrow().iter().any(|(n, _)| *n == "disconnected")).await;
    let again = reconnect.borrow_mut().take();
    c.check("the 'disconnected' listener's connect() ran", again.is_some(), "");
    if let Some(p) = again {
        let r = settle(p).await.map_err(|e| JsValue::from(js_sys::Error::new(&e)));
        c.error("connect() from a 'disconnected' listener after disconnect()", &r, "disposed");
    }
    c.no_internal_console_errors("console");
    c
}

#[wasm_bindgen_test]
async fn conduit_client_reentrant_listeners() {
    on_both("ConduitRealtimeClient re-entrancy", client_reentrant_cases).await;
}
