//! JSON hub protocol: round trips, framing, handshake and malformed records.

use std::borrow::Cow;

use conduit_realtime::protocol::{
    handshake, json, Close, Completion, HubMessage, HubProtocol, Invocation, Outcome, ProtocolError, Raw, StreamItem,
};

fn encode(message: &HubMessage<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    json::encode(message, &mut out);
    out
}

fn decode_one(bytes: &[u8]) -> HubMessage<'_> {
    let record = bytes.strip_suffix(&[0x1e]).expect("separator");
    json::decode(record).expect("valid record")
}

fn invocation<'a>(id: Option<&'a str>, target: &'a str, args: &'a str) -> Invocation<'a> {
    Invocation {
        headers: vec![],
        invocation_id: id.map(Cow::Borrowed),
        target: Cow::Borrowed(target),
        arguments: Raw(args.as_bytes()),
        stream_ids: vec![],
    }
}

#[test]
fn invocation_encodes_like_the_official_client() {
    let bytes = encode(&HubMessage::Invocation(invocation(Some("1"), "Send", "[42,\"Test Message\"]")));
    assert_eq!(
        bytes,
        b"{\"type\":1,\"invocationId\":\"1\",\"target\":\"Send\",\"arguments\":[42,\"Test Message\"]}\x1e".to_vec()
    );
    let non_blocking = encode(&HubMessage::Invocation(invocation(None, "Send", "[]")));
    assert_eq!(non_blocking, b"{\"type\":1,\"target\":\"Send\",\"arguments\":[]}\x1e".to_vec());
}

