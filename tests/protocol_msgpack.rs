//! MessagePack hub protocol: byte-exact vectors from the SignalR spec, VarInt framing, malformed input.

use std::borrow::Cow;

use conduit_realtime::protocol::msgpack::{self, varint};
use conduit_realtime::protocol::{
    CancelInvocation, Close, Completion, HubMessage, Invocation, Outcome, ProtocolError, Raw, StreamItem,
};

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint::write(&mut out, body.len() as u32);
    out.extend_from_slice(body);
    out
}

fn encode(message: &HubMessage<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    msgpack::encode(message, &mut out);
    out
}

fn invocation<'a>(kind: u8, id: Option<&'a str>, headers: Vec<(Cow<'a, str>, Cow<'a, str>)>) -> HubMessage<'a> {
    let m = Invocation {
        headers,
        invocation_id: id.map(Cow::Borrowed),
        target: "method".into(),
        arguments: Raw(&[0x91, 0x2a]),
        stream_ids: vec![],
    };
    if kind == 1 {
        HubMessage::Invocation(m)
    } else {
        HubMessage::StreamInvocation(m)
    }
}

/// Every example payload of the spec's MessagePack section, with the message it stands for.
fn spec_vectors() -> Vec<(Vec<u8>, HubMessage<'static>)> {
    let xyz = || Cow::Borrowed("xyz");
    vec![
        (
            vec![0x96, 0x01, 0x80, 0xa3, b'x', b'y', b'z', 0xa6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2a, 0x90],
            invocation(1, Some("xyz"), vec![]),
        ),
        (
            vec![0x96, 0x01, 0x80, 0xc0, 0xa6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2a, 0x90],
            invocation(1, None, vec![]),
        ),
        (
            vec![0x96, 0x04, 0x80, 0xa3, b'x', b'y', b'z', 0xa6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2a, 0x90],
            invocation(4, Some("xyz"), vec![]),
        ),
        (
            vec![0x94, 0x02, 0x80, 0xa3, b'x', b'y', b'z', 0x2a],
            HubMessage::StreamItem(StreamItem { headers: vec![], invocation_id: xyz(), item: Raw(&[0x2a]) }),
        ),
        (
            vec![0x95, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x01, 0xa5, b'E', b'r', b'r', b'o', b'r'],
            HubMessage::Completion(Completion { headers: vec![], invocation_id: xyz(), outcome: Outcome::Error("Error".into()) }),
        ),
        (
            vec![0x94, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x02],
            HubMessage::Completion(Completion { headers: vec![], invocation_id: xyz(), outcome: Outcome::Void }),
        ),
        (
            vec![0x95, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x03, 0x2a],
            HubMessage::Completion(Completion { headers: vec![], invocation_id: xyz(), outcome: Outcome::Result(Raw(&[0x2a])) }),
        ),
        (
            vec![0x93, 0x05, 0x80, 0xa3, b'x', b'y', b'z'],
            HubMessage::CancelInvocation(CancelInvocation { headers: vec![], invocation_id: xyz() }),
        ),
        (vec![0x91, 0x06], HubMessage::Ping),
        (vec![0x92, 0x07, 0xa3, b'x', b'y', b'z'], HubMessage::Close(Close { error: Some(xyz()), allow_reconnect: false })),
        (
            vec![0x93, 0x07, 0xa3, b'x', b'y', b'z', 0xc3],
            HubMessage::Close(Close { error: Some(xyz()), allow_reconnect: true }),
        ),
        (vec![0x92, 0x08, 0x24], HubMessage::Ack(36)),
        (vec![0x92, 0x09, 0x13], HubMessage::Sequence(19)),
        (
            vec![
                0x96, 0x01, 0x82, 0xa1, b'x', 0xa1, b'y', 0xa1, b'z', 0xa1, b'z', 0xa3, b'x', b'y', b'z', 0xa6, b'm', b'e',
                b't', b'h', b'o', b'd', 0x91, 0x2a, 0x90,
            ],
            invocation(1, Some("xyz"), vec![("x".into(), "y".into()), ("z".into(), "z".into())]),
        ),
    ]
}

