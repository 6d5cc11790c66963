//! The connection state machine under pseudo-random operation sequences: the bounded, deterministic version
//! of the `connection` fuzz target (same model and invariants: tests/support/connection_ops.rs), so CI runs
//! it. Plus the inputs the fuzzer kept under fuzz/regressions/connection/ and the seeds.

#[path = "support/connection_ops.rs"]
mod connection_ops;

use conduit_realtime::connection::{Action, Config, Connection, State};
use connection_ops::{config, Harness, Input, Stats, HUB, OP_COUNT};

/// xorshift64*: deterministic, so a failure names its sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n.div_ceil(8)).flat_map(|_| self.next().to_le_bytes()).take(n).collect()
    }
}

/// Operation codes weighted towards what moves a connection forward (18 answers the machine's last request),
/// so most sequences connect, invoke, receive and lose the connection before they end.
const WEIGHTED_OPS: &[u8] = &[
    18, 18, 18, 18, 18, 18, 0, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 15, 15, 16, 17, 19, 20,
];

fn sequence(index: u64) -> Stats {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ index.wrapping_mul(0x1000_0000_01b3));
    let head = rng.bytes(3);
    let (config, auto_policy) = config(&mut Input::new(&head));
    let mut h = Harness::new(config, auto_policy, rng.next());
    let ops = 4 + rng.next() % 28;
    for _ in 0..ops {
        let op = WEIGHTED_OPS[(rng.next() % WEIGHTED_OPS.len() as u64) as usize];
        let params = rng.bytes(40);
        h.apply(op, &mut Input::new(&params));
    }
    h.stop();
    h.stats
}

#[test]
fn fifty_thousand_random_operation_sequences_keep_every_invariant() {
    let started = std::time::Instant::now();
    let mut total = Stats::default();
    for index in 0..50_000u64 {
        let stats = std::panic::catch_unwind(|| sequence(index)).unwrap_or_else(|_| panic!("sequence {index} failed (see above)"));
        total.add(&stats);
    }
    eprintln!("{total:?} in {:?}", started.elapsed());
    // The sequences must reach what the invariants are about, or the test proves nothing.
    assert!(total.started > 10_000, "{total:?}");
    assert!(total.start_failed > 1_000, "{total:?}");
    assert!(total.reconnecting > 1_000 && total.reconnected > 100, "{total:?}");
    assert!(total.resumed > 100, "stateful resumes: {total:?}");
    assert!(total.closed > 1_000, "{total:?}");
    assert!(total.completions_ok > 300 && total.completions_err > 1_000, "{total:?}");
    assert!(total.stream_items > 50 && total.invocations > 500, "{total:?}");
    assert!(total.protocol_errors > 1_000, "{total:?}");
        assert!((0..OP_COUNT).all(|op| WEIGHTED_OPS.contains(&op)), "WEIGHTED_OPS misses an operation");
}

fn run_inputs(dir: &str) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir);
    let mut run = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    entries.sort();
    for path in entries {
        let data = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| connection_ops::run(&data)).is_err() {
            panic!("{} fails (see above)", path.display());
        }
        run += 1;
    }
    run
}

/// The committed seeds of the `connection` fuzz target pass.
#[test]
fn fuzz_seeds_pass() {
    assert!(run_inputs("seeds/connection") >= 10, "the seeds are there");
}

/// Every crash input the fuzzer found, kept under fuzz/regressions/connection/, passes.
#[test]
fn fuzz_regressions_pass() {
    assert!(run_inputs("regressions/connection") >= 1, "the regressions are there");
}

/// Regression (found by the `connection` fuzz target, input fuzz/regressions/connection/keep_alive_zero_timer_spin.bin):
/// HubConnection's `keepAliveIntervalInMilliseconds` setter accepts any number above 0 and stores it truncated
/// (`0.5` becomes 0 ms) while connected, where nothing validates it again. With a keep-alive of 0 every
/// `timeout()` sends a Ping and leaves the next deadline at `now`, so the browser driver re-arms a 0 ms timer
/// forever: a busy loop sending Pings as fast as the event loop turns.
#[test]
fn a_zero_keep_alive_set_while_connected_does_not_spin() {
    let mut conn = Connection::new(Config::new(HUB), 1);
    let now = 1_000;
    conn.start(now).unwrap();
    let negotiate = loop {
        match conn.poll_action() {
            Some(Action::Negotiate { generation, .. }) => break generation,
            Some(_) => continue,
            None => panic!("no negotiate"),
        }
    };
    let body = br#"{"connectionId":"c","connectionToken":"t","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}"#;
    conn.negotiated(now, negotiate, Ok(body));
    let Some(Action::Open { generation, .. }) = conn.poll_action() else { panic!("no open") };
    conn.transport_opened(now, generation);
    conn.received(now, generation, b"{}\x1e");
    assert_eq!(conn.state(), State::Connected);
    while conn.poll_action().is_some() {}
    // What `connection.keepAliveIntervalInMilliseconds = 0.5` does (src/bindings/hub_connection.rs).
    conn.config_mut().keep_alive_ms = 0.5_f64 as u64;
    let mut pings = 0;
    for _ in 0..100 {
        let Some(at) = conn.next_timeout() else { break };
        if at > now {
            break;
        }
        conn.timeout(now);
        while let Some(action) = conn.poll_action() {
            pings += matches!(action, Action::Send { .. }) as u32;
        }
    }
    assert!(pings <= 1, "{pings} Pings sent without any time passing: the keep-alive timer spins");
    assert!(conn.next_timeout().is_some_and(|at| at > now), "the next deadline must lie in the future");
}
