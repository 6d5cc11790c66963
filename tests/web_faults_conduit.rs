//! The fault matrix for ConduitRealtimeClient in headless Chromium against the dev server (issue #8): for every
//! fault, the client recovers (connected again, calls work) and every task's final outcome (completed, failed
//! or cancelled) reaches the user exactly once, its progress never going back. Faults: abrupt drops (both
//! dialects, both hubs), a silent server, a server restart, Close with and without allowReconnect, negotiate
//! failing (500, 404, 401, garbage, hang) at connect and during reconnect, refused WebSocket upgrades while
//! reconnecting, 50 drops in a row with 20 tasks in flight, and a 100,000-event flood while tasks subscribe and
//! unsubscribe. Every case ends with nothing left behind: sockets, timers, window/document listeners (counted by
//! wrappers installed before any client exists) and connections at the server.
#![cfg(target_arch = "wasm32")]

mod web;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use conduit_realtime::bindings::ConduitRealtimeClient;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static OUTCOMES: Cell<u32> = const { Cell::new(0) };
    static LOST: Cell<u32> = const { Cell::new(0) };
    static DUPLICATES: Cell<u32> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u32>>, n: u32) {
    counter.with(|c| c.set(c.get() + n));
}

fn summary(test: &str, started: f64, excess: Leaks) {
    console_line(&format!(
        "[fault-matrix conduit] {test}: {:.1} s; totals so far: {} cases, {} faults injected, {} outcomes checked, {} lost, {} duplicated; left behind: {} sockets, {} EventSources, {} timers, {} listeners",
        (now() - started) / 1000.0,
        CASES.with(Cell::get),
        FAULTS.with(Cell::get),
        OUTCOMES.with(Cell::get),
        LOST.with(Cell::get),
        DUPLICATES.with(Cell::get),
        excess.sockets,
        excess.sources,
        excess.timers + excess.intervals,
        excess.listeners,
    ));
}

/// One event the client emitted.
struct Ev {
    name: &'static str,
    task: Option<String>,
    hub: Option<String>,
    progress: Option<f64>,
    /// `error.message` of reconnecting/disconnected/error events.
    message: String,
    /// `type` of error events.
    kind: String,
    /// The payload (kept for all but progress events).
    payload: Option<JsValue>,
}

type Log = Rc<RefCell<Vec<Ev>>>;

const EVENTS: [&str; 12] = [
    "connected", "disconnected", "reconnecting", "reconnected", "started", "progress", "completed", "failed", "cancelled",
    "subscribed", "unsubscribed", "error",
];

fn record(c: &ConduitRealtimeClient) -> Log {
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    for name in EVENTS {
        let sink = log.clone();
        let f: Function = func(move |p| {
            let text = |k: &str| path(&p, k).as_string();
            sink.borrow_mut().push(Ev {
                name,
                task: text("taskId"),
                hub: text("hubType"),
                progress: if name == "progress" { path(&p, "progress").as_f64() } else { None },
                message: if p.is_object() && path(&p, "error").is_object() { text("error.message").unwrap_or_default() } else { String::new() },
                kind: if name == "error" { text("type").unwrap_or_default() } else { String::new() },
                payload: (name != "progress").then_some(p),
            });
            JsValue::UNDEFINED
        })
        .into();
        c.on(name.into(), f.into()).unwrap();
    }
    log
}

fn count(log: &Log, name: &str, task: &str) -> usize {
    log.borrow().iter().filter(|e| e.name == name && e.task.as_deref() == Some(task)).count()
}

fn hub_events(log: &Log, name: &str, hub: &str) -> Vec<String> {
    log.borrow().iter().filter(|e| e.name == name && e.hub.as_deref() == Some(hub)).map(|e| e.message.clone()).collect()
}

fn named(log: &Log, name: &str) -> usize {
    log.borrow().iter().filter(|e| e.name == name).count()
}

const TERMINAL: [&str; 3] = ["completed", "failed", "cancelled"];

fn terminals(log: &Log, task: &str) -> Vec<&'static str> {
    log.borrow().iter().filter(|e| TERMINAL.contains(&e.name) && e.task.as_deref() == Some(task)).map(|e| e.name).collect()
}

/// The client, its recorded events and its log lines.
struct Client {
    c: ConduitRealtimeClient,
    log: Log,
    lines: Rc<RefCell<Vec<String>>>,
}

impl Client {
    fn failed_attempts(&self) -> Vec<String> {
        self.lines.borrow().iter().filter(|l| l.contains("Connection attempt failed")).cloned().collect()
    }
}

