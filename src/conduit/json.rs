//! Reading the few fields the Conduit layer needs out of JSON text, without building a tree: one pass over an
//! object collects the raw text of the wanted keys, and typed readers interpret one raw value each.

use std::borrow::Cow;

use crate::protocol::json::cursor::Cursor;
use crate::protocol::{number, ProtocolError};

/// Raw JSON values of an object's fields, looked up by name.
pub struct Fields<'a> {
    /// The object's own JSON text.
    pub text: &'a str,
    names: &'static [&'static str],
    values: Vec<Option<&'a str>>,
}

impl<'a> Fields<'a> {
    /// Scans the object `text` once, keeping the raw values of `names` (the first occurrence of each).
    pub fn read(text: &'a str, names: &'static [&'static str]) -> Result<Self, ProtocolError> {
        let mut c = Cursor::new(text);
        let mut values = vec![None; names.len()];
        let text = object_at(&mut c, |key, value| keep(names, &mut values, key, value))?;
        c.finish()?;
        Ok(Fields { text, names, values })
    }

    /// The raw JSON of `name`, unless absent or `null`.
    pub fn raw(&self, name: &str) -> Option<&'a str> {
        let i = self.names.iter().position(|n| *n == name)?;
        present(self.values.get(i).copied().flatten())
    }

    /// `name` as a string; `Err` when present with another type.
    pub fn string(&self, name: &'static str) -> Result<Option<Cow<'a, str>>, ProtocolError> {
        opt_string(self.raw(name), name)
    }

    /// `name` as a number; `Err` when present with another type.
    pub fn number(&self, name: &'static str) -> Result<Option<f64>, ProtocolError> {
        opt_number(self.raw(name), name)
    }

    /// `name` as a boolean; `Err` when present with another type.
    pub fn boolean(&self, name: &'static str) -> Result<Option<bool>, ProtocolError> {
        opt_boolean(self.raw(name), name)
    }
}

fn keep<'a>(names: &[&str], values: &mut [Option<&'a str>], key: &str, value: &'a str) {
    if let Some(slot) = names.iter().position(|n| *n == key).and_then(|i| values.get_mut(i)) {
        slot.get_or_insert(value);
    }
}

/// Reads the object at the cursor, calling `field` with each key and raw value; the object's text.
pub fn object_at<'a>(c: &mut Cursor<'a>, mut field: impl FnMut(&str, &'a str)) -> Result<&'a str, ProtocolError> {
    if c.peek() != Some(b'{') {
        return Err(ProtocolError::WrongType("object"));
    }
    let start = c.pos();
    c.object(|c, key| {
        let value = c.value()?;
        field(&key, value);
        Ok(())
    })?;
    Ok(c.since(start))
}

/// Like [`object_at`], for the first element of the JSON array `text` (the others are checked, not read);
/// `Ok(None)` for an empty array.
pub fn first_object<'a>(text: &'a str, mut field: impl FnMut(&str, &'a str)) -> Result<Option<&'a str>, ProtocolError> {
    let mut c = Cursor::new(text);
    if c.peek() != Some(b'[') {
        return Err(ProtocolError::WrongType("array"));
    }
    let mut first = None;
    c.array(|c| {
        match first {
            None => first = Some(object_at(c, &mut field)?),
            Some(_) => {
                c.value()?;
            }
        }
        Ok(())
    })?;
    c.finish()?;
    Ok(first)
}

/// A raw value as a string, unless absent or `null`; `Err` when it has another type.
pub fn opt_string<'a>(raw: Option<&'a str>, field: &'static str) -> Result<Option<Cow<'a, str>>, ProtocolError> {
    present(raw).map(|raw| string(raw, field)).transpose()
}

/// A raw value as a number, unless absent or `null`; `Err` when it has another type.
pub fn opt_number(raw: Option<&str>, field: &'static str) -> Result<Option<f64>, ProtocolError> {
    present(raw).map(|raw| number(raw, field)).transpose()
}

/// A raw value as a boolean, unless absent or `null`; `Err` when it has another type.
pub fn opt_boolean(raw: Option<&str>, field: &'static str) -> Result<Option<bool>, ProtocolError> {
    present(raw)
        .map(|raw| match raw {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ProtocolError::WrongType(field)),
        })
        .transpose()
}

/// A raw value, unless absent or `null`.
pub fn present(raw: Option<&str>) -> Option<&str> {
    raw.filter(|v| *v != "null")
}

/// A raw JSON string value, unescaped.
pub fn string<'a>(raw: &'a str, field: &'static str) -> Result<Cow<'a, str>, ProtocolError> {
    if !raw.starts_with('"') {
        return Err(ProtocolError::WrongType(field));
    }
    Cursor::new(raw).string()
}

/// A raw JSON number value.
pub fn number(raw: &str, field: &'static str) -> Result<f64, ProtocolError> {
    match raw.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => number::parse_f64(raw).ok_or(ProtocolError::WrongType(field)),
        _ => Err(ProtocolError::WrongType(field)),
    }
}

/// The raw elements of a JSON array.
pub fn elements(text: &str) -> Result<Vec<&str>, ProtocolError> {
    let mut c = Cursor::new(text);
    if c.peek() != Some(b'[') {
        return Err(ProtocolError::WrongType("array"));
    }
    let mut out = Vec::new();
    c.array(|c| {
        out.push(c.value()?);
        Ok(())
    })?;
    c.finish()?;
    Ok(out)
}

/// Appends JSON for an object, field by field, skipping absent ones.
pub struct ObjectWriter {
    out: Vec<u8>,
}

impl ObjectWriter {
    /// An empty object.
    pub fn new() -> Self {
        ObjectWriter { out: vec![b'{'] }
    }

    fn key(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        crate::protocol::json::write_string(&mut self.out, key);
        self.out.push(b':');
    }

    /// A string field.
    pub fn string(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        crate::protocol::json::write_string(&mut self.out, value);
        self
    }

    /// An optional string field.
    pub fn opt_string(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.string(key, v);
        }
        self
    }

    /// A number field (non-finite numbers are skipped).
    pub fn number(&mut self, key: &str, value: f64) -> &mut Self {
        if value.is_finite() {
            self.key(key);
            number::write_f64(&mut self.out, value);
        }
        self
    }

    /// An optional number field.
    pub fn opt_number(&mut self, key: &str, value: Option<f64>) -> &mut Self {
        if let Some(v) = value {
            self.number(key, v);
        }
        self
    }

    /// A boolean field.
    pub fn boolean(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    /// An optional boolean field.
    pub fn opt_boolean(&mut self, key: &str, value: Option<bool>) -> &mut Self {
        if let Some(v) = value {
            self.boolean(key, v);
        }
        self
    }

    /// An array of strings.
    pub fn strings(&mut self, key: &str, values: &[String]) -> &mut Self {
        self.key(key);
        self.out.push(b'[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            crate::protocol::json::write_string(&mut self.out, v);
        }
        self.out.push(b']');
        self
    }

    /// A field whose value is already valid JSON.
    pub fn raw(&mut self, key: &str, json: Option<&str>) -> &mut Self {
        if let Some(j) = json {
            self.key(key);
            self.out.extend_from_slice(j.as_bytes());
        }
        self
    }

    /// The finished JSON text.
    pub fn finish(&mut self) -> String {
        self.out.push(b'}');
        String::from_utf8(core::mem::take(&mut self.out)).unwrap_or_default()
    }
}

impl Default for ObjectWriter {
    fn default() -> Self {
        Self::new()
    }
}
