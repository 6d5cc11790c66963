//! JSON hub protocol: split a transport message into records and decode each one. Any input must give a
//! `ProtocolError` or a message, never a panic; a decoded message must survive `encode` then `decode` unchanged.
#![no_main]

use conduit_realtime::protocol::json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in json::records(data) {
        let Ok(record) = record else { continue };
        let Ok(message) = json::decode(record) else { continue };
        let mut out = Vec::new();
        json::encode(&message, &mut out);
        let mut again = json::records(&out);
        let reencoded = again.next().expect("one record").expect("encode ends the record with 0x1E");
        assert!(again.next().is_none(), "encode wrote more than one record: {:?}", String::from_utf8_lossy(&out));
        match json::decode(reencoded) {
            Ok(decoded) => assert_eq!(
                decoded,
                message,
                "round trip changed the message; encoded as {:?}",
                String::from_utf8_lossy(&out)
            ),
            Err(e) => panic!("re-encoded message does not decode: {e:?}; encoded as {:?}", String::from_utf8_lossy(&out)),
        }
    }
});