fn client_at(base_url: &str, key: &str, extra: &str) -> Client {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = lines.clone();
    let logger = object("{}", &[("log", func2(move |_level, message| {
        sink.borrow_mut().push(message.as_string().unwrap_or_default());
        JsValue::UNDEFINED
    }))]);
    let json = format!(r#"{{"virtualKey":"{key}","baseUrl":"{base_url}","maxReconnectAttempts":50{extra}}}"#);
    let c = ConduitRealtimeClient::new(object(&json, &[("logger", logger)])).expect("valid options");
    let log = record(&c);
    Client { c, log, lines }
}

fn client(key: &str, extra: &str) -> Client {
    client_at(SERVER, key, extra)
}

async fn connect(c: &Client, hub: &str) {
    settle(c.c.connect(hub.into())).await.unwrap_or_else(|e| panic!("connect('{hub}'): {e}"));
    assert!(c.c.is_connected(hub.into()));
}

async fn generate(c: &Client, prompt: &str) -> String {
    let params = object(&format!(r#"{{"model":"dall-e-3","prompt":"{prompt}"}}"#), &[]);
    settle(c.c.generate_image(params)).await.unwrap_or_else(|e| panic!("generateImage({prompt}): {e}")).as_string().unwrap()
}

async fn generate_video(c: &Client, prompt: &str) -> String {
    let params = object(&format!(r#"{{"model":"veo","prompt":"{prompt}","duration":4}}"#), &[]);
    settle(c.c.generate_video(params)).await.unwrap_or_else(|e| panic!("generateVideo({prompt}): {e}")).as_string().unwrap()
}

async fn first_progress(c: &Client, task: &str) {
    wait_for("the task's first progress", 10_000, || count(&c.log, "progress", task) >= 1).await;
}

async fn wait_outcomes(c: &Client, tasks: &[(String, &str)], timeout_ms: u32) {
    wait_for("every task's outcome", timeout_ms, || tasks.iter().all(|(id, _)| !terminals(&c.log, id).is_empty())).await;
}

/// Checks every task's outcome reached the user exactly once and as expected, and that its progress never went
/// back and nothing followed the outcome. Counts outcomes, losses and duplicates first, so the totals are right
/// even when the assertion fails.
fn check_outcomes(what: &str, c: &Client, tasks: &[(String, &str)]) {
    for (id, _) in tasks {
        let n = terminals(&c.log, id).len() as u32;
        bump(&OUTCOMES, 1);
        if n == 0 {
            bump(&LOST, 1);
        }
        bump(&DUPLICATES, n.saturating_sub(1));
    }
    for (id, expected) in tasks {
        let got = terminals(&c.log, id);
        assert_eq!(got, vec![*expected], "{what}: task {id} must end once, {expected}; got {got:?}");
        let log = c.log.borrow();
        let mine: Vec<&Ev> = log.iter().filter(|e| e.task.as_deref() == Some(id.as_str())).collect();
        let progress: Vec<f64> = mine.iter().filter_map(|e| e.progress).collect();
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{what}: progress of {id} went back: {progress:?}");
        let end = mine.iter().position(|e| TERMINAL.contains(&e.name)).unwrap();
        let after: Vec<&str> = mine[end + 1..].iter().map(|e| e.name).filter(|n| ["progress", "started"].contains(n)).collect();
        assert!(after.is_empty(), "{what}: {id} had {after:?} after its outcome");
        if *expected == "completed" {
            let done = mine[end].payload.as_ref().unwrap();
            assert!(path(done, "imageUrl").as_string().or(path(done, "videoUrl").as_string()).is_some_and(|u| u.starts_with("http")), "{what}: {id} has its URL");
        }
    }
}

/// A new task after the fault runs to completion: calls work again.
async fn calls_work_again(what: &str, c: &Client) {
    let id = generate(c, &format!("after {what} ms=800 steps=2")).await;
    wait_outcomes(c, &[(id.clone(), "completed")], 10_000).await;
    sleep(200).await;
    check_outcomes(what, c, &[(id, "completed")]);
}

/// Disconnects and checks nothing is left: sockets, timers, listeners, connections at the server.
async fn disconnect_and_release(what: &str, c: Client, key: &str, base: Leaks) -> Leaks {
    settle(c.c.disconnect()).await.unwrap();
    assert!(!c.c.is_connected(JsValue::UNDEFINED), "{what}");
    let excess = expect_released(what, key, base, leaks, true, false).await;
    drop(c);
    excess
}

async fn drop_case(dialect: &str) {
    case();
    let base = leaks();
    let key = unique_key("drop");
    let c = client_at(&format!("{SERVER}/dialect/{dialect}"), &key, "");
    connect(&c, "image").await;
    connect(&c, "video").await;
    let ok = generate(&c, "drop ok ms=2500 steps=5").await;
    let bad = generate(&c, "drop fail ms=2500 steps=6").await;
    let cancel = generate(&c, "drop cancel ms=8000 steps=8").await;
    let video = generate_video(&c, "drop video ms=3000 steps=3").await;
    first_progress(&c, &ok).await;
    let dropped = fault(&format!("drop?key={key}")).await;
    assert_eq!(num(&dropped, "dropped"), 2.0, "{dialect}: both hubs' connections were cut");
    wait_for("both hubs reconnecting", 5_000, || named(&c.log, "reconnecting") == 2).await;
    settle(c.c.cancel_task(cancel.clone().into(), JsValue::UNDEFINED)).await.expect("cancel over HTTP while the socket is down");
    wait_for("both hubs reconnected", 10_000, || named(&c.log, "reconnected") == 2).await;
    assert_eq!(hub_events(&c.log, "reconnected", "image").len(), 1, "{dialect}");
    assert_eq!(hub_events(&c.log, "reconnected", "video").len(), 1, "{dialect}");
    assert!(c.c.is_connected("image".into()) && c.c.is_connected("video".into()), "{dialect}");
    let tasks = [(ok, "completed"), (bad, "failed"), (cancel, "cancelled"), (video, "completed")];
    wait_outcomes(&c, &tasks, 15_000).await;
    sleep(800).await;
    check_outcomes(&format!("drop ({dialect})"), &c, &tasks);
    assert_eq!(named(&c.log, "disconnected"), 0, "{dialect}");
    calls_work_again(&format!("drop ({dialect})"), &c).await;
    disconnect_and_release(&format!("drop ({dialect})"), c, &key, base).await;
}

#[wasm_bindgen_test]
async fn an_abrupt_drop_delivers_every_outcome_once_in_both_dialects() {
    leaks_install();
    let started = now();
    let base = leaks();
    drop_case("deployed").await;
    drop_case("documented").await;
    summary("an_abrupt_drop_delivers_every_outcome_once_in_both_dialects", started, leaks().excess_over(&base));
}

#[wasm_bindgen_test]
async fn a_silent_server_trips_the_server_timeout_and_outcomes_survive() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("silent");
    let c = client(&key, r#","serverTimeoutInMilliseconds":2000,"keepAliveIntervalInMilliseconds":400"#);
    connect(&c, "image").await;
    let long = generate(&c, "silent long ms=9000 steps=40").await;
    let failing = generate(&c, "silent fail ms=7000 steps=20").await;
    first_progress(&c, &long).await;
    sleep(2_500).await;
    assert_eq!(named(&c.log, "reconnecting"), 0, "no timeout while the server sends progress");
    let silenced = fault(&format!("silence?on=true&key={key}")).await;
    assert_eq!(num(&silenced, "connections"), 1.0);
    let t0 = now();
    wait_for("the server timeout", 6_000, || named(&c.log, "reconnecting") >= 1).await;
    let waited = now() - t0;
    let reason = hub_events(&c.log, "reconnecting", "image")[0].clone();
    assert!(reason.contains("Server timeout"), "{reason}");
    assert!((1_000.0..5_000.0).contains(&waited), "the timeout fired after {waited} ms (server timeout 2000 ms)");
    wait_for("reconnected", 8_000, || named(&c.log, "reconnected") >= 1).await;
    let tasks = [(long, "completed"), (failing, "failed")];
    wait_outcomes(&c, &tasks, 15_000).await;
    sleep(500).await;
    check_outcomes("silent server", &c, &tasks);
    calls_work_again("silent server", &c).await;
    let excess = disconnect_and_release("silent server", c, &key, base).await;
    summary("a_silent_server_trips_the_server_timeout_and_outcomes_survive", started, excess);
}

#[wasm_bindgen_test]
async fn a_server_restart_is_survived_and_new_tasks_complete_once() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("restart");
    let c = client(&key, "");
    connect(&c, "image").await;
    let victim = generate(&c, "restart victim ms=6000 steps=6").await;
    first_progress(&c, &victim).await;
    fault(&format!("restart?key={key}")).await;
    wait_for("reconnected after the restart", 10_000, || named(&c.log, "reconnected") >= 1).await;
    assert!(c.c.is_connected("image".into()));
    calls_work_again("restart", &c).await;
    // The server forgot the victim: the client says so (an error event or an outcome naming it), never with a
    // completion the server did not send, and never twice.
    wait_for("the user to hear about the forgotten task", 3_000, || {
        c.log.borrow().iter().any(|e| ["error", "failed", "cancelled"].contains(&e.name) && e.task.as_deref() == Some(victim.as_str()))
    })
    .await;
    sleep(500).await;
    assert!(terminals(&c.log, &victim).len() <= 1, "never twice");
    assert_eq!(count(&c.log, "completed", &victim), 0, "no completion the server never sent");
    let excess = disconnect_and_release("restart", c, &key, base).await;
    summary("a_server_restart_is_survived_and_new_tasks_complete_once", started, excess);
}

#[wasm_bindgen_test]
async fn a_task_the_server_forgot_in_a_restart_still_ends_once_for_the_user() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("forgotten");
    let c = client(&key, "");
    connect(&c, "image").await;
    let victim = generate(&c, "forgotten ms=6000 steps=6").await;
    first_progress(&c, &victim).await;
    fault(&format!("restart?key={key}")).await;
    wait_for("reconnected after the restart", 10_000, || named(&c.log, "reconnected") >= 1).await;
    // The server no longer knows the task (its status is a 404, subscribing is refused): it will never end on
    // its own, so the user must be told once that it ended, not left with a task in progress forever. Even an
    // explicit status request (answered 404) must not leave it running.
    let status_error = settle(c.c.get_task_status(victim.clone().into(), "image".into())).await.expect_err("the server forgot it");
    assert!(status_error.contains("404"), "{status_error}");
    sleep(3_000).await;
    let status = js_sys::Array::from(&path(&c.c.get_snapshot(), "tasks"))
        .iter()
        .find(|t| path(t, "id").as_string().as_deref() == Some(victim.as_str()))
        .map(|t| path(&t, "status").as_string().unwrap_or_default());
    let errors: Vec<String> =
        c.log.borrow().iter().filter(|e| e.name == "error" && e.task.as_deref() == Some(victim.as_str())).map(|e| e.message.clone()).collect();
    let got = terminals(&c.log, &victim);
    bump(&OUTCOMES, 1);
    if got.is_empty() {
        bump(&LOST, 1);
    }
    bump(&DUPLICATES, (got.len() as u32).saturating_sub(1));
    let excess = disconnect_and_release("forgotten task", c, &key, base).await;
    summary("a_task_the_server_forgot_in_a_restart_still_ends_once_for_the_user", started, excess);
    assert!(
        got.len() == 1 && got[0] != "completed",
        "task {victim} was forgotten by the server (status 404, subscribe refused); the user got outcome events {got:?} (want exactly one failed/cancelled), snapshot status {status:?}, error events {errors:?}"
    );
}

#[wasm_bindgen_test]
async fn close_with_allow_reconnect_reconnects_and_outcomes_arrive_once() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("closeok");
    let c = client(&key, "");
    connect(&c, "image").await;
    let a = generate(&c, "close ok ms=3000 steps=6").await;
    let b = generate(&c, "close fail ms=3000 steps=6").await;
    first_progress(&c, &a).await;
    let closed = fault(&format!("close?allowReconnect=true&error=maintenance&key={key}")).await;
    assert_eq!(num(&closed, "closed"), 1.0);
    wait_for("reconnected", 10_000, || named(&c.log, "reconnected") >= 1).await;
    assert!(hub_events(&c.log, "reconnecting", "image")[0].contains("maintenance"), "{:?}", hub_events(&c.log, "reconnecting", "image"));
    assert_eq!(named(&c.log, "disconnected"), 0, "not closed for good");
    let tasks = [(a, "completed"), (b, "failed")];
    wait_outcomes(&c, &tasks, 10_000).await;
    sleep(500).await;
    check_outcomes("close allowReconnect", &c, &tasks);
    calls_work_again("close allowReconnect", &c).await;
    let excess = disconnect_and_release("close allowReconnect", c, &key, base).await;
    summary("close_with_allow_reconnect_reconnects_and_outcomes_arrive_once", started, excess);
}

/// Close without allowReconnect: the connection ends (Disconnected, `disconnected` with the server's error, no
/// automatic reconnect). The seed's client then restarts by hand after 5 s (src/bindings/conduit_client.rs,
/// `schedule_restart`), announced as `reconnected`, and the re-sync delivers what happened meanwhile.
#[wasm_bindgen_test]
async fn close_without_allow_reconnect_disconnects_then_the_seeds_manual_restart_recovers() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("closebye");
    let c = client(&key, "");
    connect(&c, "image").await;
    let a = generate(&c, "close bye ms=3500 steps=7").await;
    first_progress(&c, &a).await;
    let before = counters(&key).await;
    let t0 = now();
    fault(&format!("close?allowReconnect=false&error=bye&key={key}")).await;
    wait_for("disconnected", 5_000, || named(&c.log, "disconnected") == 1).await;
    assert!(hub_events(&c.log, "disconnected", "image")[0].contains("bye"), "{:?}", hub_events(&c.log, "disconnected", "image"));
    assert!(!c.c.is_connected("image".into()));
    assert_eq!(path(&c.c.get_snapshot(), "state").as_string().as_deref(), Some("disconnected"));
    // The closed socket is released at once; what stays is the seed's restart timer (5 s).
    let mut released = false;
    for _ in 0..40 {
        released = leaks().excess_over(&base).sockets == 0.0 && server_connections(&key).await == (0, 0);
        if released {
            break;
        }
        sleep(50).await;
    }
    assert!(released, "the closed socket is released: {:?}, server {:?}", leaks().excess_over(&base), server_connections(&key).await);
    assert_eq!(leaks().excess_over(&base).timers, 1.0, "one pending timer: the manual restart");
    sleep(3_500u32.saturating_sub((now() - t0) as u32)).await;
    assert!(!c.c.is_connected("image".into()), "no automatic reconnect");
    assert_eq!(named(&c.log, "reconnecting"), 0, "no automatic reconnect");
    assert_eq!(num(&counters(&key).await, "connections.opened"), num(&before, "connections.opened"), "no new connection yet");
    wait_for("the manual restart", 8_000, || named(&c.log, "reconnected") == 1).await;
    let waited = now() - t0;
    assert!((4_500.0..8_000.0).contains(&waited), "restarted after {waited} ms (the seed waits 5 s)");
    assert!(c.c.is_connected("image".into()));
    let tasks = [(a, "completed")];
    wait_outcomes(&c, &tasks, 10_000).await;
    sleep(500).await;
    check_outcomes("close without allowReconnect", &c, &tasks);
    calls_work_again("close without allowReconnect", &c).await;
    let excess = disconnect_and_release("close without allowReconnect", c, &key, base).await;
    summary("close_without_allow_reconnect_disconnects_then_the_seeds_manual_restart_recovers", started, excess);
}

/// With a transport given the client negotiates (the default skips negotiation, like the seed).
const NEGOTIATING: &str = r#","transport":"WebSockets","requestTimeoutInMilliseconds":700"#;

#[wasm_bindgen_test]
async fn negotiate_failures_reject_connect_with_a_clear_message() {
    leaks_install();
    let started = now();
    let mut excess = Leaks::default();
    for (query, expected) in NEGOTIATE_FAULTS {
        case();
        let base = leaks();
        let key = unique_key("negstart");
        let c = client(&key, NEGOTIATING);
        fault(&format!("fail?target=negotiate&{query}&count=1&key={key}")).await;
        let t0 = now();
        let error = settle(c.c.connect("image".into())).await.expect_err("connect must fail");
        let took = now() - t0;
        assert!(error.to_lowercase().contains("negotiat"), "{query}: says what failed: {error}");
        assert!(error.contains(expected), "{query}: says why ({expected}): {error}");
        assert!(took < 3_500.0, "{query}: rejected after {took} ms (request timeout 700 ms, server hang 4 s)");
        let errors: Vec<String> = c.log.borrow().iter().filter(|e| e.name == "error").map(|e| format!("{}: {}", e.kind, e.message)).collect();
        assert_eq!(errors, vec![format!("connection: {error}")], "{query}: one error event");
        assert!(!c.c.is_connected("image".into()));
        assert_eq!(leaks().excess_over(&base).sockets_opened, 0.0, "{query}: no socket was opened");
        connect(&c, "image").await;
        assert_eq!(num(&counters(&key).await, "negotiations"), 2.0, "{query}");
        calls_work_again(query, &c).await;
        excess = disconnect_and_release(query, c, &key, base).await;
    }
    summary("negotiate_failures_reject_connect_with_a_clear_message", started, excess);
}

#[wasm_bindgen_test]
async fn negotiate_failures_during_reconnect_recover_when_the_fault_clears() {
    leaks_install();
    let started = now();
    let base = leaks();
    let key = unique_key("negreconnect");
    let c = client(&key, NEGOTIATING);
    connect(&c, "image").await;

    // One failed negotiate, retried on the client's own backoff (1 s + jitter, then 2 s + jitter).
    case();
    let a = generate(&c, "negotiate natural ms=4000 steps=8").await;
    first_progress(&c, &a).await;
    fault(&format!("fail?target=negotiate&status=500&count=1&key={key}")).await;
    fault(&format!("drop?key={key}")).await;
    wait_for("reconnected after the backoff", 12_000, || named(&c.log, "reconnected") == 1).await;
    let failed = c.failed_attempts();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("HTTP 500"), "{failed:?}");
    wait_outcomes(&c, &[(a.clone(), "completed")], 10_000).await;

    // Every negotiate fault in a row during one reconnect; the backoff is cut short with an `online` event.
    let b = generate(&c, "negotiate chained ms=6000 steps=12").await;
    let d = generate(&c, "negotiate chained fail ms=5000 steps=10").await;
    first_progress(&c, &b).await;
    let negotiations = num(&counters(&key).await, "negotiations");
    for (query, _) in NEGOTIATE_FAULTS {
        case();
        fault(&format!("fail?target=negotiate&{query}&count=1&key={key}")).await;
    }
    fault(&format!("drop?key={key}")).await;
    let t0 = now();
    while named(&c.log, "reconnected") < 2 {
        assert!(now() - t0 < 15_000.0, "not reconnected after the chained negotiate faults: {:?}", c.failed_attempts());
        dispatch_online();
        sleep(50).await;
    }
    let failed = c.failed_attempts()[1..].to_vec();
    assert_eq!(failed.len(), NEGOTIATE_FAULTS.len(), "{failed:?}");
    for ((query, expected), line) in NEGOTIATE_FAULTS.iter().zip(&failed) {
        assert!(line.contains(expected), "{query}: {line}");
    }
    assert_eq!(num(&counters(&key).await, "negotiations") - negotiations, 6.0, "5 failed + 1 good negotiate");
    assert_eq!(named(&c.log, "reconnecting"), 2);
    assert_eq!(named(&c.log, "disconnected"), 0);
    let tasks = [(a, "completed"), (b, "completed"), (d, "failed")];
    wait_outcomes(&c, &tasks, 15_000).await;
    sleep(500).await;
    check_outcomes("negotiate during reconnect", &c, &tasks);
    calls_work_again("negotiate during reconnect", &c).await;
    let excess = disconnect_and_release("negotiate during reconnect", c, &key, base).await;
    summary("negotiate_failures_during_reconnect_recover_when_the_fault_clears", started, excess);
}