#[test]
fn spec_vectors_decode_and_encode_byte_exact() {
    for (body, message) in spec_vectors() {
        assert_eq!(msgpack::decode(&body).unwrap(), message, "decoding {body:02x?}");
        assert_eq!(encode(&message), framed(&body), "encoding {message:?}");
    }
}

#[test]
fn spec_ack_and_sequence_accept_any_unsigned_width() {
    assert_eq!(msgpack::decode(&[0x92, 0x08, 0xcc, 0x24]).unwrap(), HubMessage::Ack(36));
    assert_eq!(msgpack::decode(&[0x92, 0x09, 0xcc, 0x13]).unwrap(), HubMessage::Sequence(19));
    assert_eq!(
        msgpack::decode(&[0x92, 0x08, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0]).unwrap(),
        HubMessage::Ack(1 << 32)
    );
}

#[test]
fn varint_examples_and_limits() {
    let cases: &[(u32, &[u8])] = &[
        (0, &[0x00]),
        (0x35, &[0x35]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (5248, &[0x80, 0x29]),
        (16_383, &[0xff, 0x7f]),
        (16_384, &[0x80, 0x80, 0x01]),
        (0x7fff_ffff, &[0xff, 0xff, 0xff, 0xff, 0x07]),
    ];
    for &(n, bytes) in cases {
        let mut out = Vec::new();
        varint::write(&mut out, n);
        assert_eq!(out, bytes, "writing {n}");
        assert_eq!(varint::read(bytes), Ok(Some((n, bytes.len()))), "reading {n}");
    }
    assert_eq!(varint::read(&[0xff, 0xff, 0xff, 0xff, 0x08]), Err(ProtocolError::InvalidLength));
    assert_eq!(varint::read(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), Err(ProtocolError::InvalidLength));
    assert_eq!(varint::read(&[0x80, 0x80]), Ok(None));
    assert_eq!(varint::read(&[]), Ok(None));
}

#[test]
fn several_records_per_transport_message_and_bad_framing() {
    let mut frame = Vec::new();
    for (body, _) in spec_vectors() {
        frame.extend(framed(&body));
    }
    let decoded: Vec<_> = msgpack::records(&frame).map(|r| msgpack::decode(r.unwrap()).unwrap()).collect();
    assert_eq!(decoded, spec_vectors().into_iter().map(|(_, m)| m).collect::<Vec<_>>());

    let mut big = Vec::new();
    let body = vec![0x91, 0x06];
    varint::write(&mut big, 300);
    big.extend(std::iter::repeat_n(0xc0, 300));
    big.extend(framed(&body));
    let results: Vec<_> = msgpack::records(&big).collect();
    assert_eq!(results.len(), 2, "a long record is skipped as a whole");
    assert_eq!(msgpack::decode(results[1].clone().unwrap()), Ok(HubMessage::Ping));

    let truncated = [0x05, 0x91, 0x06];
    assert_eq!(msgpack::records(&truncated).collect::<Vec<_>>(), vec![Err(ProtocolError::Truncated)]);
    let absurd = [0xff, 0xff, 0xff, 0xff, 0x07, 0x91];
    assert_eq!(msgpack::records(&absurd).collect::<Vec<_>>(), vec![Err(ProtocolError::Truncated)]);
}

#[test]
fn round_trips_with_headers_stream_ids_and_nested_payloads() {
    let payload: &[u8] = &[0x92, 0x81, 0xa1, b'a', 0x93, 0xc3, 0xc0, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa0];
    let m = HubMessage::Invocation(Invocation {
        headers: vec![("k".into(), "v".into())],
        invocation_id: Some("12".into()),
        target: "T".repeat(40).into(),
        arguments: Raw(payload),
        stream_ids: vec!["a".into(), "b".into()],
    });
    let bytes = encode(&m);
    let body = msgpack::records(&bytes).next().unwrap().unwrap();
    assert_eq!(msgpack::decode(body).unwrap(), m);
}

#[test]
fn older_five_element_invocations_and_extra_fields_are_accepted() {
    let five = [0x95, 0x01, 0x80, 0xc0, 0xa1, b'T', 0x90];
    let HubMessage::Invocation(m) = msgpack::decode(&five).unwrap() else { panic!() };
    assert_eq!((m.target.as_ref(), m.arguments), ("T", Raw(&[0x90])));
    let extra = [0x93, 0x06, 0xa1, b'x', 0x90];
    assert_eq!(msgpack::decode(&extra), Ok(HubMessage::Ping));
}

#[test]
fn malformed_bodies_give_typed_errors() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (&[], ProtocolError::Truncated),
        (&[0x90], ProtocolError::MissingField("type")),
        (&[0x06], ProtocolError::WrongType("message")),
        (&[0x91, 0xa1, b'x'], ProtocolError::WrongType("type")),
        (&[0x91, 0x2a], ProtocolError::UnknownMessageType(42)),
        (&[0x91, 0xff], ProtocolError::UnknownMessageType(-1)),
        (&[0x92, 0x01, 0x80], ProtocolError::MissingField("message fields")),
        (&[0x96, 0x01, 0x01, 0xc0, 0xa1, b'T', 0x90, 0x90], ProtocolError::WrongType("headers")),
        (&[0x96, 0x01, 0x81, 0x01, 0xa1, b'v', 0xc0, 0xa1, b'T', 0x90, 0x90], ProtocolError::WrongType("headers")),
        (&[0x96, 0x01, 0x80, 0x05, 0xa1, b'T', 0x90, 0x90], ProtocolError::WrongType("invocationId")),
        (&[0x96, 0x01, 0x80, 0xc0, 0xa1, b'T', 0x2a, 0x90], ProtocolError::WrongType("arguments")),
        (&[0x96, 0x01, 0x80, 0xc0, 0xa1, 0xff, 0x90, 0x90], ProtocolError::InvalidUtf8),
        (&[0x96, 0x04, 0x80, 0xc0, 0xa1, b'T', 0x90, 0x90], ProtocolError::MissingField("invocationId")),
        (&[0x95, 0x03, 0x80, 0xa1, b'1', 0x07, 0x2a], ProtocolError::WrongType("resultKind")),
        (&[0x94, 0x03, 0x80, 0xa1, b'1', 0x03], ProtocolError::WrongType("resultKind")),
        (&[0x92, 0x08, 0xff], ProtocolError::WrongType("sequenceId")),
        (&[0x92, 0x07, 0x2a], ProtocolError::WrongType("error")),
        (&[0x91, 0x06, 0x00], ProtocolError::Syntax(2)),
        (&[0x96, 0x01, 0x80, 0xc0, 0xa1, b'T', 0xdd, 0xff, 0xff, 0xff, 0xff], ProtocolError::TooLarge(0xffff_ffff)),
        (&[0x96, 0x01, 0x80, 0xc0, 0xdb, 0x7f, 0xff, 0xff, 0xff], ProtocolError::TooLarge(0x7fff_ffff)),
        (&[0x96, 0x01, 0x80, 0xc0, 0xa1, b'T', 0x91, 0xc1, 0x90], ProtocolError::Syntax(7)),
        (&[0x94, 0x02, 0x80, 0xa1, b'1', 0x9f], ProtocolError::Truncated),
    ];
    for (input, expected) in cases {
        assert_eq!(&msgpack::decode(input).unwrap_err(), expected, "{input:02x?}");
    }
}

#[test]
fn deep_nesting_is_skipped_without_recursion() {
    let mut body = vec![0x94, 0x02, 0x80, 0xa1, b'1'];
    body.extend(std::iter::repeat_n(0x91, 200_000));
    body.push(0xc0);
    let HubMessage::StreamItem(item) = msgpack::decode(&body).unwrap() else { panic!() };
    assert_eq!(item.item.0.len(), 200_001);
}
