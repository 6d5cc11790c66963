//! Why a piece of input could not be decoded. Every decoder returns one of these instead of panicking.

use core::fmt;

/// A decoding failure, with enough detail for a useful error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The input ended inside a value.
    Truncated,
    /// A byte that does not fit the grammar, at this offset.
    Syntax(usize),
    /// Text that is not valid UTF-8.
    InvalidUtf8,
    /// Containers nested deeper than the decoder allows.
    TooDeep,
    /// A declared or actual length above the allowed limit.
    TooLarge(u64),
    /// A required field is absent.
    MissingField(&'static str),
    /// A field holds a value of the wrong type.
    WrongType(&'static str),
    /// A message type this client does not know.
    UnknownMessageType(i64),
    /// A JSON record without its `0x1E` terminator.
    MissingSeparator,
    /// A MessagePack length prefix that is malformed or above `0x7fffffff`.
    InvalidLength,
    /// Both `result` and `error` on one completion.
    ResultAndError,
    /// The server is classic ASP.NET SignalR, which this client does not speak.
    ClassicSignalR,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Truncated => f.write_str("input ended inside a value"),
            ProtocolError::Syntax(at) => write!(f, "unexpected byte at offset {at}"),
            ProtocolError::InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            ProtocolError::TooDeep => f.write_str("values nested too deeply"),
            ProtocolError::TooLarge(n) => write!(f, "length {n} is above the limit"),
            ProtocolError::MissingField(name) => write!(f, "missing field '{name}'"),
            ProtocolError::WrongType(name) => write!(f, "field '{name}' has the wrong type"),
            ProtocolError::UnknownMessageType(t) => write!(f, "unknown message type {t}"),
            ProtocolError::MissingSeparator => f.write_str("record is missing its 0x1E separator"),
            ProtocolError::InvalidLength => f.write_str("invalid MessagePack length prefix"),
            ProtocolError::ResultAndError => f.write_str("completion carries both result and error"),
            ProtocolError::ClassicSignalR => f.write_str(
                "the server speaks classic ASP.NET SignalR, not ASP.NET Core SignalR",
            ),
        }
    }
}

impl std::error::Error for ProtocolError {}
