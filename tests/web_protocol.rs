//! The protocol core compiled to wasm32 and run in headless Chromium.
#![cfg(target_arch = "wasm32")]

use conduit_realtime::protocol::{json, msgpack, transcode, HubMessage, HubProtocol};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn json_records_decode_in_the_browser() {
    let frame = b"{\"type\":1,\"target\":\"TaskProgress\",\"arguments\":[\"t1\",42]}\x1e{\"type\":6}\x1e";
    let messages: Vec<_> = json::records(frame).map(|r| json::decode(r.unwrap()).unwrap()).collect();
    assert_eq!(messages.len(), 2);
    let HubMessage::Invocation(m) = &messages[0] else { panic!("not an invocation") };
    assert_eq!(m.target, "TaskProgress");
    let parsed = js_sys::JSON::parse(m.arguments.json_text()).unwrap();
    assert_eq!(js_sys::Array::from(&parsed).length(), 2);
    assert_eq!(messages[1], HubMessage::Ping);
}

#[wasm_bindgen_test]
fn msgpack_payloads_transcode_for_json_parse() {
    let mut out = Vec::new();
    HubProtocol::MessagePack.encode(&HubMessage::Ack(7), &mut out);
    let body = msgpack::records(&out).next().unwrap().unwrap();
    assert_eq!(msgpack::decode(body).unwrap(), HubMessage::Ack(7));
    let json = transcode::msgpack_to_json(&[0x92, 0xa1, b'x', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).unwrap();
    let parsed = js_sys::JSON::parse(&json).unwrap();
    assert_eq!(js_sys::JSON::stringify(&parsed).unwrap(), "[\"x\",1.5]");
}

#[wasm_bindgen_test]
fn numbers_use_the_browsers_own_conversions() {
    use conduit_realtime::protocol::number;
    for (value, text) in [(1.5, "1.5"), (0.1, "0.1"), (-2.5e-7, "-2.5e-7"), (1e21, "1e+21"), (-3.0, "-3"), (-0.0, "0")] {
        let mut out = Vec::new();
        number::write_f64(&mut out, value);
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
    assert_eq!(number::parse_f64("0.1"), Some(0.1));
    assert_eq!(number::parse_f64("-1.25e3"), Some(-1250.0));
    assert_eq!(number::parse_f64("x"), None);
    // JSON -> MessagePack keeps the exact double.
    let packed = transcode::json_to_msgpack("[0.30000000000000004]").unwrap();
    assert_eq!(&packed[1..], &[&[0xcb][..], &0.30000000000000004f64.to_bits().to_be_bytes()].concat()[..]);
}
