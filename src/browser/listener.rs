//! An event listener that removes itself when dropped.

use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

/// A registered listener; dropping it unregisters it and frees its closure.
#[must_use]
pub struct EventListener {
    target: EventTarget,
    event: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl EventListener {
    /// Listens for `event` on `target`.
    pub fn new(target: &EventTarget, event: &'static str, callback: impl FnMut(web_sys::Event) + 'static) -> Self {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(callback);
        let _ = target.add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        EventListener { target: target.clone(), event, callback }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(self.event, self.callback.as_ref().unchecked_ref());
    }
}
