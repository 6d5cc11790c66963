//! JavaScript copies of strings that repeat from event to event (task ids, status words, task types), so the
//! busiest event does not decode them from WebAssembly memory again: each decode is a `TextDecoder` call.

use std::cell::{Cell, RefCell};

use wasm_bindgen::JsValue;

const ENTRIES: usize = 16;

/// The most recently seen strings, replaced oldest first.
#[derive(Default)]
pub struct StringCache {
    entries: RefCell<Vec<(String, JsValue)>>,
    next: Cell<usize>,
}

impl StringCache {
    /// `text` as a JavaScript string.
    pub fn get(&self, text: &str) -> JsValue {
        let mut entries = self.entries.borrow_mut();
        if let Some((_, js)) = entries.iter().find(|(s, _)| s == text) {
            return js.clone();
        }
        let js = JsValue::from_str(text);
        let entry = (text.to_string(), js.clone());
        if entries.len() < ENTRIES {
            entries.push(entry);
        } else {
            let at = self.next.get();
            entries[at] = entry;
            self.next.set((at + 1) % ENTRIES);
        }
        js
    }
}
