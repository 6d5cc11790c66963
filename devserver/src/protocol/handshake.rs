//! The handshake: always JSON + 0x1E, for both hub protocols.

use super::json::RS;
use super::Protocol;

/// What the client asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct HandshakeRequest {
    pub protocol: String,
    pub version: u64,
}

/// Takes the handshake request from the front of `buf` (`Ok(None)` until its separator arrived).
/// Bytes after it stay in `buf`: they are the first hub messages.
pub fn take_request(buf: &mut Vec<u8>) -> Result<Option<HandshakeRequest>, String> {
    let Some(pos) = buf.iter().position(|b| *b == RS) else {
        if buf.len() > 64 * 1024 {
            return Err("Handshake request too large.".into());
        }
        return Ok(None);
    };
    let parsed: serde_json::Value =
        serde_json::from_slice(&buf[..pos]).map_err(|e| format!("Error reading handshake: {e}"))?;
    buf.drain(..=pos);
    let protocol = parsed
        .get("protocol")
        .and_then(|p| p.as_str())
        .ok_or("Missing required property 'protocol'.")?
        .to_string();
    let version = parsed
        .get("version")
        .and_then(|p| p.as_u64())
        .ok_or("Missing required property 'version'.")?;
    Ok(Some(HandshakeRequest { protocol, version }))
}

/// Chooses the protocol, or the error text ASP.NET Core would answer with.
pub fn select(req: &HandshakeRequest, binary_transport: bool) -> Result<Protocol, String> {
    let protocol = match req.protocol.as_str() {
        "json" => Protocol::Json,
        "messagepack" => Protocol::MessagePack,
        other => return Err(format!("The protocol '{other}' is not supported.")),
    };
    if req.version == 0 || req.version > 2 {
        return Err(format!(
            "The server does not support version {} of the '{}' protocol.",
            req.version, req.protocol
        ));
    }
    if protocol.is_binary() && !binary_transport {
        return Err(format!(
            "Cannot use the '{}' protocol on the current transport. The transport does not support 'Binary' transfer format.",
            req.protocol
        ));
    }
    Ok(protocol)
}

/// The success answer `{}` + separator.
pub fn success() -> Vec<u8> {
    b"{}\x1e".to_vec()
}

/// An error answer `{"error":"..."}` + separator.
pub fn error(message: &str) -> Vec<u8> {
    let mut out = b"{\"error\":".to_vec();
    super::json::write_str(message, &mut out);
    out.extend_from_slice(b"}\x1e");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_with_trailing_messages() {
        let mut buf = b"{\"protocol\":\"messagepack\",\"version\":1}\x1e\x02\x91\x06".to_vec();
        let req = take_request(&mut buf).unwrap().unwrap();
        assert_eq!(
            req,
            HandshakeRequest {
                protocol: "messagepack".into(),
                version: 1
            }
        );
        assert_eq!(buf, vec![0x02, 0x91, 0x06]);
        assert_eq!(select(&req, true).unwrap(), Protocol::MessagePack);
        assert!(select(&req, false)
            .unwrap_err()
            .contains("'Binary' transfer format"));
    }

    #[test]
    fn incomplete_and_invalid() {
        let mut buf = b"{\"protocol\":\"json\"".to_vec();
        assert_eq!(take_request(&mut buf).unwrap(), None);
        assert!(take_request(&mut b"garbage\x1e".to_vec()).is_err());
        let bad = HandshakeRequest {
            protocol: "xml".into(),
            version: 1,
        };
        assert_eq!(
            select(&bad, true).unwrap_err(),
            "The protocol 'xml' is not supported."
        );
        let v3 = HandshakeRequest {
            protocol: "json".into(),
            version: 3,
        };
        assert!(select(&v3, true).unwrap_err().contains("version 3"));
        assert_eq!(error("x\"y"), b"{\"error\":\"x\\\"y\"}\x1e".to_vec());
    }
}
