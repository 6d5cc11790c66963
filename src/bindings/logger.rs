//! Log output at a chosen level: the console, or a caller's `{ log(level, message) }` object.

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::js;
use crate::connection::LogLevel;

/// Where log lines go and from which level.
#[derive(Clone)]
pub struct Logger {
    level: LogLevel,
    sink: Option<Function>,
}

impl Logger {
    /// Logs warnings and errors to the console, like the official client.
    pub fn default_console() -> Self {
        Logger { level: LogLevel::Warning, sink: None }
    }

    /// Parses `configureLogging`'s argument: a level number, a level name, or an object with `log`.
    pub fn from_js(value: &JsValue) -> Result<Self, JsValue> {
        if let Some(log) = js::get(value, "log").and_then(|f| f.dyn_into::<Function>().ok()) {
            return Ok(Logger { level: LogLevel::Trace, sink: Some(log) });
        }
        let level = if let Some(n) = value.as_f64() {
            level_from_number(n)
        } else if let Some(name) = value.as_string() {
            level_from_name(&name)
        } else {
            None
        };
        level.map(|level| Logger { level, sink: None }).ok_or_else(|| {
            js::type_error("The log level must be a LogLevel, one of 'trace', 'debug', 'information', 'warning', 'error', 'critical', 'none', or an object with a log(level, message) method.")
        })
    }

    /// Writes `message` if `level` is enabled.
    pub fn log(&self, level: LogLevel, message: &str) {
        if level < self.level || level == LogLevel::None {
            return;
        }
        if let Some(sink) = &self.sink {
            let _ = sink.call2(&JsValue::NULL, &JsValue::from(level as u32), &JsValue::from_str(message));
            return;
        }
        let line = JsValue::from_str(&format!("[{}] {:?}: {message}", String::from(js_sys::Date::new_0().to_iso_string()), level));
        match level {
            LogLevel::Critical | LogLevel::Error => web_sys::console::error_1(&line),
            LogLevel::Warning => web_sys::console::warn_1(&line),
            LogLevel::Information => web_sys::console::info_1(&line),
            _ => web_sys::console::log_1(&line),
        }
    }
}

fn level_from_number(n: f64) -> Option<LogLevel> {
    [LogLevel::Trace, LogLevel::Debug, LogLevel::Information, LogLevel::Warning, LogLevel::Error, LogLevel::Critical, LogLevel::None]
        .into_iter()
        .find(|l| *l as u32 as f64 == n)
}

fn level_from_name(name: &str) -> Option<LogLevel> {
    Some(match name.to_ascii_lowercase().as_str() {
        "trace" => LogLevel::Trace,
        "debug" => LogLevel::Debug,
        "info" | "information" => LogLevel::Information,
        "warn" | "warning" => LogLevel::Warning,
        "error" => LogLevel::Error,
        "critical" => LogLevel::Critical,
        "none" => LogLevel::None,
        _ => return None,
    })
}
