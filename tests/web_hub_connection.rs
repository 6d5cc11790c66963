//! HubConnection in headless Chromium against the dev server: every transport and protocol, invocations,
//! streams, client results, reconnects, stateful reconnect and clear errors.
#![cfg(target_arch = "wasm32")]

mod web;

use std::cell::RefCell;
use std::rc::Rc;

use conduit_realtime::bindings::{HubConnection, HubConnectionBuilder};
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

fn hub(name: &str) -> String {
    format!("{SERVER}/hubs/{name}")
}

fn connection(json_options: &str, key: &str) -> HubConnection {
    let token = key.to_string();
    let options = object(json_options, &[("accessTokenFactory", func(move |_| JsValue::from_str(&token)))]);
    HubConnection::new(JsValue::from_str(&hub("test")), Some(options)).expect("valid options")
}

fn args(values: &[JsValue]) -> Array {
    values.iter().collect()
}

/// Collects the arguments of every call of a client method.
fn recorder(conn: &HubConnection, method: &str) -> Rc<RefCell<Vec<JsValue>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let f: Function = func(move |arg| {
        sink.borrow_mut().push(arg);
        JsValue::UNDEFINED
    })
    .into();
    conn.on(method.into(), f.into()).unwrap();
    seen
}

async fn exercise(options: &str) {
    let key = unique_key("exercise");
    let conn = connection(options, &key);
    settle(conn.start()).await.unwrap_or_else(|e| panic!("start with {options}: {e}"));
    assert_eq!(conn.state(), "Connected");
    assert_eq!(conn.connection_id().is_some(), !options.contains("skipNegotiation"), "{options}");

    let echoed = settle(conn.invoke("Echo".into(), args(&[object(r#"{"n":[1,2.5,"é"],"b":true}"#, &[])]))).await.unwrap();
    assert_eq!(js_sys::JSON::stringify(&path(&echoed, "n")).unwrap(), r#"[1,2.5,"é"]"#, "{options}");
    assert_eq!(path(&echoed, "b"), JsValue::TRUE, "{options}");
    // Frames short and long, ASCII and not (a surrogate pair, a character just past the 512th unit): each size
    // takes another path into WebAssembly memory, and arguments are sliced by UTF-16 offsets after them.
    for text in ["a😀é".to_string(), "x".repeat(600), format!("{}é😀{}", "y".repeat(511), "z".repeat(100))] {
        let echoed = settle(conn.invoke("Echo".into(), args(&[text.as_str().into()]))).await.unwrap();
        assert_eq!(echoed.as_string().as_deref(), Some(text.as_str()), "{options}: {} units", text.len());
        let floods = recorder(&conn, "fl");
        settle(conn.invoke("Flood".into(), args(&[3.into(), 3.into(), "fl".into(), text.as_str().into()]))).await.unwrap();
        wait_for("a flood of three", 5_000, || floods.borrow().len() == 3).await;
        assert!(floods.borrow().iter().all(|v| v.as_string().as_deref() == Some(text.as_str())), "{options}");
        conn.off("fl".into(), JsValue::UNDEFINED).unwrap();
    }
    let sum = settle(conn.invoke("Add".into(), args(&[2.into(), 40.into()]))).await.unwrap();
    assert_eq!(sum.as_f64(), Some(42.0));
    let error = settle(conn.invoke("Throw".into(), args(&["kaboom".into()]))).await.unwrap_err();
    assert!(error.contains("kaboom"), "{error}");

    let pushed = recorder(&conn, "pushed");
    settle(conn.send("SendToCaller".into(), args(&["Pushed".into(), Array::of1(&"hello".into()).into()]))).await.unwrap();
    wait_for("a server push", 5_000, || !pushed.borrow().is_empty()).await;
    assert_eq!(pushed.borrow()[0].as_string().as_deref(), Some("hello"), "handler names match case-insensitively");

    let items = Rc::new(RefCell::new(Vec::new()));
    let done = Rc::new(RefCell::new(false));
    let (i2, d2) = (items.clone(), done.clone());
    let subscriber = object(
        "{}",
        &[
            ("next", func(move |v| {
                i2.borrow_mut().push(v.as_f64().unwrap_or(-1.0));
                JsValue::UNDEFINED
            })),
            ("complete", func(move |_| {
                *d2.borrow_mut() = true;
                JsValue::UNDEFINED
            })),
        ],
    );
    let _subscription = conn.stream("Counter".into(), args(&[3.into(), 10.into()])).unwrap().subscribe(subscriber).unwrap();
    wait_for("the stream to complete", 5_000, || *done.borrow()).await;
    assert_eq!(*items.borrow(), vec![0.0, 1.0, 2.0]);
    // Subscriber callbacks are called as methods, so a class instance may use `this`.
    let counter = Function::new_no_args("return { seen: [], next(x) { this.seen.push(x); }, complete() { this.done = true; } };")
        .call0(&JsValue::NULL)
        .unwrap();
    let _second = conn.stream("Counter".into(), args(&[2.into(), 10.into()])).unwrap().subscribe(counter.clone()).unwrap();
    wait_for("the method-style stream to complete", 5_000, || path(&counter, "done").is_truthy()).await;
    assert_eq!(Array::from(&path(&counter, "seen")).length(), 2);

    let answer: Function = func(|v| JsValue::from_f64(v.as_f64().unwrap_or(0.0) * 2.0)).into();
    conn.on("Double".into(), answer.into()).unwrap();
    let result = settle(conn.invoke("InvokeClient".into(), args(&["Double".into(), Array::of1(&21.into()).into()]))).await.unwrap();
    assert_eq!(path(&result, "result").as_f64(), Some(42.0), "client result: {:?}", js_sys::JSON::stringify(&result));

    settle(conn.stop()).await.unwrap();
    assert_eq!(conn.state(), "Disconnected");
}

#[wasm_bindgen_test]
async fn websockets_json() {
    exercise(r#"{"transport":"WebSockets"}"#).await;
}

#[wasm_bindgen_test]
async fn websockets_messagepack() {
    exercise(r#"{"transport":"WebSockets","protocol":"messagepack"}"#).await;
}

#[wasm_bindgen_test]
async fn server_sent_events_json() {
    exercise(r#"{"transport":"ServerSentEvents"}"#).await;
}

#[wasm_bindgen_test]
async fn long_polling_json() {
    exercise(r#"{"transport":"LongPolling"}"#).await;
}

#[wasm_bindgen_test]
async fn long_polling_messagepack() {
    exercise(r#"{"transport":"LongPolling","protocol":"messagepack"}"#).await;
}

#[wasm_bindgen_test]
async fn skip_negotiation_websockets() {
    exercise(r#"{"transport":"WebSockets","skipNegotiation":true}"#).await;
}

#[wasm_bindgen_test]
async fn builder_is_chainable_like_the_official_client() {
    let builder = HubConnectionBuilder::new()
        .with_url(hub("test").into(), JsValue::from_str("WebSockets"))
        .unwrap()
        .with_automatic_reconnect(JsValue::UNDEFINED)
        .with_server_timeout(60_000.0)
        .with_keep_alive_interval(20_000.0)
        .configure_logging(JsValue::from_str("warning"));
    let conn = builder.build().unwrap();
    assert_eq!(conn.server_timeout(), 60_000.0);
    assert_eq!(conn.keep_alive(), 20_000.0);
    settle(conn.start()).await.unwrap();
    settle(conn.stop()).await.unwrap();
    assert!(HubConnectionBuilder::new().build().is_err(), "withUrl is required");
}

async fn reconnects_after(fault: &str, options: &str) {
    let key = unique_key("reconnect");
    let conn = connection(options, &key);
    let reconnecting = Rc::new(RefCell::new(Vec::<String>::new()));
    let reconnected = Rc::new(RefCell::new(Vec::<String>::new()));
    let (r1, r2) = (reconnecting.clone(), reconnected.clone());
    conn.onreconnecting(func(move |e| {
        r1.borrow_mut().push(path(&e, "message").as_string().unwrap_or_default());
        JsValue::UNDEFINED
    }).into()).unwrap();
    conn.onreconnected(func(move |id| {
        r2.borrow_mut().push(id.as_string().unwrap_or_default());
        JsValue::UNDEFINED
    }).into()).unwrap();
    settle(conn.start()).await.unwrap();
    let first_id = conn.connection_id().unwrap();
    dev("POST", &format!("/_dev/{fault}&key={key}")).await;
    wait_for("reconnected", 15_000, || !reconnected.borrow().is_empty()).await;
    assert_eq!(reconnecting.borrow().len(), 1);
    assert_ne!(reconnected.borrow()[0], first_id, "a new connection id after a full reconnect");
    let echoed = settle(conn.invoke("Echo".into(), args(&["after".into()]))).await.unwrap();
    assert_eq!(echoed.as_string().as_deref(), Some("after"));
    settle(conn.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn reconnects_after_an_abrupt_drop() {
    reconnects_after("drop?x=1", r#"{"transport":"WebSockets","automaticReconnect":[0,100]}"#).await;
}

#[wasm_bindgen_test]
async fn reconnects_after_close_with_allow_reconnect() {
    reconnects_after("close?allowReconnect=true&error=maintenance", r#"{"automaticReconnect":[0,100]}"#).await;
}

#[wasm_bindgen_test]
async fn reconnects_after_a_silent_server() {
    reconnects_after(
        "silence?on=true",
        r#"{"transport":"WebSockets","automaticReconnect":[200,200,200],"serverTimeoutInMilliseconds":1000,"keepAliveIntervalInMilliseconds":300}"#,
    )
    .await;
}

#[wasm_bindgen_test]
async fn close_without_allow_reconnect_closes_for_good() {
    let key = unique_key("close");
    let conn = connection(r#"{"automaticReconnect":true,"logLevel":"debug"}"#, &key);
    let closed = Rc::new(RefCell::new(None::<String>));
    let c = closed.clone();
    conn.onclose(func(move |e| {
        *c.borrow_mut() = Some(path(&e, "message").as_string().unwrap_or_default());
        JsValue::UNDEFINED
    }).into()).unwrap();
    settle(conn.start()).await.unwrap();
    dev("POST", &format!("/_dev/close?allowReconnect=false&error=bye&key={key}")).await;
    wait_for("closed", 5_000, || closed.borrow().is_some()).await;
    assert!(closed.borrow().as_deref().unwrap().contains("bye"));
    assert_eq!(conn.state(), "Disconnected");
}

#[wasm_bindgen_test]
async fn stateful_reconnect_loses_and_duplicates_nothing() {
    let key = unique_key("stateful");
    let token = key.clone();
    let options = object(
        r#"{"transport":"WebSockets","statefulReconnect":true,"automaticReconnect":[0]}"#,
        &[("accessTokenFactory", func(move |_| JsValue::from_str(&token)))],
    );
    let conn = HubConnection::new(JsValue::from_str(&format!("{}?stateful=1", hub("test"))), Some(options)).unwrap();
    let got = recorder(&conn, "Numbered");
    let reconnecting = Rc::new(RefCell::new(0));
    let r = reconnecting.clone();
    conn.onreconnecting(func(move |_| {
        *r.borrow_mut() += 1;
        JsValue::UNDEFINED
    }).into()).unwrap();
    settle(conn.start()).await.unwrap();
    let id = conn.connection_id();
    for i in 0..20 {
        if i == 10 {
            dev("POST", &format!("/_dev/drop?key={key}")).await;
        }
        settle(conn.send("SendToCaller".into(), args(&["Numbered".into(), Array::of1(&i.into()).into()]))).await.unwrap();
    }
    wait_for("20 numbered messages", 10_000, || got.borrow().len() >= 20).await;
    sleep(300).await;
    let numbers: Vec<f64> = got.borrow().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(numbers, (0..20).map(f64::from).collect::<Vec<_>>(), "in order, none lost, none twice");
    assert_eq!(*reconnecting.borrow(), 0, "a stateful resume is not a reconnect");
    assert_eq!(conn.connection_id(), id);
    settle(conn.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn stop_while_connecting_rejects_start() {
    let conn = connection("{}", &unique_key("stop"));
    let start = conn.start();
    settle(conn.stop()).await.unwrap();
    let error = settle(start).await.unwrap_err();
    assert!(error.contains("stopped during negotiation"), "{error}");
    assert_eq!(conn.state(), "Disconnected");
}

#[wasm_bindgen_test]
async fn clear_errors_for_bad_servers() {
    let unauthorized = HubConnection::new(JsValue::from_str(&format!("{SERVER}/hubs/image-generation")), Some(object("{}", &[]))).unwrap();
    let e = settle(unauthorized.start()).await.unwrap_err();
    assert!(e.contains("401"), "{e}");

    let unknown = HubConnection::new(JsValue::from_str(&format!("{SERVER}/hubs/no-such-hub")), None).unwrap();
    let e = settle(unknown.start()).await.unwrap_err();
    assert!(e.contains("404"), "{e}");

    let refused = HubConnection::new("http://127.0.0.1:9/hubs/test".into(), None).unwrap();
    let e = settle(refused.start()).await.unwrap_err();
    assert!(e.contains("negotiation") && e.contains("network error"), "{e}");

    let key = unique_key("negotiate500");
    dev("POST", &format!("/_dev/fail?target=negotiate&status=500&count=1&key={key}")).await;
    let failing = connection("{}", &key);
    let e = settle(failing.start()).await.unwrap_err();
    assert!(e.contains("500"), "{e}");
    settle(failing.start()).await.expect("the next negotiate succeeds");
    settle(failing.stop()).await.unwrap();
}

#[wasm_bindgen_test]
fn bad_options_throw_type_errors() {
    for (url, options) in [
        ("ftp://example.com/hub", "{}"),
        ("http://127.0.0.1/hub", r#"{"transport":"Pigeons"}"#),
        ("http://127.0.0.1/hub", r#"{"protocol":"xml"}"#),
        ("http://127.0.0.1/hub", r#"{"serverTimeoutInMilliseconds":-1}"#),
        ("http://127.0.0.1/hub", r#"{"skipNegotiation":true}"#),
        ("http://127.0.0.1/hub", r#"{"automaticReconnect":["soon"]}"#),
        ("http://127.0.0.1/hub", r#"{"headers":{"x":1}}"#),
    ] {
        let result = HubConnection::new(url.into(), Some(object(options, &[])));
        let error = result.err().unwrap_or_else(|| panic!("{options} must be refused"));
        assert!(error.is_instance_of::<js_sys::TypeError>(), "{options}");
    }
    let promise: Promise = connection("{}", "condt_x").invoke("Echo".into(), Array::new());
    let _ = promise;
}

#[wasm_bindgen_test]
async fn disposing_a_subscription_cancels_the_stream_on_the_server() {
    let key = unique_key("cancel");
    let conn = connection(r#"{"transport":"WebSockets"}"#, &key);
    settle(conn.start()).await.unwrap();
    let items = Rc::new(RefCell::new(0));
    let completed = Rc::new(RefCell::new(false));
    let (i, c) = (items.clone(), completed.clone());
    let subscriber = object(
        "{}",
        &[
            ("next", func(move |_| {
                *i.borrow_mut() += 1;
                JsValue::UNDEFINED
            })),
            ("complete", func(move |_| {
                *c.borrow_mut() = true;
                JsValue::UNDEFINED
            })),
        ],
    );
    let subscription = conn.stream("Counter".into(), args(&[1000.into(), 20.into()])).unwrap().subscribe(subscriber).unwrap();
    wait_for("a few items", 5_000, || *items.borrow() >= 3).await;
    let dispose: Function = path(&subscription, "dispose").dyn_into().expect("a dispose method");
    dispose.call0(&subscription).unwrap();
    let seen = *items.borrow();
    sleep(300).await;
    assert!(*items.borrow() <= seen + 1, "no items after dispose (one may be in flight)");
    let counters = dev("GET", &format!("/_dev/counters?key={key}")).await;
    assert_eq!(path(&counters, "streamCancels").as_f64(), Some(1.0), "the server was told");
    settle(conn.stop()).await.unwrap();
}

#[wasm_bindgen_test]
async fn handlers_may_call_back_in_throw_or_stop() {
    let key = unique_key("reentrant");
    let conn = Rc::new(connection(r#"{"transport":"WebSockets"}"#, &key));
    let thrower: Function = js_sys::Function::new_no_args("throw new Error('handler bug')");
    conn.on("Pushed".into(), thrower.into()).unwrap();
    let echoed = Rc::new(RefCell::new(None::<Result<JsValue, String>>));
    let (c2, e2) = (conn.clone(), echoed.clone());
    let reenter: Function = func(move |_| {
        let (c3, e3) = (c2.clone(), e2.clone());
        wasm_bindgen_futures::spawn_local(async move {
            *e3.borrow_mut() = Some(settle(c3.invoke("Echo".into(), args(&["inside".into()]))).await);
        });
        JsValue::UNDEFINED
    })
    .into();
    conn.on("Pushed".into(), reenter.into()).unwrap();
    settle(conn.start()).await.unwrap();
    settle(conn.send("SendToCaller".into(), args(&["Pushed".into(), Array::of1(&1.into()).into()]))).await.unwrap();
    wait_for("the re-entrant invoke", 5_000, || echoed.borrow().is_some()).await;
    assert_eq!(echoed.borrow().as_ref().unwrap().as_ref().unwrap().as_string().as_deref(), Some("inside"));

    let c4 = conn.clone();
    let stopper: Function = func(move |_| {
        let _ = c4.stop();
        JsValue::UNDEFINED
    })
    .into();
    conn.on("StopNow".into(), stopper.into()).unwrap();
    let closed = Rc::new(RefCell::new(false));
    let c5 = closed.clone();
    conn.onclose(func(move |_| {
        *c5.borrow_mut() = true;
        JsValue::UNDEFINED
    }).into()).unwrap();
    settle(conn.send("SendToCaller".into(), args(&["StopNow".into(), Array::new().into()]))).await.unwrap();
    wait_for("stopped from inside a handler", 5_000, || *closed.borrow()).await;
    assert_eq!(conn.state(), "Disconnected");
    settle(conn.start()).await.expect("restarts after a stop from a handler");
    settle(conn.stop()).await.unwrap();
}