#[wasm_bindgen_test]
async fn refused_sockets_while_reconnecting_then_recovery() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("refused");
    let c = client(&key, "");
    connect(&c, "image").await;
    let a = generate(&c, "refused ok ms=3000 steps=6").await;
    let b = generate(&c, "refused fail ms=3000 steps=6").await;
    first_progress(&c, &a).await;
    fault(&format!("fail?target=ws&status=503&forMs=2500&key={key}")).await;
    fault(&format!("drop?key={key}")).await;
    wait_for("reconnected after the refusal window", 15_000, || named(&c.log, "reconnected") == 1).await;
    let failed = c.failed_attempts();
    assert!(!failed.is_empty() && failed.iter().all(|l| l.contains("WebSocket failed to connect")), "{failed:?}");
    assert_eq!(named(&c.log, "reconnecting"), 1);
    let tasks = [(a, "completed"), (b, "failed")];
    wait_outcomes(&c, &tasks, 10_000).await;
    sleep(500).await;
    check_outcomes("refused sockets", &c, &tasks);
    calls_work_again("refused sockets", &c).await;
    let excess = disconnect_and_release("refused sockets", c, &key, base).await;
    summary("refused_sockets_while_reconnecting_then_recovery", started, excess);
}

#[wasm_bindgen_test]
async fn a_task_created_while_reconnecting_is_followed_after_the_reconnect() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("duringgap");
    let c = client(&key, "");
    connect(&c, "image").await;
    let before = generate(&c, "before the gap ms=3000 steps=6").await;
    first_progress(&c, &before).await;
    fault(&format!("fail?target=ws&status=503&forMs=1500&key={key}")).await;
    fault(&format!("drop?key={key}")).await;
    wait_for("reconnecting", 5_000, || named(&c.log, "reconnecting") == 1).await;
    // HTTP works while the socket is down: the user starts a task and gets its id.
    let during = generate(&c, "created during the gap ms=2500 steps=5").await;
    wait_for("reconnected", 15_000, || named(&c.log, "reconnected") == 1).await;
    let tasks = [(before, "completed"), (during, "completed")];
    let t0 = now();
    while !tasks.iter().all(|(id, _)| !terminals(&c.log, id).is_empty()) && now() - t0 < 10_000.0 {
        sleep(50).await;
    }
    sleep(300).await;
    let subscribed_during = count(&c.log, "subscribed", &tasks[1].0);
    let progress_during = count(&c.log, "progress", &tasks[1].0);
    // Count before asserting, so the totals report the loss.
    for (id, _) in &tasks {
        let n = terminals(&c.log, id).len() as u32;
        bump(&OUTCOMES, 1);
        if n == 0 {
            bump(&LOST, 1);
        }
        bump(&DUPLICATES, n.saturating_sub(1));
    }
    let got: Vec<Vec<&str>> = tasks.iter().map(|(id, _)| terminals(&c.log, id)).collect();
    let excess = disconnect_and_release("task created during the gap", c, &key, base).await;
    summary("a_task_created_while_reconnecting_is_followed_after_the_reconnect", started, excess);
    assert_eq!(got[0], vec!["completed"], "the task from before the gap");
    assert_eq!(
        got[1],
        vec!["completed"],
        "the task created while reconnecting (generateImage resolved with its id) never reached its outcome: {subscribed_during} subscribed event(s), {progress_during} progress event(s)"
    );
}

