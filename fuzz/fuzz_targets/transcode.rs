//! Payload transcoding. MessagePack to JSON must never panic, and its JSON output must go back to MessagePack
//! and out again as the same text (the mapping is stable after one pass). JSON to MessagePack must never panic
//! on UTF-8 input, and what it writes must transcode back to JSON.
#![no_main]

use conduit_realtime::protocol::transcode::{json_to_msgpack, msgpack_to_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = msgpack_to_json(data) {
        let packed = match json_to_msgpack(&json) {
            Ok(packed) => packed,
            Err(e) => panic!("msgpack_to_json produced JSON that json_to_msgpack rejects: {e:?}; json {json:?}"),
        };
        match msgpack_to_json(&packed) {
            Ok(back) => assert_eq!(back, json, "JSON text changed after a MessagePack round trip; packed {packed:02x?}"),
            Err(e) => panic!("json_to_msgpack produced MessagePack that msgpack_to_json rejects: {e:?}; packed {packed:02x?}"),
        }
    }
    if let Ok(text) = core::str::from_utf8(data) {
        if let Ok(packed) = json_to_msgpack(text) {
            // Whatever json_to_msgpack writes, msgpack_to_json must read.
            if let Err(e) = msgpack_to_json(&packed) {
                panic!("json_to_msgpack produced MessagePack that msgpack_to_json rejects: {e:?}; packed {packed:02x?}");
            }
        }
    }
});