#[test]
fn every_message_type_round_trips() {
    let headers = vec![(Cow::Borrowed("Foo"), Cow::Borrowed("Bar \"quoted\""))];
    let mut with_streams = invocation(Some("7"), "Upload", "[1,{\"a\":[true,null]}]");
    with_streams.stream_ids = vec![Cow::Borrowed("s1"), Cow::Borrowed("s2")];
    with_streams.headers = headers.clone();
    let messages = vec![
        HubMessage::Invocation(with_streams.clone()),
        HubMessage::Invocation(invocation(None, "Notify", "[\"x\"]")),
        HubMessage::StreamItem(StreamItem { headers: headers.clone(), invocation_id: "3".into(), item: Raw(b"{\"n\":1}") }),
        HubMessage::Completion(Completion { headers: vec![], invocation_id: "4".into(), outcome: Outcome::Void }),
        HubMessage::Completion(Completion {
            headers: vec![],
            invocation_id: "5".into(),
            outcome: Outcome::Result(Raw(b"[1,2,3]")),
        }),
        HubMessage::Completion(Completion {
            headers: vec![],
            invocation_id: "6".into(),
            outcome: Outcome::Error("boom \u{1F4A5}\n".into()),
        }),
        HubMessage::StreamInvocation(with_streams),
        HubMessage::CancelInvocation(conduit_realtime::protocol::CancelInvocation {
            headers: vec![],
            invocation_id: "8".into(),
        }),
        HubMessage::Ping,
        HubMessage::Close(Close { error: Some("bye".into()), allow_reconnect: true }),
        HubMessage::Close(Close { error: None, allow_reconnect: false }),
        HubMessage::Ack(1394),
        HubMessage::Sequence(u64::MAX),
    ];
    for message in &messages {
        let bytes = encode(message);
        assert_eq!(&decode_one(&bytes), message, "{}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn decodes_spec_examples_with_whitespace_headers_and_unknown_fields() {
    let record = br#"{
        "type": 1,
        "headers": { "Foo": "Bar" },
        "invocationId": "123",
        "target": "Send",
        "arguments": [ 42, "Test Message" ],
        "futureField": {"nested": [1, 2, {"x": null}]}
    }"#;
    let HubMessage::Invocation(m) = json::decode(record).unwrap() else { panic!("not an invocation") };
    assert_eq!(m.headers, vec![(Cow::Borrowed("Foo"), Cow::Borrowed("Bar"))]);
    assert_eq!(m.invocation_id.as_deref(), Some("123"));
    assert_eq!(m.target, "Send");
    assert_eq!(m.arguments.json_text(), "[ 42, \"Test Message\" ]");

    let HubMessage::Completion(c) = json::decode(br#"{"invocationId":"9","result":null,"type":3}"#).unwrap() else {
        panic!()
    };
    assert_eq!(c.outcome, Outcome::Result(Raw(b"null")));
    assert_eq!(json::decode(br#"{"type":6}"#).unwrap(), HubMessage::Ping);
    assert_eq!(
        json::decode(br#"{"type":7,"error":"Server is shutting down","allowReconnect":true}"#).unwrap(),
        HubMessage::Close(Close { error: Some("Server is shutting down".into()), allow_reconnect: true })
    );
}

#[test]
fn unescapes_strings_including_surrogate_pairs() {
    let HubMessage::Invocation(m) =
        json::decode(br#"{"type":1,"target":"T\u00e9st\ud83d\ude00\n\"\\\/","arguments":[]}"#).unwrap()
    else {
        panic!()
    };
    assert_eq!(m.target, "T\u{e9}st\u{1F600}\n\"\\/");
    let HubMessage::Invocation(m) = json::decode(br#"{"type":1,"target":"lone\udc00","arguments":[]}"#).unwrap() else {
        panic!()
    };
    assert_eq!(m.target, "lone\u{FFFD}");
}

#[test]
fn several_records_in_one_transport_message() {
    let mut frame = Vec::new();
    for i in 0..3u64 {
        json::encode(&HubMessage::Ack(i), &mut frame);
    }
    let decoded: Vec<_> = json::records(&frame).map(|r| json::decode(r.unwrap()).unwrap()).collect();
    assert_eq!(decoded, vec![HubMessage::Ack(0), HubMessage::Ack(1), HubMessage::Ack(2)]);
}

#[test]
fn a_bad_record_does_not_hide_the_records_around_it() {
    let frame = b"{\"type\":6}\x1e{\"type\":1,\x1e{\"type\":8,\"sequenceId\":3}\x1e{\"type\":6}";
    let results: Vec<_> = json::records(frame).map(|r| r.and_then(json::decode)).collect();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0], Ok(HubMessage::Ping));
    assert!(results[1].is_err());
    assert_eq!(results[2], Ok(HubMessage::Ack(3)));
    assert_eq!(results[3], Err(ProtocolError::MissingSeparator));
}

#[test]
fn malformed_records_give_typed_errors() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"", ProtocolError::Truncated),
        (b"{\"type\":1", ProtocolError::Truncated),
        (b"[1,2]", ProtocolError::Syntax(0)),
        (b"{\"type\":\"1\"}", ProtocolError::WrongType("type")),
        (b"{\"type\":-1}", ProtocolError::WrongType("type")),
        (b"{\"type\":1.5}", ProtocolError::WrongType("type")),
        (b"{\"type\":42}", ProtocolError::UnknownMessageType(42)),
        (b"{}", ProtocolError::MissingField("type")),
        (b"{\"type\":1,\"arguments\":[]}", ProtocolError::MissingField("target")),
        (b"{\"type\":1,\"target\":7,\"arguments\":[]}", ProtocolError::WrongType("target")),
        (b"{\"type\":1,\"target\":\"x\",\"arguments\":{}}", ProtocolError::WrongType("arguments")),
        (b"{\"type\":1,\"target\":\"x\"}", ProtocolError::MissingField("arguments")),
        (b"{\"type\":4,\"target\":\"x\",\"arguments\":[]}", ProtocolError::MissingField("invocationId")),
        (b"{\"type\":3,\"invocationId\":\"1\",\"result\":1,\"error\":\"e\"}", ProtocolError::ResultAndError),
        (b"{\"type\":2,\"invocationId\":\"1\"}", ProtocolError::MissingField("item")),
        (b"{\"type\":8}", ProtocolError::MissingField("sequenceId")),
        (b"{\"type\":8,\"sequenceId\":99999999999999999999999}", ProtocolError::WrongType("sequenceId")),
        (b"{\"type\":6} x", ProtocolError::Syntax(11)),
        (b"{\"type\":6,}", ProtocolError::Syntax(10)),
        (b"{\"type\":1,\"target\":\"a\x01\",\"arguments\":[]}", ProtocolError::Syntax(21)),
        (b"{\"type\":6,\"x\":[1,]}", ProtocolError::Syntax(17)),
        (b"{\"type\":6,\"x\":01}", ProtocolError::Syntax(15)),
        (b"{\"type\":6,\"x\":tru}", ProtocolError::Syntax(14)),
        (b"{\"type\":6,\"x\":\"\\q\"}", ProtocolError::Syntax(16)),
        (b"{\"type\":6,\"x\":\"\\u12G4\"}", ProtocolError::Syntax(17)),
        (b"{\"type\":\xff}", ProtocolError::InvalidUtf8),
    ];
    for (input, expected) in cases {
        assert_eq!(&json::decode(input).unwrap_err(), expected, "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn arguments_are_checked_for_strings_and_brackets_only() {
    // Their reader (the browser's JSON.parse, or the Conduit layer's field reader) checks the rest.
    let record = br#"{"type":1,"target":"x","arguments":[1,,{"a" 2}, "]"],"invocationId":"7"}"#;
    let HubMessage::Invocation(m) = json::decode(record).unwrap() else { panic!("an invocation") };
    assert_eq!(m.arguments.json_text(), r#"[1,,{"a" 2}, "]"]"#);
    assert_eq!(m.invocation_id.as_deref(), Some("7"), "the fields after the arguments are read");
    let broken: [&[u8]; 4] = [
        br#"{"type":1,"target":"x","arguments":[1,"abc]}"#,
        b"{\"type\":1,\"target\":\"x\",\"arguments\":[\"a\x01\"]}",
        br#"{"type":1,"target":"x","arguments":["\q"]}"#,
        br#"{"type":1,"target":"x","arguments":[[1]"#,
    ];
    for input in broken {
        let error = json::decode(input).unwrap_err();
        assert!(matches!(error, ProtocolError::Truncated | ProtocolError::Syntax(_)), "{error:?} for {}", String::from_utf8_lossy(input));
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let mut record = b"{\"type\":1,\"target\":\"x\",\"arguments\":".to_vec();
    record.extend(std::iter::repeat_n(b'[', depth));
    record.extend(std::iter::repeat_n(b']', depth));
    record.push(b'}');
    assert_eq!(json::decode(&record).unwrap_err(), ProtocolError::TooDeep);

    let ok_depth = 500;
    let mut record = b"{\"type\":1,\"target\":\"x\",\"arguments\":".to_vec();
    record.extend(std::iter::repeat_n(b'[', ok_depth));
    record.extend(std::iter::repeat_n(b']', ok_depth));
    record.push(b'}');
    assert!(json::decode(&record).is_ok());
}

#[test]
fn handshake_request_and_responses() {
    assert_eq!(handshake::request(HubProtocol::Json, 1), b"{\"protocol\":\"json\",\"version\":1}\x1e".to_vec());
    assert_eq!(
        handshake::request(HubProtocol::MessagePack, 2),
        b"{\"protocol\":\"messagepack\",\"version\":2}\x1e".to_vec()
    );
    assert_eq!(handshake::parse_response(b"{}"), Ok(None));
    assert_eq!(handshake::parse_response(b"{}\x1e"), Ok(Some((handshake::Response::Accepted, 3))));
    let with_messages = b"{\"minorVersion\":1}\x1e{\"type\":6}\x1e";
    let (response, used) = handshake::parse_response(with_messages).unwrap().unwrap();
    assert_eq!(response, handshake::Response::Accepted);
    assert_eq!(json::decode(&with_messages[used..with_messages.len() - 1]).unwrap(), HubMessage::Ping);
    assert_eq!(
        handshake::parse_response(b"{\"error\":\"Requested protocol 'x' is not available.\"}\x1e"),
        Ok(Some((handshake::Response::Rejected("Requested protocol 'x' is not available.".into()), 53)))
    );
    assert!(handshake::parse_response(b"nope\x1e").is_err());
    assert!(handshake::parse_response(b"{\"error\":5}\x1e").is_err());
}

#[test]
fn strings_are_scanned_right_at_every_offset() {
    // The scanner looks at eight bytes at a time: put escapes, quotes and control characters at every position.
    for before in 0..20 {
        for after in 0..12 {
            let (a, b) = ("a".repeat(before), "é".repeat(after));
            let record = format!("{{\"type\":1,\"target\":\"{a}\\\"\\n{b}\",\"arguments\":[\"{a}{b}\"]}}\x1e");
            let body = json::records(record.as_bytes()).next().unwrap().unwrap();
            let HubMessage::Invocation(m) = json::decode(body).unwrap() else { panic!("not an invocation") };
            assert_eq!(m.target, format!("{a}\"\n{b}"));
            assert_eq!(m.arguments.json_text(), format!("[\"{a}{b}\"]"));
            let bad = format!("{{\"type\":1,\"target\":\"{a}\u{1}{b}\",\"arguments\":[]}}\x1e");
            let body = json::records(bad.as_bytes()).next().unwrap().unwrap();
            assert!(json::decode(body).is_err(), "a raw control character after {before} bytes is refused");
        }
    }
}
