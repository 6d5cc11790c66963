//! The fault matrix for HubConnection in headless Chromium against the dev server (issue #8): abrupt drops on
//! every transport, a silent server, a server restart, Close with and without allowReconnect, negotiate
//! failing (500, 404, 401, garbage, hang) at start and during reconnect, a refused port and refused WebSocket
//! upgrades while reconnecting, a 100,000-event flood while handlers come and go, and leak counting across
//! start/stop cycles. Every case ends with nothing left behind: sockets, EventSources, timers, window/document
//! listeners (counted by wrappers installed before any client exists) and connections at the server.
#![cfg(target_arch = "wasm32")]

mod web;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use conduit_realtime::bindings::HubConnection;
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

fn summary(test: &str, started: f64, excess: Leaks) {
    console_line(&format!(
        "[fault-matrix hub] {test}: {:.1} s; totals so far: {} cases, {} faults injected; left behind: {} sockets, {} EventSources, {} timers, {} listeners",
        (now() - started) / 1000.0,
        CASES.with(Cell::get),
        FAULTS.with(Cell::get),
        excess.sockets,
        excess.sources,
        excess.timers + excess.intervals,
        excess.listeners,
    ));
}

fn hub(name: &str) -> String {
    format!("{SERVER}/hubs/{name}")
}

/// What a connection told its callbacks and its logger.
#[derive(Clone, Default)]
struct Seen {
    reconnecting: Rc<RefCell<Vec<String>>>,
    reconnected: Rc<RefCell<Vec<String>>>,
    closed: Rc<RefCell<Vec<String>>>,
    log: Rc<RefCell<Vec<String>>>,
}

impl Seen {
    fn failed_attempts(&self) -> Vec<String> {
        self.log.borrow().iter().filter(|l| l.contains("Connection attempt failed")).cloned().collect()
    }
}

/// A connection to `url` whose access token is `key` (the test hub files counters and faults under it),
/// with callbacks and a logger recording into `Seen`.
fn connect_to(url: &str, json_options: &str, key: &str) -> (HubConnection, Seen) {
    let seen = Seen::default();
    let token = key.to_string();
    let log = seen.log.clone();
    let logger = object("{}", &[("log", func2(move |_level, message| {
        log.borrow_mut().push(message.as_string().unwrap_or_default());
        JsValue::UNDEFINED
    }))]);
    let options = object(json_options, &[("accessTokenFactory", func(move |_| JsValue::from_str(&token))), ("logger", logger)]);
    let conn = HubConnection::new(url.into(), Some(options)).expect("valid options");
    let message = |e: &JsValue| path(e, "message").as_string().unwrap_or_default();
    let (r1, r2, r3) = (seen.reconnecting.clone(), seen.reconnected.clone(), seen.closed.clone());
    conn.onreconnecting(func(move |e| {
        r1.borrow_mut().push(message(&e));
        JsValue::UNDEFINED
    }).into()).unwrap();
    conn.onreconnected(func(move |id| {
        r2.borrow_mut().push(id.as_string().unwrap_or_default());
        JsValue::UNDEFINED
    }).into()).unwrap();
    conn.onclose(func(move |e| {
        r3.borrow_mut().push(message(&e));
        JsValue::UNDEFINED
    }).into()).unwrap();
    (conn, seen)
}

fn connect(json_options: &str, key: &str) -> (HubConnection, Seen) {
    connect_to(&hub("test"), json_options, key)
}

fn args(values: &[JsValue]) -> Array {
    values.iter().collect()
}

/// A call works: Echo answers with what it was given.
async fn echo_works(conn: &HubConnection, what: &str) {
    let tag = format!("echo {what} {}", now());
    let echoed = settle(conn.invoke("Echo".into(), args(&[tag.as_str().into()]))).await.unwrap_or_else(|e| panic!("{what}: Echo failed: {e}"));
    assert_eq!(echoed.as_string().as_deref(), Some(tag.as_str()), "{what}");
}

/// Takes the connection back from an `Rc` once the spawned calls holding clones are done.
async fn sole(conn: Rc<HubConnection>) -> HubConnection {
    wait_for("the calls holding the connection to finish", 5_000, || Rc::strong_count(&conn) == 1).await;
    Rc::try_unwrap(conn).ok().unwrap()
}

