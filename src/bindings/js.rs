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

/// A string argument, or a `TypeError` naming it (the release glue would otherwise pass any value on).
pub fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| type_error(&format!("{name} must be a string.")))
}

/// An optional string argument (`undefined` or `null` for none), or a `TypeError` naming it.
pub fn optional_string_arg(value: &JsValue, name: &str) -> Result<Option<String>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    string_arg(value, name).map(Some)
}

/// A function argument, or a `TypeError` naming it.
pub fn function_arg(value: JsValue, name: &str) -> Result<Function, JsValue> {
    value.dyn_into::<Function>().map_err(|_| type_error(&format!("{name} must be a function.")))
}

/// A duration of at least 1 ms, or a `TypeError` naming it.
pub fn milliseconds_arg(value: &JsValue, name: &str) -> Result<u64, JsValue> {
    match value.as_f64() {
        Some(ms) if ms.is_finite() && ms >= 1.0 => Ok(ms as u64),
        _ => Err(type_error(&format!("{name} must be a number of milliseconds, at least 1."))),
    }
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

pub use crate::browser::global::{call1_safely, call_safely};
