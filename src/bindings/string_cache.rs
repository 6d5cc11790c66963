//! JavaScript copies of strings that repeat from event to event (task ids, status words, task types), so the
//! busiest event does not decode them from WebAssembly memory again: each decode is a `TextDecoder` call, whose
//! fixed cost is larger than building a short ASCII string from its bytes.

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/bindings/values.js")]
extern "C" {
    #[wasm_bindgen(js_name = asciiString)]
    fn ascii_string(bytes: &[u8]) -> JsValue;
}

/// Measured in Chromium: up to about 40 bytes `String.fromCharCode` is faster than `TextDecoder`, above it slower.
const SHORT: usize = 40;

/// `text` as a new JavaScript string.
pub fn js_string(text: &str) -> JsValue {
    if text.len() <= SHORT && text.is_ascii() {
        ascii_string(text.as_bytes())
    } else {
        JsValue::from_str(text)
    }
}

/// The most recently seen strings, replaced oldest first.
pub struct StringCache {
    entries: RefCell<Vec<(String, JsValue)>>,
    capacity: usize,
    next: Cell<usize>,
}

impl StringCache {
    /// A cache of the last `capacity` strings (at least one).
    pub fn new(capacity: usize) -> Self {
        StringCache { entries: RefCell::new(Vec::new()), capacity: capacity.max(1), next: Cell::new(0) }
    }

    /// `text` as a JavaScript string.
    pub fn get(&self, text: &str) -> JsValue {
        let mut entries = self.entries.borrow_mut();
        if let Some((_, js)) = entries.iter().find(|(s, _)| s == text) {
            return js.clone();
        }
        let js = js_string(text);
        let entry = (text.to_string(), js.clone());
        if entries.len() < self.capacity {
            entries.push(entry);
        } else if let Some(slot) = entries.get_mut(self.next.get()) {
            *slot = entry;
            self.next.set((self.next.get() + 1) % self.capacity);
        }
        js
    }
}
