//! Small helpers for reading JavaScript values with clear errors.

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;

/// `obj[key]`, or `None` when it is `undefined` or `null` (or `obj` is not an object).
pub fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    if !obj.is_object() {
        return None;
    }
    Reflect::get(obj, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

/// Sets `obj[key] = value`.
pub fn set(obj: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// A `TypeError` with this message.
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

/// An `Error` with this message.
pub fn error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// An optional boolean option.
pub fn boolean(obj: &JsValue, key: &str, what: &str) -> Result<Option<bool>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| type_error(&format!("{what}.{key} must be a boolean."))),
    }
}

/// An optional non-negative finite number option, as whole milliseconds or bytes.
pub fn number(obj: &JsValue, key: &str, what: &str) -> Result<Option<u64>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n.is_finite() && n >= 0.0 => Ok(Some(n as u64)),
            _ => Err(type_error(&format!("{what}.{key} must be a non-negative number."))),
        },
    }
}

/// An optional function option.
pub fn function(obj: &JsValue, key: &str, what: &str) -> Result<Option<Function>, JsValue> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.dyn_into::<Function>().map(Some).map_err(|_| type_error(&format!("{what}.{key} must be a function."))),
    }
}

pub use crate::browser::global::call_safely;
