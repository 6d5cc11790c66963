//! The text frame being delivered, held twice: as the browser's own string, which handlers' arguments are sliced
//! from and parsed with `JSON.parse`, and as UTF-8 for the protocol core.

use std::cell::Cell;

use js_sys::{Array, JsString};
use wasm_bindgen::prelude::*;

use super::bytes::zeroed;

#[wasm_bindgen(module = "/src/browser/deliver.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn deliver(frame: &JsString, start: u32, end: u32, handlers: &Array) -> Result<(), JsValue>;
    /// Calls every handler with `args`, logging (not propagating) a throw.
    #[wasm_bindgen(js_name = callAll)]
    pub fn call_all(args: &Array, handlers: &Array);
    #[wasm_bindgen(catch, js_name = parseSlice)]
    fn parse_slice(frame: &JsString, start: u32, end: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = encodeFrame)]
    fn encode_frame(frame: &JsString, into: &mut [u8]) -> i32;
}

/// A received text frame.
pub struct Frame {
    /// The number the driver gave it.
    pub number: u32,
    /// The string as the socket delivered it.
    pub js: JsString,
    /// Its UTF-8 copy.
    pub text: String,
    ascii: bool,
    /// The last byte offset converted and its UTF-16 offset, since ranges come in order.
    cursor: Cell<(usize, u32)>,
}

impl Frame {
    /// Copies `js`, `units` UTF-16 units long, into WebAssembly memory as UTF-8, sized for ASCII first; fails when
    /// memory cannot hold it.
    pub fn new(number: u32, js: JsString, units: usize) -> Result<Self, String> {
        let mut bytes = zeroed(units)?;
        let mut written = encode_frame(&js, &mut bytes);
        if written < 0 {
            // At most three bytes per UTF-16 unit; a surrogate pair is two units and four bytes.
            drop(bytes);
            bytes = zeroed(units.saturating_mul(3))?;
            written = encode_frame(&js, &mut bytes);
        }
        bytes.truncate(written.max(0) as usize);
        bytes.shrink_to_fit();
        let text = String::from_utf8(bytes).unwrap_or_else(|_| js.as_string().unwrap_or_default());
        // Only ASCII takes one byte per unit.
        Ok(Frame { number, ascii: text.len() == units, js, text, cursor: Cell::new((0, 0)) })
    }

    /// The UTF-16 index of a UTF-8 byte offset (JavaScript strings count UTF-16 units).
    fn utf16(&self, byte: usize) -> u32 {
        if self.ascii {
            return byte as u32;
        }
        let (from, mut units) = match self.cursor.get() {
            (at, units) if at <= byte => (at, units),
            _ => (0, 0),
        };
        for &b in self.text.as_bytes().get(from..byte).unwrap_or(&[]) {
            // A character takes one unit, two when its UTF-8 form has four bytes; continuation bytes none.
            units += match b {
                0x80..=0xbf => 0,
                0xf0..=0xff => 2,
                _ => 1,
            };
        }
        self.cursor.set((byte, units));
        units
    }

    /// Calls `handlers` with the JSON array at bytes `start..end` as arguments.
    pub fn deliver(&self, start: usize, end: usize, handlers: &Array) -> Result<(), JsValue> {
        deliver(&self.js, self.utf16(start), self.utf16(end), handlers)
    }

    /// Parses the JSON value at bytes `start..end`.
    pub fn parse(&self, start: usize, end: usize) -> Result<JsValue, JsValue> {
        parse_slice(&self.js, self.utf16(start), self.utf16(end))
    }
}