/// Stops, checks sockets/timers/server are released, drops the connection, and checks its listeners are gone.
async fn stop_and_release(what: &str, conn: HubConnection, key: &str, base: Leaks, unattached_ok: bool) -> Leaks {
    settle(conn.stop()).await.unwrap();
    assert_eq!(conn.state(), "Disconnected", "{what}");
    expect_released(&format!("{what} (after stop)"), key, base, leaks, false, unattached_ok).await;
    drop(conn);
    expect_released(&format!("{what} (after release)"), key, base, leaks, true, unattached_ok).await
}

#[wasm_bindgen_test]
async fn the_leak_counters_see_what_a_connection_holds() {
    leaks_install();
    let started = now();
    let base = leaks();
    let (ws_key, sse_key) = (unique_key("probews"), unique_key("probesse"));
    let (ws, _) = connect(r#"{"transport":"WebSockets","keepAliveIntervalInMilliseconds":5000}"#, &ws_key);
    settle(ws.start()).await.unwrap();
    let (sse, _) = connect(r#"{"transport":"ServerSentEvents"}"#, &sse_key);
    settle(sse.start()).await.unwrap();
    let live = leaks().excess_over(&base);
    assert_eq!(live.sockets, 1.0, "one live WebSocket: {live:?}");
    assert_eq!(live.sources, 1.0, "one live EventSource: {live:?}");
    assert!(live.timers >= 2.0, "each connection arms its keep-alive/server-timeout timer: {live:?}");
    assert!(live.listeners >= 4.0, "online/pageshow/resume/visibilitychange: {live:?} {:?}", path(&leaks_snapshot(), "listenerTypes"));
    assert_eq!(server_connections(&ws_key).await, (1, 1));
    assert_eq!(server_connections(&sse_key).await, (1, 1));
    let with_sse = leaks();
    stop_and_release("probe ws", ws, &ws_key, Leaks { sockets: with_sse.sockets - 1.0, ..with_sse }, false).await;
    let excess = stop_and_release("probe sse", sse, &sse_key, base, false).await;
    assert_eq!(excess, Leaks { sockets_opened: 1.0, sources_opened: 1.0, ..Leaks::default() });
    summary("the_leak_counters_see_what_a_connection_holds", started, excess);
}

#[wasm_bindgen_test]
async fn an_abrupt_drop_on_every_transport_reconnects_and_leaves_nothing() {
    leaks_install();
    let started = now();
    let mut excess = Leaks::default();
    for options in [
        r#"{"transport":"WebSockets","automaticReconnect":[0,100,100,100]}"#,
        r#"{"transport":"WebSockets","protocol":"messagepack","automaticReconnect":[0,100,100,100]}"#,
        r#"{"transport":"ServerSentEvents","automaticReconnect":[0,100,100,100]}"#,
        r#"{"transport":"LongPolling","automaticReconnect":[0,100,100,100]}"#,
    ] {
        case();
        let base = leaks();
        let key = unique_key("drop");
        let (conn, seen) = connect(options, &key);
        settle(conn.start()).await.unwrap_or_else(|e| panic!("{options}: {e}"));
        let first = conn.connection_id().unwrap();
        echo_works(&conn, options).await;
        let dropped = fault(&format!("drop?key={key}")).await;
        assert_eq!(num(&dropped, "dropped"), 1.0, "{options}: the fault hit the connection");
        wait_for("reconnected after a drop", 10_000, || !seen.reconnected.borrow().is_empty()).await;
        assert_eq!(seen.reconnecting.borrow().len(), 1, "{options}");
        assert_ne!(seen.reconnected.borrow()[0], first, "{options}: a new connection");
        assert_eq!(conn.state(), "Connected", "{options}");
        echo_works(&conn, options).await;
        let mut server = (0, 0);
        for _ in 0..50 {
            server = server_connections(&key).await;
            if server == (1, 1) {
                break;
            }
            sleep(50).await;
        }
        assert_eq!(server, (1, 1), "{options}: exactly one connection at the server after the reconnect");
        assert!(seen.closed.borrow().is_empty(), "{options}");
        excess = stop_and_release(options, conn, &key, base, false).await;
        assert_eq!(seen.closed.borrow().len(), 1, "{options}: onclose once, for the stop");
    }
    summary("an_abrupt_drop_on_every_transport_reconnects_and_leaves_nothing", started, excess);
}

#[wasm_bindgen_test]
async fn a_silent_server_trips_the_server_timeout_then_the_connection_recovers() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("silent");
    let (conn, seen) = connect(
        r#"{"transport":"WebSockets","automaticReconnect":[0,100,100],"serverTimeoutInMilliseconds":2000,"keepAliveIntervalInMilliseconds":300}"#,
        &key,
    );
    let conn = Rc::new(conn);
    settle(conn.start()).await.unwrap();
    // The dev server pings every 15 s; while it answers calls the 2 s server timeout must not fire.
    for i in 0..10 {
        echo_works(&conn, &format!("healthy {i}")).await;
        sleep(250).await;
    }
    assert!(seen.reconnecting.borrow().is_empty(), "no timeout while the server talks: {:?}", seen.reconnecting.borrow());
    let silenced = fault(&format!("silence?on=true&key={key}")).await;
    assert_eq!(num(&silenced, "connections"), 1.0);
    let t0 = now();
    let pending = Rc::new(RefCell::new(None::<Result<JsValue, String>>));
    let (p, c) = (pending.clone(), conn.clone());
    wasm_bindgen_futures::spawn_local(async move {
        *p.borrow_mut() = Some(settle(c.invoke("Echo".into(), args(&["into the void".into()]))).await);
    });
    wait_for("the server timeout", 5_000, || !seen.reconnecting.borrow().is_empty()).await;
    let waited = now() - t0;
    assert!(seen.reconnecting.borrow()[0].contains("Server timeout"), "{:?}", seen.reconnecting.borrow());
    assert!((1_000.0..5_000.0).contains(&waited), "the timeout fired after {waited} ms (server timeout 2000 ms)");
    wait_for("the call made during the silence to fail", 2_000, || pending.borrow().is_some()).await;
    let error = pending.borrow().clone().unwrap().expect_err("no answer came");
    assert!(error.contains("canceled"), "{error}");
    wait_for("reconnected", 5_000, || !seen.reconnected.borrow().is_empty()).await;
    for i in 0..4 {
        echo_works(&conn, &format!("after silence {i}")).await;
        sleep(250).await;
    }
    assert_eq!(seen.reconnecting.borrow().len(), 1, "the new connection is not silent");
    let conn = sole(conn).await;
    let excess = stop_and_release("silent server", conn, &key, base, false).await;
    summary("a_silent_server_trips_the_server_timeout_then_the_connection_recovers", started, excess);
}

#[wasm_bindgen_test]
async fn a_server_restart_loses_the_connection_state_and_the_client_starts_over() {
    leaks_install();
    let started = now();
    let mut excess = Leaks::default();
    for (url, options) in [
        (hub("test"), r#"{"transport":"WebSockets","automaticReconnect":[0,100,100]}"#),
        (format!("{}?stateful=1", hub("test")), r#"{"transport":"WebSockets","statefulReconnect":true,"automaticReconnect":[0,100,100]}"#),
    ] {
        case();
        let base = leaks();
        let key = unique_key("restart");
        let (conn, seen) = connect_to(&url, options, &key);
        let conn = Rc::new(conn);
        settle(conn.start()).await.unwrap();
        let first = conn.connection_id().unwrap();
        let pending = Rc::new(RefCell::new(None::<Result<JsValue, String>>));
        let (p, c) = (pending.clone(), conn.clone());
        wasm_bindgen_futures::spawn_local(async move {
            *p.borrow_mut() = Some(settle(c.invoke("Delay".into(), args(&[5_000.into(), "late".into()]))).await);
        });
        sleep(100).await;
        fault(&format!("restart?key={key}")).await;
        wait_for("reconnected after the restart", 10_000, || !seen.reconnected.borrow().is_empty()).await;
        assert_ne!(seen.reconnected.borrow()[0], first, "{options}: the old connection is gone, a new one was made");
        assert_eq!(seen.reconnecting.borrow().len(), 1, "{options}");
        wait_for("the call the server forgot to fail", 2_000, || pending.borrow().is_some()).await;
        let error = pending.borrow().clone().unwrap().expect_err("the server forgot it");
        assert!(error.contains("canceled"), "{options}: {error}");
        echo_works(&conn, options).await;
        let conn = sole(conn).await;
        excess = stop_and_release(options, conn, &key, base, false).await;
    }
    summary("a_server_restart_loses_the_connection_state_and_the_client_starts_over", started, excess);
}

#[wasm_bindgen_test]
async fn close_with_allow_reconnect_reconnects() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("closeok");
    let (conn, seen) = connect(r#"{"automaticReconnect":[0,100]}"#, &key);
    settle(conn.start()).await.unwrap();
    let closed = fault(&format!("close?allowReconnect=true&error=maintenance&key={key}")).await;
    assert_eq!(num(&closed, "closed"), 1.0);
    wait_for("reconnected", 10_000, || !seen.reconnected.borrow().is_empty()).await;
    assert!(seen.reconnecting.borrow()[0].contains("maintenance"), "{:?}", seen.reconnecting.borrow());
    assert!(seen.closed.borrow().is_empty(), "not closed for good");
    echo_works(&conn, "after close").await;
    let excess = stop_and_release("close allowReconnect", conn, &key, base, false).await;
    summary("close_with_allow_reconnect_reconnects", started, excess);
}

#[wasm_bindgen_test]
async fn close_without_allow_reconnect_ends_disconnected_and_does_not_reconnect() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("closebye");
    let (conn, seen) = connect(r#"{"automaticReconnect":[0,100,100]}"#, &key);
    settle(conn.start()).await.unwrap();
    let before = counters(&key).await;
    fault(&format!("close?allowReconnect=false&error=bye&key={key}")).await;
    wait_for("closed", 5_000, || !seen.closed.borrow().is_empty()).await;
    assert!(seen.closed.borrow()[0].contains("bye"), "{:?}", seen.closed.borrow());
    assert_eq!(conn.state(), "Disconnected");
    sleep(1_000).await;
    assert!(seen.reconnecting.borrow().is_empty(), "no automatic reconnect after Close without allowReconnect");
    let after = counters(&key).await;
    assert_eq!(num(&after, "negotiations"), num(&before, "negotiations"), "no new negotiate");
    assert_eq!(num(&after, "connections.opened"), num(&before, "connections.opened"), "no new connection");
    assert_eq!(seen.closed.borrow().len(), 1);
    expect_released("closed by the server", &key, base, leaks, false, false).await;
    settle(conn.start()).await.expect("a manual start works again");
    echo_works(&conn, "restarted by hand").await;
    let excess = stop_and_release("close without allowReconnect", conn, &key, base, false).await;
    summary("close_without_allow_reconnect_ends_disconnected_and_does_not_reconnect", started, excess);
}

#[wasm_bindgen_test]
async fn negotiate_failures_reject_start_with_a_clear_message() {
    leaks_install();
    let started = now();
    let mut excess = Leaks::default();
    for (query, expected) in NEGOTIATE_FAULTS {
        case();
        let base = leaks();
        let key = unique_key("negstart");
        let (conn, _) = connect(r#"{"timeout":700,"automaticReconnect":[0,100]}"#, &key);
        fault(&format!("fail?target=negotiate&{query}&count=1&key={key}")).await;
        let t0 = now();
        let error = settle(conn.start()).await.expect_err("start must fail");
        let took = now() - t0;
        assert!(error.to_lowercase().contains("negotiat"), "{query}: says what failed: {error}");
        assert!(error.contains(expected), "{query}: says why ({expected}): {error}");
        assert!(took < 3_500.0, "{query}: rejected after {took} ms (client timeout 700 ms, server hang 4 s)");
        assert_eq!(conn.state(), "Disconnected", "{query}");
        assert_eq!(leaks().excess_over(&base).sockets_opened, 0.0, "{query}: no socket was opened");
        expect_released(&format!("{query}: failed start"), &key, base, leaks, false, false).await;
        settle(conn.start()).await.unwrap_or_else(|e| panic!("{query}: the next start works: {e}"));
        echo_works(&conn, query).await;
        assert_eq!(num(&counters(&key).await, "negotiations"), 2.0, "{query}");
        excess = stop_and_release(query, conn, &key, base, false).await;
    }
    summary("negotiate_failures_reject_start_with_a_clear_message", started, excess);
}

#[wasm_bindgen_test]
async fn negotiate_failures_during_reconnect_recover_when_the_fault_clears() {
    leaks_install();
    let started = now();
    let mut excess = Leaks::default();
    for (query, expected) in NEGOTIATE_FAULTS {
        case();
        let base = leaks();
        let key = unique_key("negreconnect");
        let (conn, seen) = connect(r#"{"timeout":700,"automaticReconnect":[0,50,50,50,50,50]}"#, &key);
        settle(conn.start()).await.unwrap();
        let before = num(&counters(&key).await, "negotiations");
        fault(&format!("fail?target=negotiate&{query}&count=2&key={key}")).await;
        fault(&format!("drop?key={key}")).await;
        wait_for("reconnected once the fault cleared", 10_000, || !seen.reconnected.borrow().is_empty()).await;
        let failed = seen.failed_attempts();
        assert_eq!(failed.len(), 2, "{query}: two failed attempts: {failed:?}");
        assert!(failed.iter().all(|l| l.contains(expected)), "{query}: {failed:?}");
        assert_eq!(num(&counters(&key).await, "negotiations") - before, 3.0, "{query}: 2 failed + 1 good negotiate");
        assert_eq!(seen.reconnecting.borrow().len(), 1, "{query}");
        assert!(seen.closed.borrow().is_empty(), "{query}");
        echo_works(&conn, query).await;
        excess = stop_and_release(query, conn, &key, base, false).await;
    }
    summary("negotiate_failures_during_reconnect_recover_when_the_fault_clears", started, excess);
}

#[wasm_bindgen_test]
async fn a_refused_port_while_reconnecting_then_recovery() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("refused");
    let good = hub("test");
    let dead = "http://127.0.0.1:9/hubs/test";
    let (conn, seen) = connect(r#"{"transport":"WebSockets","timeout":2000,"automaticReconnect":[150,150,150,150,150,150,150,150,150,150,150,150]}"#, &key);
    let conn = Rc::new(conn);
    // The moment the connection is lost, point it at a port nobody listens on: every attempt is refused.
    let weak = Rc::downgrade(&conn);
    conn.onreconnecting(func(move |_| {
        if let Some(c) = weak.upgrade() {
            c.set_base_url(dead.into()).expect("the URL may change while reconnecting");
        }
        JsValue::UNDEFINED
    }).into()).unwrap();
    settle(conn.start()).await.unwrap();
    let opened = leaks().sockets_opened;
    fault(&format!("drop?key={key}")).await;
    wait_for("three refused attempts", 10_000, || seen.failed_attempts().len() >= 3).await;
    let failed = seen.failed_attempts();
    assert!(failed.iter().all(|l| l.contains("network error")), "{failed:?}");
    assert_eq!(conn.state(), "Reconnecting");
    assert_eq!(leaks().sockets_opened, opened, "a refused negotiate opens no socket");
    assert_eq!(leaks().excess_over(&base).sockets, 0.0, "the dropped socket was released");
    conn.set_base_url(good.clone().into()).unwrap();
    wait_for("reconnected once the port answers", 5_000, || !seen.reconnected.borrow().is_empty()).await;
    assert_eq!(conn.state(), "Connected");
    echo_works(&conn, "after the refused port").await;
    let conn = sole(conn).await;
    stop_and_release("refused port", conn, &key, base, false).await;

    // The dev server refusing WebSocket upgrades (503) for 800 ms: attempts fail until the window ends.
    case();
    let base = leaks();
    let key = unique_key("wsrefused");
    let (direct, seen) =
        connect(r#"{"transport":"WebSockets","skipNegotiation":true,"automaticReconnect":[100,100,100,100,100,100,100,100,100,100,100,100,100,100,100]}"#, &key);
    settle(direct.start()).await.unwrap();
    fault(&format!("fail?target=ws&status=503&forMs=800&key={key}")).await;
    fault(&format!("drop?key={key}")).await;
    wait_for("reconnected after the refusal window", 10_000, || !seen.reconnected.borrow().is_empty()).await;
    let failed = seen.failed_attempts();
    assert!(failed.len() >= 2 && failed.iter().all(|l| l.contains("WebSocket failed to connect")), "{failed:?}");
    assert_eq!(seen.reconnecting.borrow().len(), 1);
    assert_eq!(direct.state(), "Connected");
    echo_works(&direct, "after refused upgrades").await;
    let excess = stop_and_release("refused upgrades", direct, &key, base, false).await;
    summary("a_refused_port_while_reconnecting_then_recovery", started, excess);
}

#[wasm_bindgen_test]
async fn a_flood_of_100k_events_while_handlers_come_and_go() {
    leaks_install();
    case();
    let started = now();
    let base = leaks();
    let key = unique_key("flood");
    let (conn, seen) = connect(r#"{"transport":"WebSockets"}"#, &key);
    let conn = Rc::new(conn);
    settle(conn.start()).await.unwrap();
    let counter = |n: &Rc<Cell<u32>>| -> Function {
        let n = n.clone();
        func(move |_| {
            n.set(n.get() + 1);
            JsValue::UNDEFINED
        })
        .into()
    };
    let (a, b, c, e, other) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let (fa, fb, fc, fe, fo) = (counter(&a), counter(&b), counter(&c), counter(&e), counter(&other));
    conn.on("flood".into(), fa.into()).unwrap();
    conn.on("flood".into(), fb.clone().into()).unwrap();
    conn.on("somethingElse".into(), fo.into()).unwrap();
    const TOTAL: u32 = 100_000;
    let result = Rc::new(RefCell::new(None::<Result<JsValue, String>>));
    let (r, cc) = (result.clone(), conn.clone());
    let t0 = now();
    wasm_bindgen_futures::spawn_local(async move {
        let payload = object(r#"{"kind":"tick","data":[1,2,3]}"#, &[]);
        *r.borrow_mut() = Some(settle(cc.invoke("Flood".into(), args(&[TOTAL.into(), 50.into(), "Flood".into(), payload]))).await);
    });
    // While the flood runs: b leaves at 20k, c joins at 50k, e toggles every tick. Each change happens between
    // two server messages, so what each handler must have seen follows from a's count at that moment.
    let (mut b_left_at, mut c_joined_at) = (None::<u32>, None::<u32>);
    let (mut e_on_since, mut e_expected) = (None::<u32>, 0u32);
    let mut max_gap = 0.0f64;
    let mut ticks = 0u32;
    let mut echo = None::<Rc<RefCell<Option<f64>>>>;
    let mut last = now();
    while result.borrow().is_none() {
        assert!(now() - t0 < 120_000.0, "the flood did not finish in 2 minutes (a = {})", a.get());
        sleep(5).await;
        let t = now();
        max_gap = max_gap.max(t - last);
        last = t;
        ticks += 1;
        let seen_a = a.get();
        if b_left_at.is_none() && seen_a >= 20_000 {
            conn.off("flood".into(), fb.clone().into()).unwrap();
            b_left_at = Some(seen_a);
        }
        if c_joined_at.is_none() && seen_a >= 50_000 {
            conn.on("FLOOD".into(), fc.clone().into()).unwrap();
            c_joined_at = Some(seen_a);
        }
        match e_on_since.take() {
            Some(since) => {
                conn.off("flood".into(), fe.clone().into()).unwrap();
                e_expected += seen_a - since;
            }
            None if seen_a < TOTAL => {
                conn.on("flood".into(), fe.clone().into()).unwrap();
                e_on_since = Some(seen_a);
            }
            None => {}
        }
        if echo.is_none() && seen_a >= 10_000 {
            let answered = Rc::new(RefCell::new(None::<f64>));
            let (ans, cc) = (answered.clone(), conn.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let sent = now();
                settle(cc.invoke("Echo".into(), args(&["during the flood".into()]))).await.expect("Echo during the flood");
                *ans.borrow_mut() = Some(now() - sent);
            });
            echo = Some(answered);
        }
    }
    if let Some(since) = e_on_since {
        e_expected += a.get() - since;
    }
    let took = now() - t0;
    let answered = result.borrow().clone().unwrap().expect("Flood completes");
    assert_eq!(answered.as_f64(), Some(f64::from(TOTAL)));
    assert_eq!(a.get(), TOTAL, "the handler registered all along saw every event");
    assert_eq!(Some(b.get()), b_left_at, "nothing reached b after off()");
    assert_eq!(c.get(), TOTAL - c_joined_at.unwrap(), "c saw every event after on() (names match case-insensitively)");
    assert_eq!(e.get(), e_expected, "the toggled handler saw exactly the events of its on-windows");
    assert_eq!(other.get(), 0, "no event for another method");
    assert!(b_left_at.unwrap() < TOTAL && c_joined_at.unwrap() < TOTAL, "the changes happened during the flood");
    assert!(ticks >= 10, "timers kept running during the flood ({ticks} ticks)");
    // The box running the tests is shared: the bound catches a client that blocks the page for the flood.
    assert!(max_gap < 2_500.0, "the page stayed responsive: longest stall {max_gap} ms");
    let echo = echo.expect("an Echo was sent during the flood");
    wait_for("the Echo sent during the flood", 10_000, || echo.borrow().is_some()).await;
    echo_works(&conn, "after the flood").await;
    assert!(seen.reconnecting.borrow().is_empty(), "the flood did not cost the connection");
    console_line(&format!(
        "[fault-matrix hub] flood: {TOTAL} events in {took:.0} ms ({:.0}/s), longest stall {max_gap:.0} ms, {ticks} ticks, Echo during flood {:.0} ms",
        f64::from(TOTAL) / took * 1000.0,
        echo.borrow().unwrap()
    ));
    let conn = sole(conn).await;
    let excess = stop_and_release("flood", conn, &key, base, false).await;
    summary("a_flood_of_100k_events_while_handlers_come_and_go", started, excess);
}

#[wasm_bindgen_test]
async fn start_stop_cycles_leave_no_socket_timer_or_server_connection() {
    leaks_install();
    let started = now();
    let base = leaks();
    let mut worst = Leaks::default();
    let mut cycles = 0;
    for (options, n) in [
        (r#"{"transport":"WebSockets","automaticReconnect":[0,100]}"#, 20),
        (r#"{"transport":"ServerSentEvents","automaticReconnect":[0,100]}"#, 5),
        (r#"{"transport":"LongPolling","automaticReconnect":[0,100]}"#, 5),
    ] {
        let key = unique_key("cycles");
        let (conn, _) = connect(options, &key);
        for i in 0..n {
            settle(conn.start()).await.unwrap_or_else(|e| panic!("{options} cycle {i}: {e}"));
            echo_works(&conn, options).await;
            settle(conn.stop()).await.unwrap();
            let excess = expect_released(&format!("{options} cycle {i}"), &key, base, leaks, false, false).await;
            worst.timers = worst.timers.max(excess.timers);
            cycles += 1;
        }
        // Stopped while connecting, and while waiting to reconnect.
        for i in 0..3 {
            case();
            let start = conn.start();
            settle(conn.stop()).await.unwrap();
            assert!(settle(start).await.is_err(), "{options}: a start stopped midway rejects");
            expect_released(&format!("{options} stopped while connecting {i}"), &key, base, leaks, false, true).await;
            let (conn2, seen) = connect(&options.replace("[0,100]", "[2000]"), &key);
            settle(conn2.start()).await.unwrap();
            fault(&format!("drop?key={key}")).await;
            wait_for("reconnecting", 5_000, || !seen.reconnecting.borrow().is_empty()).await;
            settle(conn2.stop()).await.unwrap();
            assert_eq!(seen.closed.borrow().len(), 1);
            expect_released(&format!("{options} stopped while reconnecting {i}"), &key, base, leaks, false, true).await;
            drop(conn2);
            cycles += 2;
        }
        drop(conn);
        worst = expect_released(options, &key, base, leaks, true, true).await;
    }
    let opened = leaks().excess_over(&base);
    console_line(&format!(
        "[fault-matrix hub] {cycles} start/stop cycles: {} WebSockets and {} EventSources opened, none left; {} timers, {} listeners left",
        opened.sockets_opened, opened.sources_opened, worst.timers, worst.listeners
    ));
    summary("start_stop_cycles_leave_no_socket_timer_or_server_connection", started, worst);
}

#[wasm_bindgen_test]
async fn stop_removes_the_listeners_start_added_to_window_and_document() {
    leaks_install();
    let started = now();
    let base = leaks();
    let key = unique_key("listeners");
    let (conn, _) = connect(r#"{"transport":"WebSockets"}"#, &key);
    let mut after_stop = Vec::new();
    for _ in 0..20 {
        settle(conn.start()).await.unwrap();
        let running = leaks().excess_over(&base).listeners;
        assert!(running > 0.0, "a running connection listens for online/pageshow/resume");
        settle(conn.stop()).await.unwrap();
        after_stop.push(leaks().excess_over(&base).listeners);
    }
    let most = after_stop.iter().cloned().fold(0.0, f64::max);
    assert!(most <= 4.0, "listeners must not pile up across cycles: {after_stop:?}");
    let types = path(&leaks_snapshot(), "listenerTypes").as_string().unwrap_or_default();
    drop(conn);
    let excess = expect_released("after drop", &key, base, leaks, true, false).await;
    summary("stop_removes_the_listeners_start_added_to_window_and_document", started, excess);
    assert!(
        after_stop.iter().all(|n| *n == 0.0),
        "after stop(), the connection still listens on window/document ({types}); per cycle: {after_stop:?}"
    );
}
