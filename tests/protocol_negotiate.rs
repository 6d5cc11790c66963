//! Negotiate answers: v0, v1, redirects, errors, classic SignalR and unknown fields.

use conduit_realtime::protocol::negotiate::{self, AvailableTransport, NegotiateResponse, Negotiation, TransportKind};
use conduit_realtime::protocol::ProtocolError;

fn negotiated(body: &str) -> Negotiation {
    match negotiate::parse(body.as_bytes()).unwrap() {
        NegotiateResponse::Negotiated(n) => n,
        other => panic!("expected a negotiation, got {other:?}"),
    }
}

#[test]
fn v1_answer_with_token_transports_and_stateful_reconnect() {
    let n = negotiated(
        r#"{"connectionId":"abc","connectionToken":"secret-token","negotiateVersion":1,
            "availableTransports":[
              {"transport":"WebSockets","transferFormats":["Text","Binary"]},
              {"transport":"ServerSentEvents","transferFormats":["Text"]},
              {"transport":"WebTransport","transferFormats":["Binary"]},
              {"transport":"LongPolling","transferFormats":["Text","Binary"],"future":1}],
            "useStatefulReconnect":true,"extra":{"ignored":[1,2]}}"#,
    );
    assert_eq!(n.connection_id.as_deref(), Some("abc"));
    assert_eq!(n.id_param(), Some("secret-token"));
    assert_eq!(n.negotiate_version, 1);
    assert!(n.use_stateful_reconnect);
    assert_eq!(
        n.available_transports,
        vec![
            AvailableTransport { transport: Some(TransportKind::WebSockets), text: true, binary: true },
            AvailableTransport { transport: Some(TransportKind::ServerSentEvents), text: true, binary: false },
            AvailableTransport { transport: None, text: false, binary: true },
            AvailableTransport { transport: Some(TransportKind::LongPolling), text: true, binary: true },
        ]
    );
}

#[test]
fn v0_answer_uses_the_connection_id() {
    let n = negotiated(r#"{"connectionId":"v0-id","availableTransports":[]}"#);
    assert_eq!(n.connection_token, None);
    assert_eq!(n.id_param(), Some("v0-id"));
    assert_eq!(n.negotiate_version, 0);
    assert!(!n.use_stateful_reconnect);
}

#[test]
fn redirect_error_and_classic_answers() {
    assert_eq!(
        negotiate::parse(br#"{"url":"https://service.example/client/?hub=chat","accessToken":"jwt"}"#).unwrap(),
        NegotiateResponse::Redirect { url: "https://service.example/client/?hub=chat".into(), access_token: Some("jwt".into()) }
    );
    assert_eq!(
        negotiate::parse(br#"{"error":"Negotiate failed: not allowed"}"#).unwrap(),
        NegotiateResponse::Error("Negotiate failed: not allowed".into())
    );
    assert_eq!(
        negotiate::parse(br#"{"Url":"/signalr","ConnectionToken":"x","ConnectionId":"y","ProtocolVersion":"1.5"}"#),
        Err(ProtocolError::ClassicSignalR)
    );
}

#[test]
fn bad_answers_are_errors() {
    assert_eq!(negotiate::parse(b"<html>502 Bad Gateway</html>"), Err(ProtocolError::Syntax(0)));
    assert_eq!(negotiate::parse(b""), Err(ProtocolError::Truncated));
    assert_eq!(negotiate::parse(br#"{"availableTransports":[]}"#), Err(ProtocolError::MissingField("connectionId")));
    assert_eq!(negotiate::parse(br#"{"connectionId":"a"}"#), Err(ProtocolError::MissingField("availableTransports")));
    assert_eq!(negotiate::parse(br#"{"connectionId":1,"availableTransports":[]}"#), Err(ProtocolError::WrongType("connectionId")));
    assert_eq!(
        negotiate::parse(br#"{"connectionId":"a","availableTransports":{}}"#),
        Err(ProtocolError::Syntax(42))
    );
    assert_eq!(negotiate::parse(b"{\"connectionId\":\"\xff\"}"), Err(ProtocolError::InvalidUtf8));
}
