//! ConduitRealtimeClient in headless Chromium against the dev server, in both dialects: the seed's flow for
//! images and videos, failure, cancel, unsubscribe, a drop with the outcome during the gap, bad server data,
//! HTTP errors, bad options, and key hygiene.
#![cfg(target_arch = "wasm32")]

mod web;

use std::cell::RefCell;
use std::rc::Rc;

use conduit_realtime::bindings::ConduitRealtimeClient;
use js_sys::{Function, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web::*;

wasm_bindgen_test_configure!(run_in_browser);

const DIALECTS: [&str; 2] = ["deployed", "documented"];

fn base(dialect: &str) -> String {
    format!("{SERVER}/dialect/{dialect}")
}

fn client(dialect: &str, key: &str, extra: &str) -> ConduitRealtimeClient {
    let json = format!(r#"{{"virtualKey":"{key}","baseUrl":"{}","maxReconnectAttempts":8{extra}}}"#, base(dialect));
    ConduitRealtimeClient::new(object(&json, &[])).expect("valid options")
}

/// Every event the client emits, as (name, payload).
type Log = Rc<RefCell<Vec<(String, JsValue)>>>;

fn record(c: &ConduitRealtimeClient) -> Log {
    let log: Log = Rc::new(RefCell::new(Vec::new()));
    for name in [
        "connected", "disconnected", "reconnecting", "reconnected", "started", "progress", "completed", "failed", "cancelled",
        "subscribed", "unsubscribed", "error",
    ] {
        let sink = log.clone();
        let f: Function = func(move |payload| {
            sink.borrow_mut().push((name.to_string(), payload));
            JsValue::UNDEFINED
        })
        .into();
        c.on(name.into(), f.into()).unwrap();
    }
    log
}

fn count(log: &Log, name: &str, task: &str) -> usize {
    log.borrow().iter().filter(|(n, p)| n == name && path(p, "taskId").as_string().as_deref() == Some(task)).count()
}

fn payloads(log: &Log, name: &str, task: &str) -> Vec<JsValue> {
    log.borrow().iter().filter(|(n, p)| n == name && path(p, "taskId").as_string().as_deref() == Some(task)).map(|(_, p)| p.clone()).collect()
}

/// Has the dev server send `count` deployed progress events for `task`, `per_frame` to a frame, to the key's image
/// hub socket.
async fn flood_progress(key: &str, count: u32, per_frame: u32, task: &str) {
    let flood = dev("POST", &format!("/_dev/flood?key={key}&hub=image-generation&count={count}&perFrame={per_frame}&task={task}")).await;
    assert_eq!(num(&flood, "sent"), 1.0, "the flood reached the client's socket");
}

/// A progress event carries the task, its type and progress first, then what the server sent, each with its type.
fn progress_has_every_field(dialect: &str, kind: &str, last: &JsValue) {
    let keys: Vec<String> = js_sys::Object::keys(last.unchecked_ref::<js_sys::Object>()).iter().filter_map(|k| k.as_string()).collect();
    assert_eq!(&keys[..3], ["taskId", "taskType", "progress"], "{dialect}: {keys:?}");
    assert_eq!(path(last, "taskType").as_string().as_deref(), Some(kind));
    for key in &keys {
        let value = path(last, key);
        let ok = match key.as_str() {
            "taskId" | "taskType" | "status" | "message" => value.as_string().is_some_and(|s| !s.is_empty()),
            "progress" | "imagesCompleted" | "totalImages" | "framesCompleted" | "totalFrames" | "estimatedSecondsRemaining" => {
                value.as_f64().is_some_and(|n| n.is_finite() && n >= 0.0)
            }
            _ => false,
        };
        assert!(ok, "{dialect} {kind}: {key} = {value:?}");
    }
    if dialect == "deployed" {
        assert!(keys.iter().any(|k| k == "status") && keys.iter().any(|k| k == "message"), "{keys:?}");
        let (done, total) = if kind == "image" { ("imagesCompleted", "totalImages") } else { ("framesCompleted", "totalFrames") };
        if let Some(total) = path(last, total).as_f64() {
            assert!(path(last, done).as_f64().is_some_and(|d| d <= total), "{keys:?}");
        }
    }
}

async fn image_flow(dialect: &str) {
    let key = unique_key("image");
    let c = client(dialect, &key, "");
    let log = record(&c);
    settle(c.connect("image".into())).await.unwrap();
    assert!(c.is_connected("image".into()));
    let params = object(r#"{"model":"dall-e-3","prompt":"A beautiful sunset over mountains ms=1200 steps=4"}"#, &[]);
    let id = settle(c.generate_image(params)).await.unwrap().as_string().unwrap();
    wait_for("completed", 10_000, || count(&log, "completed", &id) == 1).await;
    assert_eq!(count(&log, "subscribed", &id), 1, "{dialect}");
    let progress: Vec<f64> = payloads(&log, "progress", &id).iter().map(|p| path(p, "progress").as_f64().unwrap()).collect();
    assert!(!progress.is_empty(), "{dialect}: progress events");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{dialect}: progress never goes back: {progress:?}");
    progress_has_every_field(dialect, "image", &payloads(&log, "progress", &id).pop().unwrap());
    let done = &payloads(&log, "completed", &id)[0];
    assert_eq!(path(done, "status").as_string().as_deref(), Some("completed"));
    let url = path(done, "imageUrl").as_string().expect("an image URL");
    assert!(url.starts_with("http"), "{url}");
    let fetched = dev("GET", url.trim_start_matches(SERVER)).await;
    assert!(!fetched.is_undefined());
    let snapshot = c.get_snapshot();
    assert_eq!(snapshot, c.get_snapshot(), "the snapshot keeps its identity while nothing changes");
    let task = js_sys::Array::from(&path(&snapshot, "tasks")).get(0);
    assert_eq!(path(&task, "status").as_string().as_deref(), Some("completed"));
    assert_eq!(path(&task, "progress").as_f64(), Some(100.0));
    settle(c.disconnect()).await.unwrap();
    assert!(log.borrow().iter().any(|(n, _)| n == "disconnected"));
    let e = settle(c.connect("image".into())).await.unwrap_err();
    assert_eq!(e, "Client has been disposed");
}

#[wasm_bindgen_test]
async fn image_flow_deployed() {
    image_flow("deployed").await;
}

#[wasm_bindgen_test]
async fn image_flow_documented() {
    image_flow("documented").await;
}

#[wasm_bindgen_test]
async fn video_flow_in_both_dialects() {
    for dialect in DIALECTS {
        let key = unique_key("video");
        let c = client(dialect, &key, "");
        let log = record(&c);
        settle(c.connect("video".into())).await.unwrap();
        for n in 0..2 {
            let params = object(&format!(r#"{{"model":"veo","prompt":"waves {n} ms=1200 steps=3","duration":4}}"#), &[]);
            let id = settle(c.generate_video(params)).await.unwrap_or_else(|e| panic!("{dialect}: {e}")).as_string().unwrap();
            wait_for("video completed", 10_000, || count(&log, "completed", &id) == 1).await;
            let done = &payloads(&log, "completed", &id)[0];
            assert!(path(done, "videoUrl").as_string().unwrap().starts_with("http"), "{dialect}");
            assert_eq!(path(done, "taskType").as_string().as_deref(), Some("video"));
            progress_has_every_field(dialect, "video", &payloads(&log, "progress", &id).pop().expect("progress events"));
        }
        let counters = dev("GET", &format!("/_dev/counters?key={key}")).await;
        let by_request = path(&counters, "invocations.SubscribeToRequest").as_f64().unwrap_or(0.0);
        let by_task = path(&counters, "invocations.SubscribeToTask").as_f64().unwrap_or(0.0);
        if dialect == "deployed" {
            assert_eq!((by_request, by_task), (1.0, 2.0), "tried SubscribeToRequest once, then remembered the fallback");
        } else {
            assert_eq!((by_request, by_task), (2.0, 0.0));
        }
        settle(c.disconnect()).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn failure_and_cancel_are_delivered_once() {
    for dialect in DIALECTS {
        let c = client(dialect, &unique_key("fail"), "");
        let log = record(&c);
        settle(c.connect("image".into())).await.unwrap();
        let failing = settle(c.generate_image(object(r#"{"prompt":"please fail ms=600"}"#, &[]))).await.unwrap().as_string().unwrap();
        wait_for("failed", 10_000, || count(&log, "failed", &failing) == 1).await;
        let failed = &payloads(&log, "failed", &failing)[0];
        assert!(!path(failed, "error").as_string().unwrap().is_empty());

        let slow = settle(c.generate_image(object(r#"{"prompt":"slow ms=8000 steps=8"}"#, &[]))).await.unwrap().as_string().unwrap();
        settle(c.cancel_task(slow.clone().into(), JsValue::UNDEFINED)).await.unwrap();
        wait_for("cancelled", 5_000, || count(&log, "cancelled", &slow) == 1).await;
        sleep(600).await;
        assert_eq!(count(&log, "cancelled", &slow), 1, "{dialect}: the server's cancel event is not delivered twice");
        assert_eq!(count(&log, "completed", &slow), 0);
        settle(c.disconnect()).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn unsubscribe_stops_the_events() {
    let c = client("deployed", &unique_key("unsub"), "");
    let log = record(&c);
    settle(c.connect("image".into())).await.unwrap();
    let id = settle(c.generate_image(object(r#"{"prompt":"long ms=3000 steps=10"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("first progress", 5_000, || count(&log, "progress", &id) >= 1).await;
    settle(c.unsubscribe_from_task(id.clone().into())).await.unwrap();
    assert_eq!(count(&log, "unsubscribed", &id), 1);
    let seen = count(&log, "progress", &id);
    sleep(3_500).await;
    assert!(count(&log, "progress", &id) <= seen + 1, "at most one event already in flight");
    assert_eq!(count(&log, "completed", &id), 0);
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn an_outcome_during_the_gap_is_delivered_once_after_reconnect() {
    for dialect in DIALECTS {
        let key = unique_key("gap");
        let c = client(dialect, &key, "");
        let log = record(&c);
        settle(c.connect("image".into())).await.unwrap();
        let id = settle(c.generate_image(object(r#"{"prompt":"gap ms=1500 steps=5"}"#, &[]))).await.unwrap().as_string().unwrap();
        wait_for("first progress", 5_000, || count(&log, "progress", &id) >= 1).await;
        dev("POST", &format!("/_dev/fail?target=ws&status=503&forMs=2500&key={key}")).await;
        dev("POST", &format!("/_dev/drop?key={key}")).await;
        wait_for("reconnected", 20_000, || log.borrow().iter().any(|(n, _)| n == "reconnected")).await;
        wait_for("completed after reconnect", 10_000, || count(&log, "completed", &id) >= 1).await;
        sleep(500).await;
        assert_eq!(count(&log, "completed", &id), 1, "{dialect}: exactly once");
        assert!(log.borrow().iter().any(|(n, _)| n == "reconnecting"));
        settle(c.disconnect()).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn malformed_server_data_is_an_error_event_and_the_client_goes_on() {
    let key = unique_key("malformed");
    let c = client("deployed", &key, "");
    let log = record(&c);
    settle(c.connect("image".into())).await.unwrap();
    for raw in [
        "{\"type\":1,\"target\":\"ImageGenerationProgress\",\"arguments\":[{\"taskId\":42}]}\u{1e}",
        "{\"type\":1,\"target\":\"ImageGenerationCompleted\",\"arguments\":[{\"taskId\":\"x\",\"imageUrls\":[\"javascript:alert(1)\"]}]}\u{1e}",
        "{not json at all\u{1e}",
        "{\"type\":3,\"invocationId\":\"999\",\"result\":1}\u{1e}",
    ] {
        dev_with_body("POST", &format!("/_dev/raw?key={key}"), Some(raw)).await;
    }
    wait_for("error events", 5_000, || log.borrow().iter().filter(|(n, _)| n == "error").count() >= 3).await;
    let kinds: Vec<String> = log.borrow().iter().filter(|(n, _)| n == "error").map(|(_, p)| path(p, "type").as_string().unwrap()).collect();
    assert!(kinds.contains(&"data".to_string()) && kinds.contains(&"protocol".to_string()), "{kinds:?}");
    let done = payloads(&log, "completed", "x");
    assert_eq!(done.len(), 1, "the completion itself is delivered, without the unsafe URL");
    assert_eq!(js_sys::Array::from(&path(&done[0], "imageUrls")).length(), 0);
    let id = settle(c.generate_image(object(r#"{"prompt":"still works ms=500"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("completed after bad data", 10_000, || count(&log, "completed", &id) == 1).await;
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn http_errors_are_typed() {
    let bad_key = ConduitRealtimeClient::new(object(&format!(r#"{{"virtualKey":"not-a-conduit-key","baseUrl":"{SERVER}"}}"#), &[])).unwrap();
    let e = wasm_bindgen_futures::JsFuture::from(bad_key.generate_image(object(r#"{"prompt":"x"}"#, &[]))).await.unwrap_err();
    assert_eq!(path(&e, "name").as_string().as_deref(), Some("ConduitHttpError"));
    assert_eq!(path(&e, "status").as_f64(), Some(401.0));
    assert_eq!(path(&e, "retryable"), JsValue::FALSE);
    assert!(!path(&e, "message").as_string().unwrap().contains("not-a-conduit-key"), "the key never appears");

    let key = unique_key("http");
    let c = client("deployed", &key, "");
    dev("POST", &format!("/_dev/fail?target=http&status=503&count=1&key={key}")).await;
    let e = wasm_bindgen_futures::JsFuture::from(c.generate_image(object(r#"{"prompt":"x"}"#, &[]))).await.unwrap_err();
    assert_eq!((path(&e, "status").as_f64(), path(&e, "retryable")), (Some(503.0), JsValue::TRUE));
    assert_eq!(path(&e, "retryAfter").as_f64(), Some(1.0), "from the Retry-After header");
    dev("POST", &format!("/_dev/fail?target=http&status=502&count=1&body=%3Chtml%3Eproxy%3C%2Fhtml%3E&key={key}")).await;
    let e = wasm_bindgen_futures::JsFuture::from(c.generate_image(object(r#"{"prompt":"x"}"#, &[]))).await.unwrap_err();
    assert!(path(&e, "message").as_string().unwrap().contains("without a JSON error"), "{:?}", path(&e, "message"));
    let e = settle(c.get_task_status("no-such-task".into(), "image".into())).await.unwrap_err();
    assert!(e.contains("404"), "{e}");
    let e = settle(c.generate_image(object(r#"{"model":"m"}"#, &[]))).await.unwrap_err();
    assert!(e.contains("prompt"), "{e}");

    let refused = ConduitRealtimeClient::new(object(r#"{"virtualKey":"condt_refused123","baseUrl":"http://127.0.0.1:9"}"#, &[])).unwrap();
    let e = wasm_bindgen_futures::JsFuture::from(refused.generate_image(object(r#"{"prompt":"x"}"#, &[]))).await.unwrap_err();
    assert_eq!(path(&e, "name").as_string().as_deref(), Some("ConduitNetworkError"));
    assert_eq!(path(&e, "retryable"), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn bad_options_and_calls_get_clear_errors() {
    for options in [
        "{}",
        r#"{"virtualKey":""}"#,
        r#"{"virtualKey":42}"#,
        r#"{"virtualKey":"condt_x1234567","baseUrl":"not a url"}"#,
        r#"{"virtualKey":"condt_x1234567","baseUrl":"http://example.com"}"#,
        r#"{"virtualKey":"condt_x1234567","transport":"Carrier pigeon"}"#,
    ] {
        let error = ConduitRealtimeClient::new(object(options, &[])).err().unwrap_or_else(|| panic!("{options} must be refused"));
        assert!(error.is_instance_of::<js_sys::TypeError>(), "{options}");
    }
    assert!(ConduitRealtimeClient::new(JsValue::UNDEFINED).is_err());
    let c = client("deployed", &unique_key("calls"), "");
    assert!(settle(c.connect("audio".into())).await.unwrap_err().contains("'image' or 'video'"));
    let e = settle(c.subscribe_to_task("t1".into(), "image".into())).await.unwrap_err();
    assert!(e.contains("Not connected to the image hub"), "{e}");
    assert!(settle(c.subscribe_to_task(JsValue::from(5), "image".into())).await.is_err());
    settle(c.unsubscribe_from_task("unknown".into())).await.expect("unsubscribing an unknown task is a no-op");
}

#[wasm_bindgen_test]
async fn the_key_never_appears_in_events_or_errors() {
    let canary = format!("condt_CANARY{}", (js_sys::Math::random() * 1e9) as u64);
    let c = client("deployed", &canary, r#","enableLogging":true"#);
    let log = record(&c);
    settle(c.connect("image".into())).await.unwrap();
    let id = settle(c.generate_image(object(r#"{"prompt":"canary ms=500"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("completed", 10_000, || count(&log, "completed", &id) == 1).await;
    dev("POST", &format!("/_dev/fail?target=http&status=401&count=1&body=Invalid%20key%20{canary}&key={canary}")).await;
    let e = wasm_bindgen_futures::JsFuture::from(c.generate_image(object(r#"{"prompt":"x"}"#, &[]))).await.unwrap_err();
    let message = path(&e, "message").as_string().unwrap();
    assert!(message.contains("condt_***"), "the server echoed the key and it was masked: {message}");
    let _ = settle(c.subscribe_to_task("someone-elses-task".into(), "image".into())).await;
    for (name, payload) in log.borrow().iter() {
        let text = JSON::stringify(payload).map(String::from).unwrap_or_default();
        let message = path(payload, "error.message").as_string().unwrap_or_default();
        assert!(!text.contains(&canary) && !message.contains(&canary), "{name}: {text} {message}");
    }
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn access_token_factory_hands_the_browser_short_lived_keys() {
    let key = unique_key("ephemeral");
    let issued = Rc::new(RefCell::new(0u32));
    let counter = issued.clone();
    let owner = key.clone();
    // An app's backend would mint these; here the page asks the dev server directly.
    let factory = func(move |_| {
        *counter.borrow_mut() += 1;
        let owner = owner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let init = web_sys::RequestInit::new();
            init.set_method("POST");
            let headers = web_sys::Headers::new().unwrap();
            headers.set("Authorization", &format!("Bearer {owner}")).unwrap();
            init.set_headers(&headers);
            let request = web_sys::Request::new_with_str_and_init(&format!("{SERVER}/v1/auth/ephemeral-key"), &init).unwrap();
            let window = web_sys::window().unwrap();
            let response: web_sys::Response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request)).await?.into();
            let body = wasm_bindgen_futures::JsFuture::from(response.json()?).await?;
            Ok(path(&body, "ephemeralKey"))
        })
        .into()
    });
    let options = object(&format!(r#"{{"baseUrl":"{SERVER}"}}"#), &[("accessTokenFactory", factory)]);
    let c = ConduitRealtimeClient::new(options).unwrap();
    let log = record(&c);
    settle(c.connect("image".into())).await.unwrap();
    let id = settle(c.generate_image(object(r#"{"prompt":"ephemeral ms=600"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("completed", 10_000, || count(&log, "completed", &id) == 1).await;
    assert!(*issued.borrow() >= 2, "a fresh key for the socket and for the HTTP call");
    let counters = dev("GET", "/_dev/counters").await;
    let seen = js_sys::JSON::stringify(&path(&counters, "tokensSeen")).map(String::from).unwrap_or_default();
    assert!(seen.contains("ek_"), "the hub saw ephemeral keys: {seen}");
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn listeners_may_throw_subscribe_or_disconnect() {
    let c = Rc::new(client("deployed", &unique_key("reentrant"), ""));
    let log = record(&c);
    c.on("progress".into(), js_sys::Function::new_no_args("throw new Error('listener bug')").into()).unwrap();
    settle(c.connect("image".into())).await.unwrap();
    let first = settle(c.generate_image(object(r#"{"prompt":"first ms=800 steps=2"}"#, &[]))).await.unwrap().as_string().unwrap();
    wait_for("completed despite a throwing listener", 10_000, || count(&log, "completed", &first) == 1).await;

    let c2 = c.clone();
    let disconnected = Rc::new(RefCell::new(false));
    let d2 = disconnected.clone();
    c.once("progress".into(), func(move |_| {
        let (c3, d3) = (c2.clone(), d2.clone());
        wasm_bindgen_futures::spawn_local(async move {
            settle(c3.disconnect()).await.unwrap();
            *d3.borrow_mut() = true;
        });
        JsValue::UNDEFINED
    }).into()).unwrap();
    settle(c.generate_image(object(r#"{"prompt":"second ms=1500 steps=5"}"#, &[]))).await.unwrap();
    wait_for("disconnected from inside a listener", 10_000, || *disconnected.borrow()).await;
    assert!(!c.is_connected(JsValue::UNDEFINED));
    assert_eq!(settle(c.connect("image".into())).await.unwrap_err(), "Client has been disposed");
}

#[wasm_bindgen_test]
async fn snapshots_reuse_the_objects_of_unchanged_tasks() {
    let key = unique_key("snapshot");
    let c = client("deployed", &key, "");
    let log = record(&c);
    settle(c.connect("image".into())).await.unwrap();
    let fast = object(r#"{"model":"m","prompt":"fast ms=200 steps=2"}"#, &[]);
    let slow = object(r#"{"model":"m","prompt":"slow ms=4000 steps=8"}"#, &[]);
    let a = settle(c.generate_image(fast)).await.unwrap().as_string().unwrap();
    let b = settle(c.generate_image(slow)).await.unwrap().as_string().unwrap();
    wait_for("the fast task", 10_000, || count(&log, "completed", &a) == 1).await;
    let task = |snapshot: &JsValue, id: &str| {
        js_sys::Array::from(&path(snapshot, "tasks")).iter().find(|t| path(t, "taskId").as_string().as_deref() == Some(id)).unwrap()
    };
    let first = c.get_snapshot();
    let seen = count(&log, "progress", &b);
    wait_for("progress of the slow task", 10_000, || count(&log, "progress", &b) > seen).await;
    let second = c.get_snapshot();
    assert_ne!(first, second);
    assert_eq!(task(&first, &a), task(&second, &a), "an unchanged task keeps its object");
    assert_ne!(task(&first, &b), task(&second, &b), "a changed task gets a new object");
    assert!(js_sys::Object::is_frozen(&task(&second, &b).into()));
    assert_eq!(js_sys::Array::from(&path(&second, "tasks")).length(), 2);
    let third_task = object(r#"{"model":"m","prompt":"third ms=4000 steps=2"}"#, &[]);
    let c_id = settle(c.generate_image(third_task)).await.unwrap().as_string().unwrap();
    let third = c.get_snapshot();
    assert_eq!(js_sys::Array::from(&path(&third, "tasks")).length(), 3);
    assert_eq!(task(&second, &a), task(&third, &a), "a new task leaves the others' objects alone");
    assert_eq!(path(&js_sys::Array::from(&path(&third, "tasks")).get(2), "taskId").as_string(), Some(c_id), "oldest first");
    c.clear_finished_tasks();
    let ids: Vec<String> = js_sys::Array::from(&path(&c.get_snapshot(), "tasks")).iter().map(|t| path(&t, "taskId").as_string().unwrap()).collect();
    assert!(!ids.contains(&a), "a cleared task leaves the snapshot");
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn change_listeners_hear_once_per_frame_and_snapshots_are_current_in_handlers() {
    let key = unique_key("batch");
    let c = Rc::new(client("deployed", &key, ""));
    settle(c.connect("image".into())).await.unwrap();
    let changes = Rc::new(RefCell::new(0u32));
    let counter = changes.clone();
    let stop = c.on_change(func(move |_| {
        *counter.borrow_mut() += 1;
        JsValue::UNDEFINED
    }))
    .unwrap();
    // Each progress handler compares the event with the task in a snapshot taken right then.
    let seen: Rc<RefCell<Vec<(f64, f64)>>> = Rc::default();
    let (sink, client_ref) = (seen.clone(), c.clone());
    let on_progress: Function = func(move |event| {
        let tasks = js_sys::Array::from(&path(&client_ref.get_snapshot(), "tasks"));
        let task = tasks.iter().find(|t| path(t, "taskId") == path(&event, "taskId")).unwrap_or(JsValue::NULL);
        sink.borrow_mut().push((num(&event, "progress"), path(&task, "progress").as_f64().unwrap_or(f64::NAN)));
        JsValue::UNDEFINED
    })
    .into();
    c.on("progress".into(), on_progress.into()).unwrap();
    flood_progress(&key, 50, 50, "batch-task").await;
    wait_for("50 progress events", 10_000, || seen.borrow().len() == 50).await;
    sleep(50).await;
    assert_eq!(*changes.borrow(), 1, "one frame of 50 events is one change notification");
    for (i, (event, snapshot)) in seen.borrow().iter().enumerate() {
        assert_eq!(event, snapshot, "event {i}: the snapshot read in the handler shows that event's progress");
    }
    let stop: Function = stop.into();
    stop.call0(&JsValue::NULL).unwrap();
    flood_progress(&key, 10, 5, "batch-task-2").await;
    wait_for("10 more progress events", 10_000, || seen.borrow().len() == 60).await;
    assert_eq!(*changes.borrow(), 1, "a stopped listener hears nothing");
    settle(c.disconnect()).await.unwrap();
}

#[wasm_bindgen_test]
async fn once_fires_once_and_listeners_changed_by_a_listener_apply_from_the_next_event() {
    let key = unique_key("listeners");
    let c = Rc::new(client("deployed", &key, ""));
    settle(c.connect("image".into())).await.unwrap();
    let calls: Rc<RefCell<Vec<&'static str>>> = Rc::default();
    let listener = |name: &'static str| -> Function {
        let calls = calls.clone();
        func(move |_| {
            calls.borrow_mut().push(name);
            JsValue::UNDEFINED
        })
        .into()
    };
    let (once, removed, added) = (listener("once"), listener("removed"), listener("added"));
    let (c2, removed2, added2) = (c.clone(), removed.clone(), added.clone());
    let first = Rc::new(RefCell::new(true));
    let changer: Function = func(move |_| {
        if first.replace(false) {
            c2.off("progress".into(), removed2.clone().into()).unwrap();
            c2.on("progress".into(), added2.clone().into()).unwrap();
        }
        JsValue::UNDEFINED
    })
    .into();
    c.on("progress".into(), changer.into()).unwrap();
    c.once("progress".into(), once.into()).unwrap();
    c.on("progress".into(), removed.into()).unwrap();
    flood_progress(&key, 3, 3, "listener-task").await;
    wait_for("3 progress events", 10_000, || calls.borrow().iter().filter(|n| **n == "added").count() == 2).await;
    sleep(50).await;
    assert_eq!(*calls.borrow(), ["once", "removed", "added", "added"], "removed still hears the event it was removed in, added only the next ones");
    settle(c.disconnect()).await.unwrap();
}
