//! Client methods registered with `on`, found case-insensitively without allocating. Each name's functions sit
//! in a JavaScript array that is replaced, never changed, so `on`/`off` from inside a handler leave the
//! dispatch in progress alone (like the official client's copy of the list).

use std::cell::RefCell;

use js_sys::{Array, Function};
use wasm_bindgen::JsValue;

/// The handlers of a connection, by method name, with how many there are (never zero).
#[derive(Default)]
pub struct Handlers(RefCell<Vec<(String, Array, u32)>>);

impl Handlers {
    /// The handlers of `target` (ASCII case-insensitive) and their number.
    pub fn get(&self, target: &str) -> Option<(Array, u32)> {
        self.0.borrow().iter().find(|(name, ..)| name.eq_ignore_ascii_case(target)).map(|(_, list, n)| (list.clone(), *n))
    }

    /// Adds `f` to `name`'s handlers unless it is there already.
    pub fn add(&self, name: &str, f: &Function) {
        let list = self.get(name).map(|(list, _)| list).unwrap_or_default();
        if !list.includes(f, 0) {
            let list = Array::from(&list);
            list.push(f);
            self.set(name, Some(list));
        }
    }

    /// Removes `f` from `name`'s handlers (a value that is not one of them removes nothing), or all of them
    /// when `f` is `None`.
    pub fn remove(&self, name: &str, f: Option<&JsValue>) {
        let rest = match (f, self.get(name)) {
            (Some(f), Some((list, _))) => list.filter(&mut |h, _, _| &h != f),
            _ => Array::new(),
        };
        self.set(name, (rest.length() > 0).then_some(rest));
    }

    fn set(&self, name: &str, list: Option<Array>) {
        let mut all = self.0.borrow_mut();
        all.retain(|(n, ..)| !n.eq_ignore_ascii_case(name));
        if let Some(list) = list {
            let count = list.length();
            all.push((name.to_string(), list, count));
        }
    }
}
