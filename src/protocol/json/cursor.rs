//! A validating JSON scanner over UTF-8 bytes: reads the few scalars the protocol needs and skips (validates)
//! everything else without building a tree. Iterative, with a nesting limit, so hostile input cannot overflow
//! the stack.

use std::borrow::Cow;

use super::swar;
use crate::protocol::ProtocolError;

/// The deepest nesting of arrays and objects accepted inside one value.
pub const MAX_DEPTH: usize = 512;

type Result<T> = core::result::Result<T, ProtocolError>;

/// A position in JSON text that is already known to be valid UTF-8.
pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The byte offset of the cursor.
    #[inline(always)]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The text from byte `start` to the cursor (empty if `start` is not a character boundary before it).
    #[inline(always)]
    pub fn since(&self, start: usize) -> &'a str {
        self.text.get(start..self.pos).unwrap_or_default()
    }

    fn syntax<T>(&self) -> Result<T> {
        if self.pos >= self.bytes().len() {
            Err(ProtocolError::Truncated)
        } else {
            Err(ProtocolError::Syntax(self.pos))
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        match self.bytes().get(self.pos) {
            Some(&b) if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') => Some(b),
            _ => self.skip_space(),
        }
    }

    #[inline(never)]
    fn skip_space(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                return Some(b);
            }
        }
        None
    }

    #[inline(always)]
    fn eat(&mut self, expected: u8) -> Result<()> {
        if self.peek() == Some(expected) {
            self.pos += 1;
            Ok(())
        } else {
            self.syntax()
        }
    }

    /// Succeeds when nothing but whitespace is left.
    pub fn finish(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(ProtocolError::Syntax(self.pos)),
        }
    }

    /// Reads an object, calling `field` with each key; `field` must consume the value.
    pub fn object(&mut self, mut field: impl FnMut(&mut Self, Cow<'a, str>) -> Result<()>) -> Result<()> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return self.syntax();
            }
            let key = self.string()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.syntax(),
            }
        }
    }

    /// Reads an array, calling `item` for each element; `item` must consume the element.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.syntax(),
            }
        }
    }

    /// Consumes `null` if it is next.
    pub fn null(&mut self) -> Result<bool> {
        if self.peek() == Some(b'n') {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes().get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.syntax()
        }
    }

    /// Reads `true` or `false`.
    pub fn boolean(&mut self, field: &'static str) -> Result<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|_| true),
            Some(b'f') => self.literal(b"false").map(|_| false),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Reads a non-negative integer that fits in a `u64` (`1`, not `1.0`).
    pub fn unsigned(&mut self, field: &'static str) -> Result<u64> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(ProtocolError::WrongType(field));
        }
        let start = self.pos;
        self.number()?;
        self.text[start..self.pos].parse().map_err(|_| ProtocolError::WrongType(field))
    }

    /// Reads a string, unescaping it only when it holds escapes.
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return self.syntax();
        }
        self.pos += 1;
        let start = self.pos;
        let bytes = self.bytes();
        loop {
            self.pos += plain_run(bytes, self.pos);
            match bytes.get(self.pos) {
                None => return Err(ProtocolError::Truncated),
                Some(b'"') => {
                    let s = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => return self.syntax(),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.text[start..self.pos]);
        loop {
            let run = self.pos;
            self.pos += plain_run(bytes, self.pos);
            out.push_str(&self.text[run..self.pos]);
            match bytes.get(self.pos) {
                None => return Err(ProtocolError::Truncated),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return self.syntax(),
            }
        }
    }

    fn escape(&mut self) -> Result<char> {
        let Some(&b) = self.bytes().get(self.pos) else {
            return Err(ProtocolError::Truncated);
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) && self.bytes().get(self.pos..self.pos + 2) == Some(b"\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex4()?;
                    if (0xDC00..0xE000).contains(&low) {
                        let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
                    }
                    self.pos = save;
                }
                char::from_u32(high).unwrap_or('\u{FFFD}')
            }
            _ => return Err(ProtocolError::Syntax(self.pos - 1)),
        })
    }

    fn hex4(&mut self) -> Result<u32> {
        let digits = self.bytes().get(self.pos..self.pos + 4).ok_or(ProtocolError::Truncated)?;
        let mut value = 0;
        for &d in digits {
            let v = (d as char).to_digit(16).ok_or(ProtocolError::Syntax(self.pos))?;
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }

    /// Reads a number and returns its text.
    pub fn number_text(&mut self) -> Result<&'a str> {
        self.peek();
        let start = self.pos;
        self.number()?;
        Ok(&self.text[start..self.pos])
    }

    /// Reads a `true`/`false`/`null` literal.
    pub fn keyword(&mut self) -> Result<Option<bool>> {
        match self.peek() {
            Some(b'n') => self.literal(b"null").map(|_| None),
            Some(b't') => self.literal(b"true").map(|_| Some(true)),
            Some(b'f') => self.literal(b"false").map(|_| Some(false)),
            _ => self.syntax(),
        }
    }

    fn skip_string(&mut self) -> Result<()> {
        self.pos += 1;
        let bytes = self.bytes();
        loop {
            self.pos += plain_run(bytes, self.pos);
            match bytes.get(self.pos) {
                None => return Err(ProtocolError::Truncated),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape()?;
                }
                Some(&b) if b < 0x20 => return self.syntax(),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn number(&mut self) -> Result<()> {
        let bytes = self.bytes();
        let digits = |pos: &mut usize| {
            let start = *pos;
            while matches!(bytes.get(*pos), Some(b'0'..=b'9')) {
                *pos += 1;
            }
            *pos > start
        };
        let mut pos = self.pos;
        if bytes.get(pos) == Some(&b'-') {
            pos += 1;
        }
        if bytes.get(pos) == Some(&b'0') {
            pos += 1;
        } else if !digits(&mut pos) {
            self.pos = pos;
            return self.syntax();
        }
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            if !digits(&mut pos) {
                self.pos = pos;
                return self.syntax();
            }
        }
        if matches!(bytes.get(pos), Some(b'e' | b'E')) {
            pos += 1;
            if matches!(bytes.get(pos), Some(b'+' | b'-')) {
                pos += 1;
            }
            if !digits(&mut pos) {
                self.pos = pos;
                return self.syntax();
            }
        }
        self.pos = pos;
        Ok(())
    }

    /// Validates and skips one value of any kind, returning its text.
    pub fn value(&mut self) -> Result<&'a str> {
        let scalar = !matches!(self.peek(), Some(b'{' | b'['));
        let start = self.pos;
        if scalar {
            self.scalar()?;
            return Ok(self.since(start));
        }
        // One bit per open container: 1 = object, 0 = array.
        let mut kinds = [0u64; MAX_DEPTH / 64];
        let mut depth = 0usize;
        loop {
            // A value starts here.
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    if depth == MAX_DEPTH {
                        return Err(ProtocolError::TooDeep);
                    }
                    let is_object = open == b'{';
                    let bit = 1u64 << (depth % 64);
                    if is_object {
                        kinds[depth / 64] |= bit;
                    } else {
                        kinds[depth / 64] &= !bit;
                    }
                    depth += 1;
                    self.pos += 1;
                    let close = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        depth -= 1;
                    } else {
                        if is_object {
                            self.key()?;
                        }
                        continue;
                    }
                }
                _ => self.scalar()?,
            }
            // A value ended: close containers or move to the next element.
            loop {
                if depth == 0 {
                    return Ok(&self.text[start..self.pos]);
                }
                let in_object = kinds[(depth - 1) / 64] & (1u64 << ((depth - 1) % 64)) != 0;
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if in_object {
                            self.key()?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => {
                        self.pos += 1;
                        depth -= 1;
                    }
                    Some(b']') if !in_object => {
                        self.pos += 1;
                        depth -= 1;
                    }
                    _ => return self.syntax(),
                }
            }
        }
    }

    /// Skips one array or object checking only its strings and that its brackets balance, up to [`MAX_DEPTH`]
    /// deep, and returns its text: for a value whose reader (the browser's `JSON.parse`, or [`Cursor::value`]
    /// when the Conduit layer reads its fields) checks the rest.
    pub fn container(&mut self) -> Result<&'a str> {
        if !matches!(self.peek(), Some(b'[' | b'{')) {
            return self.syntax();
        }
        let start = self.pos;
        let bytes = self.bytes();
        let mut depth = 0usize;
        loop {
            match bytes.get(self.pos) {
                None => return Err(ProtocolError::Truncated),
                Some(b'"') => {
                    self.skip_string()?;
                    continue;
                }
                Some(b'[' | b'{') => {
                    if depth == MAX_DEPTH {
                        return Err(ProtocolError::TooDeep);
                    }
                    depth += 1;
                }
                Some(b']' | b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return Ok(self.since(start));
                    }
                }
                Some(_) => {}
            }
            self.pos += 1;
        }
    }

    fn scalar(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"') => self.skip_string(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => self.syntax(),
        }
    }

    fn key(&mut self) -> Result<()> {
        if self.peek() != Some(b'"') {
            return self.syntax();
        }
        self.skip_string()?;
        self.eat(b':')
    }
}

/// How many bytes from `from` on are plain string content: not `"`, not a backslash, not a control character. Looks at
/// eight bytes at a time, since strings are most of what a record holds.
fn plain_run(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(w) = swar::word_at(bytes, i) {
        if swar::any_equal(w, b'"') || swar::any_equal(w, b'\\') || swar::any_below(w, 0x20) {
            break;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i - from
}
