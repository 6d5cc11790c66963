//! The handshake that opens every connection: always JSON text ending in `0x1E`, whatever the hub protocol.

use crate::protocol::json::{cursor::Cursor, write, RECORD_SEPARATOR};
use crate::protocol::{HubProtocol, ProtocolError};

/// Encodes the handshake request `{"protocol":...,"version":...}` with its separator.
pub fn request(protocol: HubProtocol, version: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(b"{\"protocol\":\"");
    out.extend_from_slice(protocol.name().as_bytes());
    out.extend_from_slice(b"\",\"version\":");
    write::unsigned(&mut out, version as u64);
    out.extend_from_slice(b"}\x1e");
    out
}

/// What the server answered to the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// The server accepted; hub messages follow.
    Accepted,
    /// The server refused with this message.
    Rejected(String),
}

/// Parses the handshake response at the start of `input`.
///
/// Returns `Ok(None)` while the separator has not arrived, else the response and the number of bytes it took
/// (hub messages may follow in the same transport message).
pub fn parse_response(input: &[u8]) -> Result<Option<(Response, usize)>, ProtocolError> {
    let Some(end) = input.iter().position(|&b| b == RECORD_SEPARATOR) else {
        return Ok(None);
    };
    let text = core::str::from_utf8(&input[..end]).map_err(|_| ProtocolError::InvalidUtf8)?;
    let mut c = Cursor::new(text);
    let mut error = None;
    c.object(|c, key| {
        if key == "error" && !c.null()? {
            if c.peek() != Some(b'"') {
                return Err(ProtocolError::WrongType("error"));
            }
            error = Some(c.string()?.into_owned());
        } else {
            c.value()?;
        }
        Ok(())
    })?;
    c.finish()?;
    let response = match error {
        Some(e) => Response::Rejected(e),
        None => Response::Accepted,
    };
    Ok(Some((response, end + 1)))
}
