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
