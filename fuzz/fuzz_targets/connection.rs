//! The connection state machine under an arbitrary sequence of operations (start, stop, invoke, cancel,
//! network online, token, negotiate answers, transport open/close, arbitrary received data in JSON and
//! MessagePack, timeouts, virtual time, retry delays), with every action carried out and every event delivered
//! in between. The model and its invariants live in tests/support/connection_ops.rs, shared with the bounded
//! `cargo test` run in tests/connection_robustness.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/connection_ops.rs"]
mod connection_ops;

fuzz_target!(|data: &[u8]| {
    connection_ops::run(data);
});