#[wasm_bindgen_test]
async fn fifty_drops_in_a_row_with_twenty_tasks_in_flight() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("fifty");
    let c = client(&key, "");
    connect(&c, "image").await;
    let opened_before = num(&counters(&key).await, "connections.opened");
    // 20 tasks: most complete (2.5 s to 17 s, 5 to 14 steps), 3 fail on their own, 2 are cancelled by the
    // client, 1 cancelled and 1 failed by the server; the last four run until then.
    let mut tasks: Vec<(String, &str)> = Vec::new();
    for i in 0..20u32 {
        let (prompt, expected) = match i {
            5 | 12 => (format!("fifty {i} to cancel ms=60000 steps=60"), "cancelled"),
            9 => (format!("fifty {i} server cancels ms=60000 steps=60"), "cancelled"),
            16 => (format!("fifty {i} server fails ms=60000 steps=60"), "failed"),
            3 | 10 | 17 => (format!("fifty {i} fail ms={} steps={}", 2_500 + i * 800, 6 + i % 9), "failed"),
            _ => (format!("fifty {i} ms={} steps={}", 2_500 + i * 800, 5 + i % 10), "completed"),
        };
        tasks.push((generate(&c, &prompt).await, expected));
    }
    // Every third drop is fired from the `reconnected` listener itself, so it lands while the client is still
    // re-joining its 20 tasks and reading their status; the others come 50 or 150 ms after the reconnect.
    let drop_on_reconnect = Rc::new(Cell::new(false));
    let listener_drops = Rc::new(Cell::new(0u32));
    {
        let (armed, hits, key) = (drop_on_reconnect.clone(), listener_drops.clone(), key.clone());
        c.c.on("reconnected".into(), func(move |_| {
            if armed.replace(false) {
                let (hits, key) = (hits.clone(), key.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let dropped = dev("POST", &format!("/_dev/drop?key={key}")).await;
                    if num(&dropped, "dropped") == 1.0 {
                        hits.set(hits.get() + 1);
                    }
                });
            }
            JsValue::UNDEFINED
        }).into()).unwrap();
    }
    let t0 = now();
    for n in 0..50usize {
        if n % 3 == 0 && n > 0 {
            bump(&FAULTS, 1); // fired by the listener when reconnect n - 1 completed
        } else {
            sleep(if n % 3 == 1 { 50 } else { 150 }).await;
            let dropped = fault(&format!("drop?key={key}")).await;
            assert_eq!(num(&dropped, "dropped"), 1.0, "drop {n} hit the live connection");
        }
        wait_for("reconnecting", 5_000, || named(&c.log, "reconnecting") == n + 1).await;
        if (n + 1) % 3 == 0 && n + 1 < 50 {
            drop_on_reconnect.set(true);
        }
        match n {
            10 => settle(c.c.cancel_task(tasks[5].0.clone().into(), JsValue::UNDEFINED)).await.expect("cancel while down"),
            20 => {
                let r = dev("POST", &format!("/_dev/tasks/{}/advance?to=cancelled&reason=operator", tasks[9].0)).await;
                assert_eq!(path(&r, "status").as_string().as_deref(), Some("cancelled"));
                JsValue::UNDEFINED
            }
            30 => {
                let r = dev("POST", &format!("/_dev/tasks/{}/advance?to=failed&error=boom", tasks[16].0)).await;
                assert_eq!(path(&r, "status").as_string().as_deref(), Some("failed"));
                JsValue::UNDEFINED
            }
            _ => JsValue::UNDEFINED,
        };
        // Every tenth reconnect waits out the client's own backoff; the others are cut short with `online`.
        let waited = now();
        while named(&c.log, "reconnected") < n + 1 {
            assert!(now() - waited < 10_000.0, "drop {n}: not reconnected");
            if n % 10 != 9 {
                dispatch_online();
            }
            sleep(20).await;
        }
        if n == 25 {
            settle(c.c.cancel_task(tasks[12].0.clone().into(), JsValue::UNDEFINED)).await.expect("cancel while connected");
        }
    }
    let drops_took = now() - t0;
    assert_eq!(listener_drops.get(), 16, "the drops fired from the listener each hit the new connection");
    assert_eq!(named(&c.log, "reconnecting"), 50);
    assert_eq!(named(&c.log, "reconnected"), 50);
    assert_eq!(named(&c.log, "disconnected"), 0);
    assert!(c.c.is_connected("image".into()));
    wait_outcomes(&c, &tasks, 30_000).await;
    sleep(1_000).await;
    check_outcomes("50 drops", &c, &tasks);
    let opened = num(&counters(&key).await, "connections.opened") - opened_before;
    assert_eq!(opened, 50.0, "one new connection per drop, no more");
    let progress_events = named(&c.log, "progress");
    console_line(&format!(
        "[fault-matrix conduit] 50 drops in {drops_took:.0} ms with 20 tasks: {} outcomes delivered, {progress_events} progress events, {} error events (re-sync calls cut by a drop)",
        tasks.len(),
        c.log.borrow().iter().filter(|e| e.name == "error").count()
    ));
    calls_work_again("50 drops", &c).await;
    let excess = disconnect_and_release("50 drops", c, &key, base).await;
    summary("fifty_drops_in_a_row_with_twenty_tasks_in_flight", started, excess);
}

