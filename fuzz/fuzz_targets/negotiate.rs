//! Negotiate answer parsing: any input must give an answer or a `ProtocolError`, never a panic.
#![no_main]

use conduit_realtime::protocol::negotiate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(negotiate::NegotiateResponse::Negotiated(n)) = negotiate::parse(data) {
        // A negotiation is only accepted with an id to connect with.
        assert!(n.id_param().is_some());
    }
});
