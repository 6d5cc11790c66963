//! The answer to `POST {hub}/negotiate`: which transports to try and with which connection token, a redirect
//! to another server (Azure SignalR Service), or an error.

use crate::protocol::json::cursor::Cursor;
use crate::protocol::ProtocolError;

/// A transport a server may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// WebSockets: full duplex, text and binary.
    WebSockets,
    /// Server-Sent Events for receiving plus POST for sending: text only.
    ServerSentEvents,
    /// Long polling GETs plus POST for sending.
    LongPolling,
}

impl TransportKind {
    /// The name used in negotiate answers.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::WebSockets => "WebSockets",
            TransportKind::ServerSentEvents => "ServerSentEvents",
            TransportKind::LongPolling => "LongPolling",
        }
    }

    /// Parses a name used in negotiate answers.
    pub fn from_name(name: &str) -> Option<Self> {
        [TransportKind::WebSockets, TransportKind::ServerSentEvents, TransportKind::LongPolling]
            .into_iter()
            .find(|t| t.name() == name)
    }
}

/// One entry of `availableTransports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailableTransport {
    /// The transport, or `None` for one this client does not know.
    pub transport: Option<TransportKind>,
    /// Whether the server accepts text on it.
    pub text: bool,
    /// Whether the server accepts binary on it.
    pub binary: bool,
}

/// A successful negotiation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Negotiation {
    /// The public connection id.
    pub connection_id: Option<String>,
    /// The secret token that goes in `id=` (v1); absent in v0 answers.
    pub connection_token: Option<String>,
    /// The negotiate protocol version the server answered with.
    pub negotiate_version: u32,
    /// The transports in the server's order of preference.
    pub available_transports: Vec<AvailableTransport>,
    /// Whether the server agreed to stateful reconnect.
    pub use_stateful_reconnect: bool,
}

impl Negotiation {
    /// The value of the `id` query parameter: the token in v1, the connection id in v0.
    pub fn id_param(&self) -> Option<&str> {
        self.connection_token.as_deref().or(self.connection_id.as_deref())
    }
}

/// Any answer to negotiate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiateResponse {
    /// Connect with one of these transports.
    Negotiated(Negotiation),
    /// Negotiate again at `url`, using `access_token` as the bearer token.
    Redirect {
        /// Where to negotiate next.
        url: String,
        /// The token to use from now on.
        access_token: Option<String>,
    },
    /// The server refused with this message.
    Error(String),
}

/// Parses a negotiate answer body. Unknown fields are ignored.
pub fn parse(body: &[u8]) -> Result<NegotiateResponse, ProtocolError> {
    let text = core::str::from_utf8(body).map_err(|_| ProtocolError::InvalidUtf8)?;
    let mut c = Cursor::new(text);
    let mut n = Negotiation::default();
    let (mut url, mut access_token, mut error, mut classic) = (None, None, None, false);
    let mut has_transports = false;
    c.object(|c, key| {
        match key.as_ref() {
            "connectionId" => n.connection_id = optional_string(c, "connectionId")?,
            "connectionToken" => n.connection_token = optional_string(c, "connectionToken")?,
            "negotiateVersion" => n.negotiate_version = u32::try_from(c.unsigned("negotiateVersion")?).unwrap_or(0),
            "useStatefulReconnect" => n.use_stateful_reconnect = !c.null()? && c.boolean("useStatefulReconnect")?,
            "url" => url = optional_string(c, "url")?,
            "accessToken" => access_token = optional_string(c, "accessToken")?,
            "error" => error = optional_string(c, "error")?,
            "ProtocolVersion" => {
                classic = true;
                c.value()?;
            }
            "availableTransports" => {
                has_transports = true;
                if !c.null()? {
                    c.array(|c| {
                        n.available_transports.push(transport(c)?);
                        Ok(())
                    })?;
                }
            }
            _ => {
                c.value()?;
            }
        }
        Ok(())
    })?;
    c.finish()?;
    if classic {
        return Err(ProtocolError::ClassicSignalR);
    }
    if let Some(error) = error {
        return Ok(NegotiateResponse::Error(error));
    }
    if let Some(url) = url {
        return Ok(NegotiateResponse::Redirect { url, access_token });
    }
    if n.id_param().is_none() {
        return Err(ProtocolError::MissingField("connectionId"));
    }
    if !has_transports {
        return Err(ProtocolError::MissingField("availableTransports"));
    }
    Ok(NegotiateResponse::Negotiated(n))
}

fn optional_string(c: &mut Cursor<'_>, field: &'static str) -> Result<Option<String>, ProtocolError> {
    if c.null()? {
        return Ok(None);
    }
    if c.peek() != Some(b'"') {
        return Err(ProtocolError::WrongType(field));
    }
    Ok(Some(c.string()?.into_owned()))
}

fn transport(c: &mut Cursor<'_>) -> Result<AvailableTransport, ProtocolError> {
    let mut t = AvailableTransport { transport: None, text: false, binary: false };
    c.object(|c, key| {
        match key.as_ref() {
            "transport" => t.transport = optional_string(c, "transport")?.and_then(|n| TransportKind::from_name(&n)),
            "transferFormats" => c.array(|c| {
                match optional_string(c, "transferFormats")?.as_deref() {
                    Some("Text") => t.text = true,
                    Some("Binary") => t.binary = true,
                    _ => {}
                }
                Ok(())
            })?,
            _ => {
                c.value()?;
            }
        }
        Ok(())
    })?;
    Ok(t)
}
