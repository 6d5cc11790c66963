//! Bounded property tests: random and mutated input never panics any decoder, and generated messages round
//! trip through both protocols. (Unbounded runs live in `fuzz/`.)

use std::borrow::Cow;

use conduit_realtime::protocol::{
    handshake, json, msgpack, negotiate, transcode, Close, Completion, HubMessage, HubProtocol, Invocation, Outcome,
    Raw, StreamItem,
};

/// xorshift64*: deterministic, so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEEDS: &[&[u8]] = &[
    b"{\"type\":1,\"invocationId\":\"1\",\"target\":\"Send\",\"arguments\":[42,\"x\",{\"a\":[true,null,-1.5e3]}],\"streamIds\":[\"s\"]}",
    b"{\"type\":3,\"invocationId\":\"1\",\"result\":{\"k\":\"\\u00e9\\ud83d\\ude00\"},\"headers\":{\"a\":\"b\"}}",
    b"{\"type\":7,\"error\":\"bye\",\"allowReconnect\":true}",
    b"{\"connectionId\":\"a\",\"connectionToken\":\"b\",\"negotiateVersion\":1,\"availableTransports\":[{\"transport\":\"WebSockets\",\"transferFormats\":[\"Text\",\"Binary\"]}]}",
    &[0x96, 0x01, 0x82, 0xa1, b'x', 0xa1, b'y', 0xa1, b'z', 0xa1, b'z', 0xa3, b'x', b'y', b'z', 0xa6, b'm', b'e', b't', b'h', b'o', b'd', 0x91, 0x2a, 0x90],
    &[0x95, 0x03, 0x80, 0xa3, b'x', b'y', b'z', 0x03, 0x92, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0xd6, 0xff, 1, 2, 3, 4],
    &[0x93, 0x07, 0xa3, b'x', b'y', b'z', 0xc3],
];

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    const INTERESTING: &[u8] = b"{}[]\",:0-1e.\\u\x1e\xc0\xdc\xdd\xdf\xff\x7f\x80\x91\x96\xa1\xd9";
    for _ in 0..1 + rng.below(4) {
        let pos = if input.is_empty() { 0 } else { rng.below(input.len() + 1) };
        match rng.below(5) {
            0 if !input.is_empty() => {
                let at = pos.min(input.len() - 1);
                input[at] = rng.next() as u8;
            }
            1 => input.insert(pos, INTERESTING[rng.below(INTERESTING.len())]),
            2 if !input.is_empty() => {
                input.remove(pos.min(input.len() - 1));
            }
            3 => input.truncate(pos),
            _ => {
                let start = rng.below(input.len().max(1));
                let end = (start + rng.below(16)).min(input.len());
                let chunk = input[start..end].to_vec();
                input.splice(pos.min(input.len())..pos.min(input.len()), chunk);
            }
        }
    }
}

fn feed_every_decoder(input: &[u8]) {
    for record in json::records(input).flatten() {
        let _ = json::decode(record);
    }
    let _ = json::decode(input);
    for body in msgpack::records(input).flatten() {
        let _ = msgpack::decode(body);
    }
    let _ = msgpack::decode(input);
    let _ = handshake::parse_response(input);
    let _ = negotiate::parse(input);
    let _ = transcode::msgpack_to_json(input);
    if let Ok(text) = core::str::from_utf8(input) {
        let _ = transcode::json_to_msgpack(text);
    }
}

#[test]
fn mutated_and_random_input_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut runs = 0u64;
    for _ in 0..60_000 {
        let mut input = SEEDS[rng.below(SEEDS.len())].to_vec();
        mutate(&mut rng, &mut input);
        feed_every_decoder(&input);
        let random: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
        feed_every_decoder(&random);
        runs += 2;
    }
    assert_eq!(runs, 120_000);
}

fn random_json_value(rng: &mut Rng, depth: usize, out: &mut String) {
    match if depth > 3 { rng.below(4) } else { rng.below(6) } {
        0 => out.push_str(["null", "true", "false"][rng.below(3)]),
        1 => out.push_str(&(rng.next() as i64 >> rng.below(60)).to_string()),
        2 => out.push_str(&format!("{:?}", (rng.next() % 100_000) as f64 / 64.0 + 0.5)),
        3 => {
            let s: String = (0..rng.below(8)).map(|_| ['a', '"', '\\', '\n', 'é', '😀', '\u{1}'][rng.below(7)]).collect();
            let mut buf = Vec::new();
            json::write_string(&mut buf, &s);
            out.push_str(core::str::from_utf8(&buf).unwrap());
        }
        4 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                random_json_value(rng, depth + 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("\"k{i}\":"));
                random_json_value(rng, depth + 1, out);
            }
            out.push('}');
        }
    }
}

#[test]
fn generated_messages_round_trip_through_both_protocols() {
    let mut rng = Rng(42);
    for _ in 0..3_000 {
        let mut args = String::from("[");
        random_json_value(&mut rng, 1, &mut args);
        args.push(']');
        let mut value = String::new();
        random_json_value(&mut rng, 0, &mut value);
        let id = (rng.next() % 1000).to_string();
        let mut messages = |args: &[u8], value: &[u8]| -> Vec<HubMessage<'static>> {
            let args: &'static [u8] = Box::leak(args.to_vec().into_boxed_slice());
            let value: &'static [u8] = Box::leak(value.to_vec().into_boxed_slice());
            vec![
                HubMessage::Invocation(Invocation {
                    headers: vec![("h".into(), Cow::Owned(id.clone()))],
                    invocation_id: Some(Cow::Owned(id.clone())),
                    target: "Target".into(),
                    arguments: Raw(args),
                    stream_ids: vec![],
                }),
                HubMessage::StreamItem(StreamItem { headers: vec![], invocation_id: Cow::Owned(id.clone()), item: Raw(value) }),
                HubMessage::Completion(Completion {
                    headers: vec![],
                    invocation_id: Cow::Owned(id.clone()),
                    outcome: Outcome::Result(Raw(value)),
                }),
                HubMessage::Close(Close { error: Some(Cow::Owned(id.clone())), allow_reconnect: rng.below(2) == 0 }),
                HubMessage::Sequence(rng.next()),
            ]
        };
        for message in messages(args.as_bytes(), value.as_bytes()) {
            let mut out = Vec::new();
            HubProtocol::Json.encode(&message, &mut out);
            let record = json::records(&out).next().unwrap().unwrap();
            assert_eq!(json::decode(record).unwrap(), message);
        }
        let packed_args = transcode::json_to_msgpack(&args).unwrap();
        let packed_value = transcode::json_to_msgpack(&value).unwrap();
        for message in messages(&packed_args, &packed_value) {
            let mut out = Vec::new();
            HubProtocol::MessagePack.encode(&message, &mut out);
            let body = msgpack::records(&out).next().unwrap().unwrap();
            assert_eq!(msgpack::decode(body).unwrap(), message);
        }
        // Integral floats come back as integers, which JavaScript cannot tell apart: compare the JSON texts.
        let back = transcode::msgpack_to_json(&packed_value).unwrap();
        let again = transcode::msgpack_to_json(&transcode::json_to_msgpack(&back).unwrap()).unwrap();
        assert_eq!(again, back, "{value}");
    }
}
