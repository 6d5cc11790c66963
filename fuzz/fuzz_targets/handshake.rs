//! Handshake response parsing: any input must give `Ok(None)`, a response, or a `ProtocolError`, never a panic.
#![no_main]

use conduit_realtime::protocol::handshake;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((_, used))) = handshake::parse_response(data) {
        assert!(used >= 1 && used <= data.len(), "consumed {used} of {} bytes", data.len());
        assert_eq!(data[used - 1], 0x1e, "the response must end at its record separator");
    }
});