/// Creates a task over HTTP without the client (so the client never subscribes to it).
async fn create_task_directly(key: &str, prompt: &str) -> String {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let headers = web_sys::Headers::new().unwrap();
    headers.set("Authorization", &format!("Bearer {key}")).unwrap();
    headers.set("Content-Type", "application/json").unwrap();
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&format!(r#"{{"model":"dall-e-3","prompt":"{prompt}"}}"#)));
    let request = web_sys::Request::new_with_str_and_init(&format!("{SERVER}/v1/images/generations/async"), &init).unwrap();
    let window = web_sys::window().unwrap();
    let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request)).await.unwrap().into();
    let body = wasm_bindgen_futures::JsFuture::from(response.json().unwrap()).await.unwrap();
    path(&body, "task_id").as_string().expect("a task id")
}

/// `per` deployed-shape ImageGenerationProgress records for `task` (the shape FloodConduit sends), records
/// `from..from + per` of `total`, progress rising from 0 to 99.
fn flood_frame(task: &str, from: u32, per: u32, total: u32) -> String {
    let mut out = String::with_capacity(per as usize * 260);
    for n in from..from + per {
        let pct = u64::from(n) * 100 / u64::from(total);
        out.push_str(&format!(
            "{{\"type\":1,\"target\":\"ImageGenerationProgress\",\"arguments\":[{{\"taskId\":\"{task}\",\"progressPercentage\":{pct},\"status\":\"processing\",\"imagesCompleted\":0,\"totalImages\":1,\"message\":\"Generating: {pct}%\",\"timestamp\":\"2025-01-01T00:00:00Z\"}}]}}\u{1e}"
        ));
    }
    out
}

