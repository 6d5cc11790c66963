//! The connection state machine under an arbitrary sequence of operations (start, stop, invoke, cancel,
//! network online, token, negotiate answers, transport open/close, arbitrary received data in JSON and
//! MessagePack, timeouts, virtual time, retry delays), with every action carried out and every event delivered
//! in between. The model and its invariants live in tests/support/connection_ops.rs, shared with the bounded
//! `cargo test` run in tests/connection_robustness.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/connection_ops.rs"]
mod connection_ops;

// CONNECTION_FUZZ_SKIP_ZERO_TIMEOUTS=1 leaves out the known zero keep-alive spin, to look for other bugs.
fuzz_target!(|data: &[u8]| {
    static SKIP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let skip = *SKIP.get_or_init(|| std::env::var_os("CONNECTION_FUZZ_SKIP_ZERO_TIMEOUTS").is_some());
    connection_ops::run_with(data, skip);
});
