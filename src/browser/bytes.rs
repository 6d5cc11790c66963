//! Copies into WebAssembly memory that fail with an error where a failed allocation would abort the instance.

use js_sys::Uint8Array;

/// `len` zero bytes, or an error when memory cannot hold them.
pub fn zeroed(len: usize) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| format!("Could not allocate {len} bytes for a message from the server."))?;
    bytes.resize(len, 0);
    Ok(bytes)
}

/// A copy of `array`, unless `allow` (given its length) refuses it before anything is allocated.
pub fn copy(array: &Uint8Array, allow: impl FnOnce(usize) -> Result<(), String>) -> Result<Vec<u8>, String> {
    let len = array.length() as usize;
    allow(len)?;
    let mut bytes = zeroed(len)?;
    array.copy_to(&mut bytes);
    Ok(bytes)
}
