//! Hostile server data in headless Chromium: HubConnection (JSON and MessagePack over WebSockets, JSON over
//! Server-Sent Events, both over long polling) and ConduitRealtimeClient receive invalid JSON, invalid
//! MessagePack, wrong field types, huge declared lengths, 100 000-deep nesting, unknown message types,
//! completions and stream items for unknown ids, invalid UTF-8, a record over maxMessageSize, an empty record
//! and garbage handshakes. Each bad record is reported (an error event, or a log line for unknown ids) and
//! skipped, and the good record after it in the same transport message is delivered (unlike
//! @microsoft/signalr, which drops the connection); where the framing is lost (a MessagePack length prefix)
//! or a frame is above four times maxMessageSize (at least 64 KiB), the client reconnects. After every case a
//! normal invoke works on the same instance.
//!
//! WebSocket frames come from the dev server (`/_dev/raw`); Server-Sent Events, long polls and handshake
//! responses are altered in the page by wrapping `EventSource`, `fetch` and `WebSocket` (see `TAPS`).
#![cfg(target_arch = "wasm32")]

mod web;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use conduit_realtime::bindings::{ConduitRealtimeClient, HubConnection};
use conduit_realtime::protocol::msgpack::varint;
use conduit_realtime::protocol::{transcode, HubMessage, HubProtocol, Invocation, Raw};
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const tap = globalThis.__hostileTap || (globalThis.__hostileTap = { ws: [], sse: [], polls: [], sources: [] });

// Wraps a transport class so that the first message of the next instance (the handshake response) can be
// replaced, and remembers EventSources so that messages can be injected into them.
function replaceFirst(Native, queue, remember) {
  return class extends Native {
    constructor(...args) {
      super(...args);
      this.__replacement = queue.shift();
      if (remember) tap.sources.push(this);
    }
    get onmessage() { return super.onmessage; }
    set onmessage(handler) {
      if (typeof handler !== 'function') { super.onmessage = handler; return; }
      super.onmessage = (event) => {
        if (this.__replacement !== undefined) {
          const data = this.__replacement;
          this.__replacement = undefined;
          return handler.call(this, new MessageEvent('message', { data }));
        }
        return handler.call(this, event);
      };
    }
  };
}

export function installTaps() {
  if (tap.installed) return;
  tap.installed = true;
  globalThis.WebSocket = replaceFirst(globalThis.WebSocket, tap.ws, false);
  globalThis.EventSource = replaceFirst(globalThis.EventSource, tap.sse, true);
  const nativeFetch = globalThis.fetch;
  // Prepends armed bytes to the next non-empty long-poll answer.
  globalThis.fetch = async function (input, init) {
    const response = await nativeFetch.call(globalThis, input, init);
    if (tap.polls.length === 0) return response;
    const method = (input && input.method) || (init && init.method) || 'GET';
    const url = String((input && input.url) || input);
    if (method !== 'GET' || !/[?&]id=/.test(url) || response.status !== 200) return response;
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length === 0) return new Response(body, { status: 200 });
    const prefix = tap.polls.shift();
    const joined = new Uint8Array(prefix.length + body.length);
    joined.set(prefix);
    joined.set(body, prefix.length);
    return new Response(joined, { status: 200 });
  };
}

export function armHandshake(kind, data) { tap[kind].push(data); }
export function armPoll(bytes) { tap.polls.push(bytes); }
export function pendingPolls() { return tap.polls.length; }
export function injectSse(text) {
  const open = tap.sources.filter((s) => s.readyState === 1);
  for (const s of open) s.dispatchEvent(new MessageEvent('message', { data: text }));
  return open.length;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installTaps)]
    fn install_taps();
    #[wasm_bindgen(js_name = armHandshake)]
    fn arm_handshake(kind: &str, data: &JsValue);
    #[wasm_bindgen(js_name = armPoll)]
    fn arm_poll(bytes: &[u8]);
    #[wasm_bindgen(js_name = pendingPolls)]
    fn pending_polls() -> u32;
    #[wasm_bindgen(js_name = injectSse)]
    fn inject_sse(text: &str) -> u32;
}

const SEP: u8 = 0x1e;

fn deep_json(depth: usize) -> Vec<u8> {
    let mut out = b"{\"type\":1,\"target\":\"Marker\",\"arguments\":[".to_vec();
    out.extend(std::iter::repeat_n(b'[', depth));
    out.extend(std::iter::repeat_n(b']', depth));
    out.extend_from_slice(b"]}\x1e");
    out
}

fn json_record(text: &str) -> Vec<u8> {
    let mut out = text.as_bytes().to_vec();
    out.push(SEP);
    out
}

/// A MessagePack record: the VarInt length, then the body.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint::write(&mut out, body.len() as u32);
    out.extend_from_slice(body);
    out
}