/// The flood reaches the client's own connection through `/_dev/raw`: ConduitRealtimeClient has no `invoke`,
/// so it cannot call the hub's FloodConduit itself; the records are the ones FloodConduit sends. Meanwhile real
/// tasks are created, followed and unsubscribed, their events routed by the server's subscription groups.
#[wasm_bindgen_test]
async fn a_flood_of_100k_events_while_tasks_subscribe_and_unsubscribe() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("flood");
    let c = Rc::new(client(&key, ""));
    connect(&c, "image").await;
    const TOTAL: u32 = 100_000;
    const PER_FRAME: u32 = 250;
    let mut followed = Vec::new();
    for i in 0..4 {
        followed.push(generate(&c, &format!("flood followed {i} ms=120000 steps=1")).await);
    }
    // A ticker measures how long the page stalls while the flood is processed.
    let stop = Rc::new(Cell::new(false));
    let max_gap = Rc::new(Cell::new(0.0f64));
    let ticks = Rc::new(Cell::new(0u32));
    let stalls = Rc::new(RefCell::new(Vec::<(f64, f64)>::new()));
    let t0 = now();
    {
        let (stop, max_gap, ticks, stalls) = (stop.clone(), max_gap.clone(), ticks.clone(), stalls.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let mut last = now();
            while !stop.get() {
                sleep(5).await;
                let t = now();
                if t - last > 100.0 {
                    stalls.borrow_mut().push((last - t0, t - last));
                }
                max_gap.set(max_gap.get().max(t - last));
                ticks.set(ticks.get() + 1);
                last = t;
            }
        });
    }
    // Four senders, one per followed task, each posting its frames in order (so each task's progress rises),
    // all at once (so the frames of different tasks interleave and pile up at the client).
    let sent = Rc::new(Cell::new(0u32));
    let sent_at = Rc::new(Cell::new(0.0f64));
    let per_task = TOTAL / followed.len() as u32;
    for task in &followed {
        let (sent, task, key, sent_at) = (sent.clone(), task.clone(), key.clone(), sent_at.clone());
        wasm_bindgen_futures::spawn_local(async move {
            for j in 0..per_task / PER_FRAME {
                let body = flood_frame(&task, j * PER_FRAME, PER_FRAME, per_task);
                let answer = dev_with_body("POST", &format!("/_dev/raw?key={key}"), Some(&body)).await;
                assert_eq!(num(&answer, "sent"), 1.0, "frame {j} reached the connection");
                sent.set(sent.get() + PER_FRAME);
            }
            sent_at.set(sent_at.get().max(now() - t0));
        });
    }
    bump(&FAULTS, 1);
    // While the flood runs: new tasks are created and followed; three of them are unsubscribed midway.
    let mut churn = Vec::new();
    let mut slowest_generate = 0.0f64;
    for i in 0..6 {
        let t = now();
        churn.push(generate(&c, &format!("churn {i} ms=2500 steps=10")).await);
        slowest_generate = slowest_generate.max(now() - t);
        sleep(30).await;
    }
    let flood_running = sent.get() < TOTAL;
    let mut unsubscribed_at = Vec::new();
    for id in &churn[..3] {
        first_progress(&c, id).await;
        settle(c.c.unsubscribe_from_task(id.clone().into())).await.unwrap();
        assert_eq!(count(&c.log, "unsubscribed", id), 1);
        unsubscribed_at.push(c.log.borrow().len());
    }
    let direct = create_task_directly(&key, "never subscribed ms=1500 steps=5").await;
    wait_for("the flood to be sent", 60_000, || sent.get() == TOTAL).await;
    let per_task = per_task as usize;
    wait_for("every flood event delivered", 60_000, || followed.iter().all(|id| count(&c.log, "progress", id) >= per_task)).await;
    let took = now() - t0;
    stop.set(true);
    let kept = [(churn[3].clone(), "completed"), (churn[4].clone(), "completed"), (churn[5].clone(), "completed")];
    wait_outcomes(&c, &kept, 10_000).await;
    sleep(2_000).await;
    for id in &followed {
        let progress: Vec<f64> = c.log.borrow().iter().filter(|e| e.task.as_deref() == Some(id.as_str())).filter_map(|e| e.progress).collect();
        assert_eq!(progress.len(), per_task, "every flood event for {id} reached the user, once");
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress of {id} never went back");
    }
    for (id, at) in churn[..3].iter().zip(&unsubscribed_at) {
        let late = c.log.borrow()[*at..].iter().filter(|e| e.task.as_deref() == Some(id.as_str())).count();
        assert!(late <= 1, "{id}: {late} event(s) after unsubscribing (at most one already in flight)");
        assert!(terminals(&c.log, id).is_empty(), "{id}: no outcome after unsubscribing");
    }
    assert_eq!(c.log.borrow().iter().filter(|e| e.task.as_deref() == Some(direct.as_str())).count(), 0, "nothing for a task never subscribed");
    check_outcomes("flood churn", &c, &kept);
    assert!(flood_running, "the churn happened while the flood was still being sent");
    assert_eq!(named(&c.log, "reconnecting"), 0, "the flood did not cost the connection");
    assert!(c.c.is_connected("image".into()));
    // The box running the tests is shared (2 cores): the bound catches a client that blocks the page for the
    // flood (seconds), not scheduler noise.
    assert!(max_gap.get() < 2_500.0, "the page stayed responsive: longest stall {} ms; stalls over 100 ms (at, ms): {:?}", max_gap.get(), stalls.borrow());
    assert!(slowest_generate < 5_000.0, "generateImage during the flood took {slowest_generate} ms");
    // The followed tasks still end exactly once.
    let mut ends = Vec::new();
    for id in &followed {
        let r = dev("POST", &format!("/_dev/tasks/{id}/advance?to=completed")).await;
        assert_eq!(path(&r, "status").as_string().as_deref(), Some("completed"));
        ends.push((id.clone(), "completed"));
    }
    wait_outcomes(&c, &ends, 10_000).await;
    sleep(300).await;
    check_outcomes("flood followed", &c, &ends);
    console_line(&format!(
        "[fault-matrix conduit] flood: {TOTAL} events in {took:.0} ms ({:.0}/s; the last frame was posted at {:.0} ms), longest stall {:.0} ms over {} ticks, stalls over 100 ms (at, ms): {:?}, slowest generateImage {slowest_generate:.0} ms",
        f64::from(TOTAL) / took * 1000.0,
        sent_at.get(),
        max_gap.get(),
        ticks.get(),
        stalls.borrow()
    ));
    calls_work_again("flood", &c).await;
    wait_for("the flood's tasks to let go of the client", 5_000, || Rc::strong_count(&c) == 1).await;
    let c = Rc::try_unwrap(c).ok().unwrap();
    let excess = disconnect_and_release("flood", c, &key, base).await;
    summary("a_flood_of_100k_events_while_tasks_subscribe_and_unsubscribe", started, excess);
}

