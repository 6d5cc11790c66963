//! MessagePack hub protocol: split a transport message into length-prefixed records and decode each one. Any
//! input must give a `ProtocolError` or a message, never a panic; a decoded message must survive `encode` then
//! `decode` unchanged.
#![no_main]

use conduit_realtime::protocol::msgpack;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in msgpack::records(data) {
        let Ok(body) = record else { continue };
        let Ok(message) = msgpack::decode(body) else { continue };
        let mut out = Vec::new();
        msgpack::encode(&message, &mut out);
        let mut again = msgpack::records(&out);
        let reencoded = again.next().expect("one record").expect("encode writes a valid length prefix");
        assert!(again.next().is_none(), "encode wrote more than one record: {out:02x?}");
        match msgpack::decode(reencoded) {
            Ok(decoded) => assert_eq!(decoded, message, "round trip changed the message; encoded as {out:02x?}"),
            Err(e) => panic!("re-encoded message does not decode: {e:?}; encoded as {out:02x?}"),
        }
    }
});