/// `Marker(n)` in either protocol.
fn marker(protocol: HubProtocol, n: u32) -> Vec<u8> {
    let args = format!("[{n}]");
    let args = match protocol {
        HubProtocol::Json => args.into_bytes(),
        HubProtocol::MessagePack => transcode::json_to_msgpack(&args).unwrap(),
    };
    let message = HubMessage::Invocation(Invocation {
        headers: vec![],
        invocation_id: None,
        target: "Marker".into(),
        arguments: Raw(&args),
        stream_ids: vec![],
    });
    let mut out = Vec::new();
    protocol.encode(&message, &mut out);
    out
}

/// What a bad record must produce besides being skipped.
#[derive(Clone, Copy)]
enum Expect {
    /// An `onerror` call whose message contains this.
    Error(&'static str),
    /// A log line (at Warning or above) containing this.
    Log(&'static str),
}

/// A started HubConnection with everything it reports recorded.
struct Probe {
    conn: HubConnection,
    key: String,
    protocol: HubProtocol,
    errors: Rc<RefCell<Vec<String>>>,
    logs: LogLines,
    markers: Rc<RefCell<Vec<u32>>>,
    reconnecting: Rc<RefCell<Vec<String>>>,
    reconnected: Rc<Cell<u32>>,
    closed: Rc<Cell<u32>>,
    next: Cell<u32>,
}

fn counter(cell: &Rc<Cell<u32>>) -> Function {
    let c = cell.clone();
    func(move |_| {
        c.set(c.get() + 1);
        JsValue::UNDEFINED
    })
    .into()
}

impl Probe {
    fn new(name: &str, options: &str) -> Probe {
        install_taps();
        let key = unique_key(name);
        let token = key.clone();
        let (logger, logs) = log_collector();
        let options = object(options, &[("accessTokenFactory", func(move |_| JsValue::from_str(&token))), ("logLevel", logger)]);
        let protocol = if path(&options, "protocol").as_string().as_deref() == Some("messagepack") {
            HubProtocol::MessagePack
        } else {
            HubProtocol::Json
        };
        let conn = HubConnection::new(JsValue::from_str(&format!("{SERVER}/hubs/test")), Some(options)).expect("valid options");
        let probe = Probe {
            conn,
            key,
            protocol,
            errors: Default::default(),
            logs,
            markers: Default::default(),
            reconnecting: Default::default(),
            reconnected: Default::default(),
            closed: Default::default(),
            next: Cell::new(1),
        };
        let errors = probe.errors.clone();
        probe.conn.onerror(
            func(move |e| {
                assert!(e.is_instance_of::<js_sys::Error>(), "onerror gets an Error");
                errors.borrow_mut().push(message_of(&e));
                JsValue::UNDEFINED
            })
            .into(),
        ).unwrap();
        let markers = probe.markers.clone();
        probe.conn.on(
            "Marker".into(),
            func(move |n| {
                markers.borrow_mut().push(n.as_f64().unwrap_or(-1.0) as u32);
                JsValue::UNDEFINED
            })
            .into(),
        ).unwrap();
        let reconnecting = probe.reconnecting.clone();
        probe.conn.onreconnecting(
            func(move |e| {
                reconnecting.borrow_mut().push(message_of(&e));
                JsValue::UNDEFINED
            })
            .into(),
        ).unwrap();
        probe.conn.onreconnected(counter(&probe.reconnected).into()).unwrap();
        probe.conn.onclose(counter(&probe.closed).into()).unwrap();
        probe
    }

    async fn start(name: &str, options: &str) -> Probe {
        let probe = Probe::new(name, options);
        settle(probe.conn.start()).await.unwrap_or_else(|e| panic!("{name}: start: {e}"));
        probe
    }

    fn marker(&self) -> (u32, Vec<u8>) {
        let n = self.next.get();
        self.next.set(n + 1);
        (n, marker(self.protocol, n))
    }

    /// A normal invoke works and the connection was never lost.
    async fn still_works(&self, what: &str) {
        let echoed = settle(self.conn.invoke("Echo".into(), Array::of1(&what.into()))).await;
        assert_eq!(echoed.map(|v| v.as_string()), Ok(Some(what.to_string())), "{what}: Echo after the bad data");
        assert_eq!(self.conn.state(), "Connected", "{what}");
    }

    fn warnings_since(&self, from: usize) -> Vec<String> {
        self.logs.borrow()[from..].iter().filter(|(level, _)| *level >= 3).map(|(_, m)| m.clone()).collect()
    }

    /// Checks what the bad record produced, then that the marker sent after it arrived.
    async fn check(&self, what: &str, n: u32, expect: Expect, errors_before: usize, logs_before: usize) {
        wait_for(&format!("{what}: the good record after the bad one"), 5_000, || self.markers.borrow().contains(&n)).await;
        match expect {
            Expect::Error(hint) => {
                let new: Vec<String> = self.errors.borrow()[errors_before..].to_vec();
                assert!(!new.is_empty(), "{what}: no error event");
                assert!(new.iter().any(|m| m.contains(hint)), "{what}: errors {new:?} do not mention '{hint}'");
            }
            Expect::Log(hint) => {
                let new = self.warnings_since(logs_before);
                assert!(new.iter().any(|m| m.contains(hint)), "{what}: log lines {new:?} do not mention '{hint}'");
            }
        }
        assert!(self.reconnecting.borrow().is_empty(), "{what}: the bad record cost the connection");
        assert_eq!(self.closed.get(), 0, "{what}: closed");
        self.still_works(what).await;
    }

    /// Sends `bad` then a marker in one WebSocket frame (binary for MessagePack, or when `binary`).
    async fn frame(&self, what: &str, bad: &[u8], binary: bool, expect: Expect) {
        let (errors_before, logs_before) = (self.errors.borrow().len(), self.logs.borrow().len());
        let (n, good) = self.marker();
        let mut frame = bad.to_vec();
        frame.extend_from_slice(&good);
        let binary = binary || self.protocol == HubProtocol::MessagePack;
        assert_eq!(raw_frame(&self.key, &frame, binary).await, 1, "{what}: the frame reached the connection");
        self.check(what, n, expect, errors_before, logs_before).await;
    }

    /// Injects `bad` then a marker as one Server-Sent Event.
    async fn event(&self, what: &str, bad: &str, expect: Expect) {
        let (errors_before, logs_before) = (self.errors.borrow().len(), self.logs.borrow().len());
        let (n, good) = self.marker();
        let text = format!("{bad}{}", String::from_utf8(good).unwrap());
        assert_eq!(inject_sse(&text), 1, "{what}: one open EventSource");
        self.check(what, n, expect, errors_before, logs_before).await;
    }

    /// Sends bytes that break the MessagePack framing: the client must report it, reconnect, and work.
    async fn fatal_frame(&self, what: &str, bytes: &[u8]) {
        let before = self.reconnected.get();
        assert_eq!(raw_frame(&self.key, bytes, true).await, 1, "{what}");
        self.reconnects(what, before, "Invalid MessagePack framing").await;
    }

    /// The client reports a reason containing `hint`, reconnects (a full reconnect, not a stateful resume) and
    /// works.
    async fn reconnects(&self, what: &str, reconnected_before: u32, hint: &str) {
        wait_for(&format!("{what}: reconnected"), 10_000, || self.reconnected.get() > reconnected_before).await;
        let reasons = self.reconnecting.borrow_mut().split_off(0);
        assert!(reasons.iter().any(|r| r.contains(hint)), "{what}: reasons {reasons:?} do not mention '{hint}'");
        self.still_works(what).await;
    }

    async fn stop(&self) {
        settle(self.conn.stop()).await.unwrap();
        assert_eq!(self.conn.state(), "Disconnected");
    }
}

/// Bad JSON records every transport must skip, with what each must report. Text only (SSE can carry no
/// invalid UTF-8); `deep` is 100 000 levels of nesting.
fn bad_json_records() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let skipped = "Skipped a malformed message";
    let huge = format!("{{\"type\":1,\"target\":\"Marker\",\"arguments\":[\"{}\"]}}", "x".repeat(400_000));
    vec![
        ("invalid JSON", json_record("{not json"), Expect::Error(skipped)),
        ("a bare value", json_record("42"), Expect::Error(skipped)),
        ("type as a string", json_record(r#"{"type":"1","target":"Marker","arguments":[0]}"#), Expect::Error(skipped)),
        ("target as a number", json_record(r#"{"type":1,"target":5,"arguments":[0]}"#), Expect::Error("target")),
        ("arguments as an object", json_record(r#"{"type":1,"target":"Marker","arguments":{}}"#), Expect::Error(skipped)),
        ("invocationId as a number", json_record(r#"{"type":3,"invocationId":7,"result":1}"#), Expect::Error(skipped)),
        // Valid records with odd content are delivered (here to no handler), not skipped.
        ("a huge number", json_record(r#"{"type":1,"target":"Huge","arguments":[1e999999999999]}"#), Expect::Log("Huge")),
        ("100 000 levels of nesting", deep_json(100_000), Expect::Error("nested too deeply")),
        ("unknown message type 99", json_record(r#"{"type":99}"#), Expect::Error("unknown message type 99")),
        ("negative message type", json_record(r#"{"type":-1}"#), Expect::Error(skipped)),
        ("a completion for an unknown id", json_record(r#"{"type":3,"invocationId":"424242","result":1}"#), Expect::Log("unknown invocation '424242'")),
        ("a stream item for an unknown id", json_record(r#"{"type":2,"invocationId":"424243","item":1}"#), Expect::Log("unknown invocation '424243'")),
        ("a record over maxMessageSize", json_record(&huge), Expect::Error("above the limit")),
        ("an empty record", vec![SEP], Expect::Error(skipped)),
        ("a lone surrogate escape", json_record(r#"{"type":1,"target":"\ud800","arguments":[]}"#), Expect::Log("\u{FFFD}")),
        // The decoder checks only the strings and brackets of the arguments; JSON.parse finds the rest.
        ("malformed arguments", json_record(r#"{"type":1,"target":"Marker","arguments":[1,,{"a" 2}]}"#), Expect::Error(skipped)),
    ]
}

/// maxMessageSize 300 000: 100 000 levels of nesting (200 kB) fit, the 400 kB record does not.
const OPTIONS_WS_JSON: &str = r#"{"transport":"WebSockets","maxMessageSize":300000}"#;

#[wasm_bindgen_test]
async fn websocket_json_skips_bad_records_and_keeps_the_next() {
    let p = Probe::start("hostile_ws_json", OPTIONS_WS_JSON).await;
    for (what, bad, expect) in bad_json_records() {
        p.frame(what, &bad, false, expect).await;
    }
    // Binary frames on a JSON connection: invalid UTF-8 reaches the decoder.
    p.frame("invalid UTF-8 in a text record", b"{\"type\":1,\"target\":\"\xff\xfe\",\"arguments\":[]}\x1e", true, Expect::Error("UTF-8")).await;
    p.frame("invalid UTF-8 in an argument", b"{\"type\":1,\"target\":\"Marker\",\"arguments\":[\"\xc3\x28\"]}\x1e", true, Expect::Error("UTF-8")).await;
    // Several bad records in a row, and a good record between two bad ones.
    let mut many = Vec::new();
    for (_, bad, _) in bad_json_records().into_iter().take(6) {
        many.extend(bad);
    }
    p.frame("six bad records in one frame", &many, false, Expect::Error("Skipped")).await;
    let before = p.markers.borrow().len();
    let (n, good) = p.marker();
    let mut sandwich = json_record("{oops");
    sandwich.extend(good);
    sandwich.extend(json_record("[]"));
    assert_eq!(raw_frame(&p.key, &sandwich, false).await, 1);
    wait_for("the record between two bad ones", 5_000, || p.markers.borrow().contains(&n)).await;
    assert_eq!(p.markers.borrow().len(), before + 1);
    // A record cut off at the end of a frame is an error; the next frame is read normally.
    let (errors_before, logs_before) = (p.errors.borrow().len(), p.logs.borrow().len());
    assert_eq!(raw_frame(&p.key, b"{\"type\":1,\"target\":\"Marker\",\"arguments\":[9", false).await, 1);
    let (n, good) = p.marker();
    assert_eq!(raw_frame(&p.key, &good, false).await, 1);
    p.check("a record without its separator", n, Expect::Error("separator"), errors_before, logs_before).await;
    p.stop().await;
}

fn bad_msgpack_records() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let skipped = "Skipped a malformed message";
    let invocation = |tail: &[u8]| {
        let mut body = vec![0x95, 0x01, 0x80, 0xc0, 0xa6];
        body.extend_from_slice(b"Marker");
        body.extend_from_slice(tail);
        framed(&body)
    };
    let mut deep = vec![0x91; 100_000];
    deep.push(0x01);
    let mut long = vec![0x91, 0xdb, 0x00, 0x06, 0x1a, 0x80];
    long.extend(std::iter::repeat_n(b'x', 400_000));
    vec![
        ("a never-used byte (0xc1)", framed(&[0xc1]), Expect::Error(skipped)),
        ("a message that is not an array", framed(&[0x81, 0xa1, b'a', 0x01]), Expect::Error(skipped)),
        ("type as a string", framed(&[0x95, 0xa1, b'1', 0x80, 0xc0, 0xa1, b'M', 0x90]), Expect::Error(skipped)),
        ("invocation id as a number", framed(&[0x95, 0x01, 0x80, 0x05, 0xa1, b'M', 0x90]), Expect::Error(skipped)),
        ("target as a number", framed(&[0x95, 0x01, 0x80, 0xc0, 0x05, 0x90]), Expect::Error(skipped)),
        ("arguments as a map", invocation(&[0x80]), Expect::Error(skipped)),
        ("headers as an array", framed(&[0x95, 0x01, 0x90, 0xc0, 0xa1, b'M', 0x90]), Expect::Error(skipped)),
        ("a str32 declaring 4 GiB", invocation(&[0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, b'x']), Expect::Error(skipped)),
        ("an array32 declaring 4 billion items", invocation(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), Expect::Error(skipped)),
        ("a map32 declaring 4 billion entries", invocation(&[0x91, 0xdf, 0xff, 0xff, 0xff, 0xff]), Expect::Error(skipped)),
        ("a bin32 declaring 4 GiB", invocation(&[0x91, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00]), Expect::Error(skipped)),
        ("100 000 levels of nesting", invocation(&deep), Expect::Error("nested too deeply")),
        ("unknown message type 99", framed(&[0x91, 0x63]), Expect::Error("unknown message type 99")),
        ("negative message type", framed(&[0x92, 0xff, 0x80]), Expect::Error(skipped)),
        ("a completion for an unknown id", framed(&[0x95, 0x03, 0x80, 0xa3, b'9', b'9', b'9', 0x03, 0x01]), Expect::Log("unknown invocation '999'")),
        ("a stream item for an unknown id", framed(&[0x94, 0x02, 0x80, 0xa3, b'9', b'9', b'8', 0x01]), Expect::Log("unknown invocation '998'")),
        ("invalid UTF-8 in the target", framed(&[0x95, 0x01, 0x80, 0xc0, 0xa2, 0xff, 0xfe, 0x90]), Expect::Error("UTF-8")),
        ("invalid UTF-8 in an argument", invocation(&[0x91, 0xa2, 0xc3, 0x28]), Expect::Error("UTF-8")),
        ("invalid UTF-8 in a header", framed(&[0x95, 0x01, 0x81, 0xa1, 0xff, 0xa1, b'v', 0xc0, 0xa1, b'M', 0x90]), Expect::Error("UTF-8")),
        ("a record over maxMessageSize", invocation(&long), Expect::Error("above the limit")),
        ("an empty record", vec![0x00], Expect::Error(skipped)),
    ]
}

#[wasm_bindgen_test]
async fn websocket_messagepack_skips_bad_records_and_keeps_the_next() {
    let p = Probe::start(
        "hostile_ws_msgpack",
        r#"{"transport":"WebSockets","protocol":"messagepack","maxMessageSize":300000,"automaticReconnect":[0,100,100,100]}"#,
    )
    .await;
    for (what, bad, expect) in bad_msgpack_records() {
        p.frame(what, &bad, true, expect).await;
    }
    let mut many = Vec::new();
    for (_, bad, _) in bad_msgpack_records().into_iter().take(8) {
        many.extend(bad);
    }
    p.frame("eight bad records in one frame", &many, true, Expect::Error("Skipped")).await;
    // A length prefix that cannot be trusted loses the framing: the rest of the frame is unreadable, so the
    // client reconnects (and says why).
    p.fatal_frame("a length prefix past the end of the frame", &[0xff, 0xff, 0xff, 0xff, 0x07, 0x91]).await;
    p.fatal_frame("a length prefix above 2^31", &[0x80, 0x80, 0x80, 0x80, 0x10, 0x91, 0x06]).await;
    p.fatal_frame("a length prefix cut short", &[0x80, 0x80]).await;
    let (_, good) = p.marker();
    let mut cut = good.clone();
    cut.truncate(good.len() - 2);
    p.fatal_frame("a record cut short", &cut).await;
    p.stop().await;
}

/// A frame above four times maxMessageSize (here 80 000) is refused before it is copied into WebAssembly memory:
/// the client says why and reconnects, also with stateful reconnect on (a resume would get the same frame again).
#[wasm_bindgen_test]
async fn frames_above_the_frame_limit_are_refused_before_they_are_copied() {
    const OPTIONS: &str = r#""maxMessageSize":20000,"automaticReconnect":[0,100,100,100]"#;
    const REFUSED: &str = "above the limit of 80000";
    let big = "x".repeat(80_001);
    for (transport, binary) in [(r#""WebSockets","statefulReconnect":true"#, false), (r#""WebSockets","protocol":"messagepack""#, true)] {
        let p = Probe::start("frame_limit_ws", &format!(r#"{{"transport":{transport},{OPTIONS}}}"#)).await;
        p.still_works("a frame at the limit").await;
        let before = p.reconnected.get();
        assert_eq!(raw_frame(&p.key, big.as_bytes(), binary).await, 1);
        p.reconnects(&format!("a frame of 80001 (binary: {binary})"), before, REFUSED).await;
        p.stop().await;
    }
    let p = Probe::start("frame_limit_sse", &format!(r#"{{"transport":"ServerSentEvents",{OPTIONS}}}"#)).await;
    assert_eq!(inject_sse(&big), 1);
    p.reconnects("an event of 80001 characters", 0, REFUSED).await;
    p.stop().await;
    let p = Probe::start("frame_limit_lp", &format!(r#"{{"transport":"LongPolling",{OPTIONS}}}"#)).await;
    arm_poll(big.as_bytes());
    // The Echo's completion comes in the poll answer that is refused, so the invocation is cancelled.
    let lost = settle(p.conn.invoke("Echo".into(), Array::of1(&"lost".into()))).await;
    assert!(lost.is_err(), "the Echo was answered in a refused poll: {lost:?}");
    p.reconnects("a poll answer of 80001 bytes", 0, REFUSED).await;
    p.stop().await;
}

#[wasm_bindgen_test]
async fn server_sent_events_skip_bad_records_and_keep_the_next() {
    let p = Probe::start("hostile_sse", r#"{"transport":"ServerSentEvents","maxMessageSize":300000}"#).await;
    for (what, bad, expect) in bad_json_records() {
        p.event(what, core::str::from_utf8(&bad).unwrap(), expect).await;
    }
    p.stop().await;
}

#[wasm_bindgen_test]
async fn long_polling_skips_bad_records_in_a_poll_answer() {
    for (options, protocol) in [
        (r#"{"transport":"LongPolling","maxMessageSize":300000}"#, HubProtocol::Json),
        (r#"{"transport":"LongPolling","protocol":"messagepack","maxMessageSize":300000}"#, HubProtocol::MessagePack),
    ] {
        let p = Probe::start("hostile_lp", options).await;
        let cases: Vec<(&str, Vec<u8>)> = match protocol {
            HubProtocol::Json => bad_json_records().into_iter().filter(|(_, _, e)| matches!(e, Expect::Error(_))).map(|(w, b, _)| (w, b)).collect(),
            HubProtocol::MessagePack => bad_msgpack_records().into_iter().filter(|(_, _, e)| matches!(e, Expect::Error(_))).map(|(w, b, _)| (w, b)).collect(),
        };
        for (what, bad) in cases {
            let errors_before = p.errors.borrow().len();
            arm_poll(&bad);
            // The Echo's completion comes back in the poll answer the bad record was put in front of.
            p.still_works(what).await;
            assert_eq!(pending_polls(), 0, "{what}: the poll answer carried the bad record");
            assert!(p.errors.borrow().len() > errors_before, "{what}: no error event ({protocol:?})");
        }
        assert!(p.reconnecting.borrow().is_empty());
        p.stop().await;
    }
}

#[wasm_bindgen_test]
async fn malformed_messages_for_pending_invocations_do_not_settle_them() {
    for (options, forged) in [
        (
            r#"{"transport":"WebSockets"}"#,
            [
                json_record(r#"{"type":3,"invocationId":"0","result":"forged","error":"both"}"#),
                json_record(r#"{"type":3,"invocationId":"0","result":tru}"#),
                json_record(r#"{"type":2,"invocationId":"0","item":"not a stream"}"#),
            ],
        ),
        (
            r#"{"transport":"WebSockets","protocol":"messagepack"}"#,
            [
                framed(&[0x95, 0x03, 0x80, 0xa1, b'0', 0x03, 0xc1]),
                framed(&[0x95, 0x03, 0x80, 0xa1, b'0', 0x01, 0x05]),
                framed(&[0x94, 0x02, 0x80, 0xa1, b'0', 0x01]),
            ],
        ),
    ] {
        let p = Probe::start("hostile_pending", options).await;
        // The first invocation of a connection has id 0: the forged messages name it.
        let pending = p.conn.invoke("Delay".into(), Array::of2(&700.into(), &"real".into()));
        let (errors_before, logs_before) = (p.errors.borrow().len(), p.logs.borrow().len());
        let (n, good) = p.marker();
        let mut frame = forged.concat();
        frame.extend(good);
        assert_eq!(raw_frame(&p.key, &frame, p.protocol == HubProtocol::MessagePack).await, 1);
        wait_for("the marker after the forged messages", 5_000, || p.markers.borrow().contains(&n)).await;
        assert!(p.errors.borrow().len() >= errors_before + 2, "{options}: {:?}", p.errors.borrow());
        assert!(p.warnings_since(logs_before).iter().any(|l| l.contains("unknown invocation '0'")), "{options}: a stream item for an invoke");
        let result = settle(pending).await;
        assert_eq!(result.map(|v| v.as_string()), Ok(Some("real".to_string())), "{options}: settled by the real completion only");
        p.still_works(options).await;
        p.stop().await;
    }
}

#[wasm_bindgen_test]
async fn a_hundred_thousand_bad_records_in_one_frame() {
    let p = Probe::start("hostile_flood", OPTIONS_WS_JSON).await;
    let (n, good) = p.marker();
    let mut frame = vec![SEP; 100_000];
    frame.extend(good);
    let started = js_sys::Date::now();
    assert_eq!(raw_frame(&p.key, &frame, false).await, 1);
    wait_for("the record after 100 000 empty ones", 20_000, || p.markers.borrow().contains(&n)).await;
    let took = js_sys::Date::now() - started;
    assert_eq!(p.errors.borrow().len(), 100_000, "one error event per skipped record");
    assert!(took < 10_000.0, "skipping 100 000 records took {took} ms");
    p.still_works("after 100 000 bad records").await;
    p.stop().await;
}

#[wasm_bindgen_test]
async fn garbage_handshake_responses_fail_the_start_and_the_next_start_works() {
    install_taps();
    let text = ["<html><body>502 Bad Gateway</body></html>\u{1e}", "{\"error\":5}\u{1e}", "{\"protocol\":\"json\"\u{1e}", "\u{1e}"];
    for (options, kind) in [
        (r#"{"transport":"WebSockets"}"#, "ws"),
        (r#"{"transport":"WebSockets","protocol":"messagepack"}"#, "ws"),
        (r#"{"transport":"ServerSentEvents"}"#, "sse"),
    ] {
        let p = Probe::new("hostile_handshake", options);
        let mut garbage: Vec<JsValue> = text.iter().map(|t| JsValue::from_str(t)).collect();
        if kind == "ws" {
            // Invalid UTF-8 in a binary handshake frame (EventSource carries text only).
            garbage.push(js_sys::Uint8Array::from(&[0x7b, 0xff, 0x7d, 0x1e][..]).buffer().into());
        }
        for data in &garbage {
            arm_handshake(kind, data);
            let error = settle(p.conn.start()).await.expect_err("a garbage handshake fails the start");
            assert!(error.contains("handshake"), "{options}: {error}");
            assert_eq!(p.conn.state(), "Disconnected", "{options}: {error}");
        }
        settle(p.conn.start()).await.unwrap_or_else(|e| panic!("{options}: a clean start after garbage: {e}"));
        p.still_works(options).await;
        p.stop().await;
    }
    // No separator ever: the handshake timeout ends the attempt, and the next start works.
    let p = Probe::new("hostile_handshake_timeout", r#"{"transport":"WebSockets","handshakeTimeoutInMilliseconds":700}"#);
    arm_handshake("ws", &"{\"still\":\"waiting".into());
    let error = settle(p.conn.start()).await.expect_err("no separator: the handshake times out");
    assert!(error.contains("handshake in time"), "{error}");
    settle(p.conn.start()).await.expect("a clean start after the timeout");
    p.still_works("after a handshake timeout").await;
    p.stop().await;
}

#[wasm_bindgen_test]
async fn a_garbage_handshake_during_reconnect_is_retried() {
    let p = Probe::start("hostile_rehandshake", r#"{"transport":"WebSockets","automaticReconnect":[0,100,100,100]}"#).await;
    arm_handshake("ws", &"garbage\u{1e}".into());
    dev("POST", &format!("/_dev/drop?key={}", p.key)).await;
    wait_for("reconnected after a garbage handshake", 10_000, || p.reconnected.get() == 1).await;
    let logs: Vec<String> = p.logs.borrow().iter().map(|(_, m)| m.clone()).collect();
    assert!(logs.iter().any(|l| l.contains("Invalid handshake response")), "{logs:?}");
    assert_eq!(p.reconnecting.borrow().len(), 1, "one reconnect cycle");
    p.still_works("after the retried handshake").await;
    p.stop().await;
}

// ----- ConduitRealtimeClient -----

type Events = Rc<RefCell<Vec<(String, JsValue)>>>;

fn conduit(key: &str, extra: &[(&str, JsValue)]) -> (ConduitRealtimeClient, Events, LogLines) {
    install_taps();
    let (logger, logs) = log_collector();
    let json = format!(r#"{{"virtualKey":"{key}","baseUrl":"{SERVER}/dialect/deployed","maxMessageSize":300000}}"#);
    let mut all: Vec<(&str, JsValue)> = vec![("logLevel", logger)];
    all.extend(extra.iter().cloned());
    let client = ConduitRealtimeClient::new(object(&json, &all)).expect("valid options");
    let events: Events = Default::default();
    for name in ["connected", "disconnected", "reconnecting", "reconnected", "progress", "completed", "error", "subscribed"] {
        let sink = events.clone();
        client.on(
            name.into(),
            func(move |payload| {
                sink.borrow_mut().push((name.to_string(), payload));
                JsValue::UNDEFINED
            })
            .into(),
        ).unwrap();
    }
    (client, events, logs)
}

fn progress(task: &str) -> Vec<u8> {
    json_record(&format!(
        r#"{{"type":1,"target":"ImageGenerationProgress","arguments":[{{"taskId":"{task}","progressPercentage":50,"status":"processing"}}]}}"#
    ))
}

fn count(events: &Events, name: &str) -> usize {
    events.borrow().iter().filter(|(n, _)| n == name).count()
}

#[wasm_bindgen_test]
async fn conduit_client_skips_bad_records_and_keeps_the_next() {
    let key = unique_key("hostile_conduit");
    let (c, events, logs) = conduit(&key, &[]);
    settle(c.connect("image".into())).await.unwrap();
    // A task of ours that runs for the whole test: subscribing to it again is the "normal invoke".
    let task = settle(c.generate_image(object(r#"{"prompt":"hostile ms=60000 steps=2"}"#, &[]))).await.unwrap().as_string().unwrap();
    let mut cases = bad_json_records();
    // The arguments of an event nobody reads are not checked; those of a task event are.
    cases.retain(|(what, _, _)| *what != "malformed arguments");
    cases.push((
        "malformed arguments",
        json_record(r#"{"type":1,"target":"ImageGenerationProgress","arguments":[{"taskId":"t",,"progressPercentage":5}]}"#),
        Expect::Error("Invalid ImageGenerationProgress event"),
    ));
    cases.push(("invalid UTF-8", b"{\"type\":1,\"target\":\"ImageGenerationProgress\",\"arguments\":[\"\xff\"]}\x1e".to_vec(), Expect::Error("UTF-8")));
    cases.push(("a progress with a numeric taskId", json_record(r#"{"type":1,"target":"ImageGenerationProgress","arguments":[{"taskId":42}]}"#), Expect::Error("")));
    for (i, (what, bad, expect)) in cases.into_iter().enumerate() {
        let probe = format!("probe-{i}");
        let (errors_before, logs_before) = (count(&events, "error"), logs.borrow().len());
        let mut frame = bad.clone();
        frame.extend(progress(&probe));
        let binary = core::str::from_utf8(&bad).is_err();
        assert_eq!(raw_frame(&key, &frame, binary).await, 1, "{what}");
        let delivered = || events.borrow().iter().any(|(n, p)| n == "progress" && path(p, "taskId").as_string().as_deref() == Some(probe.as_str()));
        wait_for(&format!("{what}: the progress after the bad record"), 5_000, delivered).await;
        match expect {
            Expect::Error(hint) => {
                let new: Vec<String> = events.borrow().iter().filter(|(n, _)| n == "error").skip(errors_before).map(|(_, p)| {
                    format!("{}: {}", path(p, "type").as_string().unwrap_or_default(), message_of(&path(p, "error")))
                }).collect();
                assert!(new.iter().any(|m| m.contains(hint)), "{what}: error events {new:?} do not mention '{hint}'");
            }
            Expect::Log(hint) => {
                let new: Vec<String> = logs.borrow()[logs_before..].iter().map(|(_, m)| m.clone()).collect();
                assert!(new.iter().any(|m| m.contains(hint)), "{what}: log {new:?} does not mention '{hint}'");
            }
        }
        assert_eq!(count(&events, "reconnecting") + count(&events, "disconnected"), 0, "{what}: the connection was lost");
        settle(c.subscribe_to_task(task.clone().into(), "image".into())).await.unwrap_or_else(|e| panic!("{what}: subscribe after: {e}"));
    }
    let kinds: Vec<String> = events.borrow().iter().filter(|(n, _)| n == "error").map(|(_, p)| path(p, "type").as_string().unwrap()).collect();
    assert!(kinds.iter().all(|k| k == "protocol" || k == "data"), "{kinds:?}");
    let done = settle(c.generate_image(object(r#"{"prompt":"after the hostile frames ms=300 steps=2"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("a normal task after the bad data", 10_000, || {
        events.borrow().iter().any(|(n, p)| n == "completed" && path(p, "taskId").as_string().as_deref() == Some(done.as_str()))
    })
    .await;
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn conduit_client_survives_garbage_handshakes() {
    let key = unique_key("hostile_conduit_hs");
    let (c, events, logs) = conduit(&key, &[]);
    arm_handshake("ws", &"<html>Bad Gateway</html>\u{1e}".into());
    let error = settle(c.connect("image".into())).await.expect_err("a garbage handshake fails connect()");
    assert!(error.contains("handshake"), "{error}");
    assert!(error.to_lowercase().contains("handshake") && !error.contains(&key), "{error}");
    settle(c.connect("image".into())).await.expect("the next connect() works");
    // During a reconnect: the attempt with the garbage fails, a later one succeeds, and tasks still flow.
    arm_handshake("ws", &"{\"error\":\"nope\"\u{1e}".into());
    dev("POST", &format!("/_dev/drop?key={key}")).await;
    wait_for("reconnected", 15_000, || count(&events, "reconnected") == 1).await;
    let lines: Vec<String> = logs.borrow().iter().map(|(_, m)| m.clone()).collect();
    assert!(lines.iter().any(|l| l.contains("Invalid handshake response")), "{lines:?}");
    let id = settle(c.generate_image(object(r#"{"prompt":"after garbage ms=300 steps=2"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("completed", 10_000, || {
        events.borrow().iter().any(|(n, p)| n == "completed" && path(p, "taskId").as_string().as_deref() == Some(id.as_str()))
    })
    .await;
    settle(c.disconnect()).await.unwrap();
}
