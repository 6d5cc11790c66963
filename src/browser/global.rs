//! Bindings to globals that exist in windows and workers alike: timers, fetch, the clock, event listeners.

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout`.
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    /// The global `clearTimeout`.
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);
    /// The global `fetch`.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch(request: &web_sys::Request) -> Promise;
}

/// Milliseconds since the epoch.
pub fn now() -> u64 {
    js_sys::Date::now() as u64
}

/// A random 64-bit seed (for retry jitter and hashing; not for secrets).
pub fn random_seed() -> u64 {
    (js_sys::Math::random() * u64::MAX as f64) as u64
}

/// The global object as an event target (`window` or a worker's `self`).
pub fn event_target() -> web_sys::EventTarget {
    js_sys::global().unchecked_into()
}

/// The message of a thrown JavaScript value: its `message` when it is an Error, else its string form.
pub fn error_message(value: &JsValue) -> String {
    if let Some(e) = value.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    value.as_string().unwrap_or_else(|| String::from(&js_sys::JsString::from(value.clone())))
}

/// Calls `f` with `args`, reporting (not propagating) a throw.
pub fn call_safely(f: &Function, args: &js_sys::Array) {
    report_throw(f.apply(&JsValue::UNDEFINED, args));
}

/// Calls `f` with one argument, reporting (not propagating) a throw.
pub fn call1_safely(f: &Function, arg: &JsValue) {
    report_throw(f.call1(&JsValue::UNDEFINED, arg));
}

/// Logs the throw of a user callback, if it threw.
pub fn report_throw(result: Result<JsValue, JsValue>) {
    if let Err(e) = result {
        web_sys::console::error_2(&"conduit-realtime: an event handler threw:".into(), &e);
    }
}
