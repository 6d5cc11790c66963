//! A bounds-checked MessagePack reader: every read returns an error instead of running past the input.

use std::borrow::Cow;

use crate::protocol::ProtocolError;

type Result<T> = core::result::Result<T, ProtocolError>;

/// A position in MessagePack bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The kind of the next value, with its length for containers, strings and binaries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Token {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// A non-negative integer.
    Uint(u64),
    /// A negative integer.
    Int(i64),
    /// A 32-bit float, widened.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// A string of this many bytes follows.
    Str(usize),
    /// A binary of this many bytes follows.
    Bin(usize),
    /// An array of this many values follows.
    Array(usize),
    /// A map of this many key-value pairs follows.
    Map(usize),
    /// An extension of this type and this many data bytes follows.
    Ext(i8, usize),
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(ProtocolError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(ProtocolError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn be(&mut self, n: usize) -> Result<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    fn len(&mut self, n: usize) -> Result<usize> {
        let len = self.be(n)?;
        // Every element takes at least one byte, so no honest length exceeds the input.
        if len > self.bytes.len() as u64 {
            return Err(ProtocolError::TooLarge(len));
        }
        Ok(len as usize)
    }

    /// Reads the header of the next value.
    pub fn token(&mut self) -> Result<Token> {
        let marker = self.take(1)?[0];
        Ok(match marker {
            0x00..=0x7f => Token::Uint(marker as u64),
            0x80..=0x8f => Token::Map((marker & 0x0f) as usize),
            0x90..=0x9f => Token::Array((marker & 0x0f) as usize),
            0xa0..=0xbf => Token::Str((marker & 0x1f) as usize),
            0xc0 => Token::Nil,
            0xc2 => Token::Bool(false),
            0xc3 => Token::Bool(true),
            0xc4 => Token::Bin(self.len(1)?),
            0xc5 => Token::Bin(self.len(2)?),
            0xc6 => Token::Bin(self.len(4)?),
            0xc7 => {
                let n = self.len(1)?;
                Token::Ext(self.take(1)?[0] as i8, n)
            }
            0xc8 => {
                let n = self.len(2)?;
                Token::Ext(self.take(1)?[0] as i8, n)
            }
            0xc9 => {
                let n = self.len(4)?;
                Token::Ext(self.take(1)?[0] as i8, n)
            }
            0xca => Token::F32(f32::from_bits(self.be(4)? as u32)),
            0xcb => Token::F64(f64::from_bits(self.be(8)?)),
            0xcc => Token::Uint(self.be(1)?),
            0xcd => Token::Uint(self.be(2)?),
            0xce => Token::Uint(self.be(4)?),
            0xcf => Token::Uint(self.be(8)?),
            0xd0 => Token::Int(self.be(1)? as u8 as i8 as i64),
            0xd1 => Token::Int(self.be(2)? as u16 as i16 as i64),
            0xd2 => Token::Int(self.be(4)? as u32 as i32 as i64),
            0xd3 => Token::Int(self.be(8)? as i64),
            0xd4..=0xd8 => {
                let n = 1usize << (marker - 0xd4);
                Token::Ext(self.take(1)?[0] as i8, n)
            }
            0xd9 => Token::Str(self.len(1)?),
            0xda => Token::Str(self.len(2)?),
            0xdb => Token::Str(self.len(4)?),
            0xdc => Token::Array(self.len(2)?),
            0xdd => Token::Array(self.len(4)?),
            0xde => Token::Map(self.len(2)?),
            0xdf => Token::Map(self.len(4)?),
            0xe0..=0xff => Token::Int(marker as i8 as i64),
            _ => return Err(ProtocolError::Syntax(self.pos - 1)),
        })
    }

    /// Reads the payload bytes of a string token as UTF-8.
    pub fn str_body(&mut self, len: usize) -> Result<&'a str> {
        core::str::from_utf8(self.take(len)?).map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// Reads an integer (signed or unsigned) that fits in an `i64`.
    pub fn integer(&mut self, field: &'static str) -> Result<i64> {
        match self.token()? {
            Token::Uint(n) if n <= i64::MAX as u64 => Ok(n as i64),
            Token::Int(n) => Ok(n),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Reads a non-negative integer.
    pub fn unsigned(&mut self, field: &'static str) -> Result<u64> {
        match self.token()? {
            Token::Uint(n) => Ok(n),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Reads an array header.
    pub fn array(&mut self, field: &'static str) -> Result<usize> {
        match self.token()? {
            Token::Array(n) => Ok(n),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Reads a string.
    pub fn string(&mut self, field: &'static str) -> Result<Cow<'a, str>> {
        match self.token()? {
            Token::Str(n) => Ok(Cow::Borrowed(self.str_body(n)?)),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Reads a string or `nil`.
    pub fn optional_string(&mut self, field: &'static str) -> Result<Option<Cow<'a, str>>> {
        match self.token()? {
            Token::Nil => Ok(None),
            Token::Str(n) => Ok(Some(Cow::Borrowed(self.str_body(n)?))),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Reads a boolean.
    pub fn boolean(&mut self, field: &'static str) -> Result<bool> {
        match self.token()? {
            Token::Bool(b) => Ok(b),
            _ => Err(ProtocolError::WrongType(field)),
        }
    }

    /// Skips one complete value (with everything nested in it) and returns its bytes.
    pub fn value(&mut self) -> Result<&'a [u8]> {
        let start = self.pos;
        let mut pending: u64 = 1;
        while pending > 0 {
            pending -= 1;
            match self.token()? {
                Token::Str(n) | Token::Bin(n) | Token::Ext(_, n) => {
                    self.take(n)?;
                }
                Token::Array(n) => pending += n as u64,
                Token::Map(n) => pending += 2 * n as u64,
                _ => {}
            }
            if pending > (self.bytes.len() - self.pos) as u64 {
                return Err(ProtocolError::Truncated);
            }
        }
        Ok(&self.bytes[start..self.pos])
    }
}
