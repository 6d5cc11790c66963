//! A one-shot timer that cancels itself when dropped.

use wasm_bindgen::prelude::*;

use super::global;

/// A pending `setTimeout`; dropping it clears the timeout and frees its closure.
#[must_use]
pub struct Timeout {
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds.
    pub fn new(ms: u64, callback: impl FnOnce() + 'static) -> Self {
        let mut callback = Some(callback);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = callback.take() {
                f();
            }
        });
        let id = global::set_timeout(closure.as_ref().unchecked_ref(), ms.min(i32::MAX as u64) as f64);
        Timeout { id, _callback: closure }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        global::clear_timeout(&self.id);
    }
}
