//! Invocations waiting for the server: each pending id holds the Promise callbacks (or stream subscriber)
//! to settle when its Completion or StreamItems arrive.

use std::cell::RefCell;

use js_sys::{Function, Promise, JSON};
use wasm_bindgen::prelude::*;

use super::js;
use crate::browser::driver::Driver;
use crate::conduit::id_hash::IdMap;
use crate::connection::{InvokeKind, Payload};

enum Pending {
    Invoke { resolve: Function, reject: Function },
    Stream { subscriber: JsValue },
}

/// The pending invocations of one connection.
#[derive(Default)]
pub struct Calls {
    pending: RefCell<IdMap<u64, Pending>>,
}

impl Calls {
    /// Invokes `method` with `arguments` (a JSON array text); the Promise settles with the parsed result.
    pub fn invoke(&self, driver: &Driver, kind: InvokeKind, method: &str, arguments: &str) -> Promise {
        match driver.invoke(kind, method, arguments) {
            Err(e) => Promise::reject(&js::error(&e)),
            Ok(None) => Promise::resolve(&JsValue::UNDEFINED),
            Ok(Some(id)) => {
                let mut pending = None;
                let promise = Promise::new(&mut |resolve, reject| pending = Some(Pending::Invoke { resolve, reject }));
                if let Some(p) = pending {
                    self.pending.borrow_mut().insert(id, p);
                }
                promise
            }
        }
    }

    /// Registers the subscriber of a stream started with id `id`.
    pub fn add_stream(&self, id: u64, subscriber: JsValue) {
        self.pending.borrow_mut().insert(id, Pending::Stream { subscriber });
    }

    /// Settles invocation `id`: `Ok(Some(result))`, `Ok(None)` for void, or `Err(message)`.
    pub fn complete(&self, driver: &Driver, id: u64, outcome: Result<Option<Payload>, String>) {
        let Some(pending) = self.pending.borrow_mut().remove(&id) else { return };
        let parsed = outcome.map(|json| json.map(|j| driver.parse(&j)));
        match (pending, parsed) {
            (Pending::Invoke { resolve, .. }, Ok(None)) => {
                let _ = resolve.call1(&JsValue::UNDEFINED, &JsValue::UNDEFINED);
            }
            (Pending::Invoke { resolve, .. }, Ok(Some(Ok(value)))) => {
                let _ = resolve.call1(&JsValue::UNDEFINED, &value);
            }
            (Pending::Invoke { reject, .. }, Ok(Some(Err(e)))) => {
                let _ = reject.call1(&JsValue::UNDEFINED, &e);
            }
            (Pending::Invoke { reject, .. }, Err(message)) => {
                let _ = reject.call1(&JsValue::UNDEFINED, &js::error(&message));
            }
            (Pending::Stream { subscriber }, Ok(_)) => notify(&subscriber, "complete", &JsValue::UNDEFINED),
            (Pending::Stream { subscriber }, Err(message)) => notify(&subscriber, "error", &js::error(&message)),
        }
    }

    /// Delivers one stream item (JSON text) to its subscriber; `Err` when the item is not JSON.
    pub fn stream_item(&self, id: u64, item: &str) -> Result<(), JsValue> {
        let subscriber = match self.pending.borrow().get(&id) {
            Some(Pending::Stream { subscriber }) => subscriber.clone(),
            _ => return Ok(()),
        };
        notify(&subscriber, "next", &JSON::parse(item)?);
        Ok(())
    }
}

/// Calls `subscriber[method](arg)` (as a method, like the official client) if the subscriber has it.
pub fn notify(subscriber: &JsValue, method: &str, arg: &JsValue) {
    if let Some(f) = js::get(subscriber, method).and_then(|f| f.dyn_into::<Function>().ok()) {
        crate::browser::global::report_throw(f.call1(subscriber, arg));
    }
}