#[wasm_bindgen_test]
async fn connect_disconnect_cycles_leave_nothing_behind() {
    leaks_install();
    let started = now();
    let base = leaks();
    for i in 0..20 {
        let key = unique_key("cycle");
        let c = client(&key, "");
        connect(&c, "image").await;
        if i % 2 == 1 {
            connect(&c, "video").await;
        }
        if i < 2 {
            let live = leaks().excess_over(&base);
            assert_eq!(live.sockets, 1.0 + i as f64, "the counters see the client's sockets: {live:?}");
            assert!(live.listeners >= 4.0 && live.timers >= 1.0, "and its listeners and timers: {live:?}");
        }
        let id = generate(&c, "cycle ms=300 steps=1").await;
        wait_outcomes(&c, &[(id.clone(), "completed")], 10_000).await;
        check_outcomes("cycle", &c, &[(id, "completed")]);
        disconnect_and_release(&format!("cycle {i}"), c, &key, base).await;
    }
    for i in 0..3 {
        // Disconnected while connecting.
        case();
        let key = unique_key("cycleconnecting");
        let c = client(&key, "");
        let connecting = c.c.connect("image".into());
        settle(c.c.disconnect()).await.unwrap();
        assert!(settle(connecting).await.is_err(), "a connect cut short by disconnect rejects");
        disconnect_and_release(&format!("disconnected while connecting {i}"), c, &key, base).await;

        // Disconnected while waiting to reconnect (the backoff timer must go).
        case();
        let key = unique_key("cyclereconnecting");
        let c = client(&key, "");
        connect(&c, "image").await;
        fault(&format!("drop?key={key}")).await;
        wait_for("reconnecting", 5_000, || named(&c.log, "reconnecting") == 1).await;
        disconnect_and_release(&format!("disconnected while reconnecting {i}"), c, &key, base).await;

        // Disconnected while the seed's manual restart is pending (its 5 s timer must go).
        case();
        let key = unique_key("cyclerestart");
        let c = client(&key, "");
        connect(&c, "image").await;
        fault(&format!("close?allowReconnect=false&error=bye&key={key}")).await;
        wait_for("disconnected", 5_000, || named(&c.log, "disconnected") == 1).await;
        assert!(leaks().excess_over(&base).timers >= 1.0, "the restart timer is pending");
        disconnect_and_release(&format!("disconnected while a restart is pending {i}"), c, &key, base).await;
    }
    let excess = expect_released("after 29 clients", "none", base, leaks, true, false).await;
    let opened = leaks().excess_over(&base);
    console_line(&format!(
        "[fault-matrix conduit] 29 connect/disconnect cycles: {} WebSockets opened, none left; {} timers, {} listeners left",
        opened.sockets_opened,
        excess.timers + excess.intervals,
        excess.listeners
    ));
    summary("connect_disconnect_cycles_leave_nothing_behind", started, excess);
}
