//! Automatic reconnect, retry policies, start retry and stateful reconnect, on virtual time.

mod support;

use conduit_realtime::connection::{
    Action, Config, Event, InvokeKind, Payload, RetryContext, RetryPolicy, State, DEFAULT_DELAYS, INVOCATION_CANCELED,
};
use support::*;

fn reconnecting_config(policy: RetryPolicy) -> Config {
    let mut config = Config::new(HUB);
    config.reconnect = policy;
    config
}

#[test]
fn default_delays_then_give_up() {
    let mut d = Driver::new(reconnecting_config(RetryPolicy::Delays(DEFAULT_DELAYS.to_vec())));
    d.conn.start(d.now).unwrap();
    let g = d.connect("first", false);
    d.events();
    let id = d.conn.invoke(d.now, InvokeKind::Invoke, "Slow", "[]").unwrap().unwrap();
    d.expect_send();
    d.conn.transport_closed(d.now, g, "socket dropped".into());
    assert_eq!(d.action(), Action::Close);
    assert_eq!(
        d.events(),
        vec![
            Event::Completion { id, outcome: Err(INVOCATION_CANCELED.into()) },
            Event::StateChanged(State::Reconnecting),
            Event::Reconnecting(Some("socket dropped".into())),
        ]
    );
    let lost_at = d.now;
    // Attempt 1 at once (delay 0), then 2 s, 10 s and 30 s later, then give up.
    let mut attempt_times = Vec::new();
    for _ in 0..4 {
        let (g, _, _) = match d.conn.poll_action() {
            Some(Action::Negotiate { generation, url, access_token }) => (generation, url, access_token),
            None => {
                d.run_to_next_timeout();
                d.expect_negotiate()
            }
            Some(other) => panic!("{other:?}"),
        };
        attempt_times.push(d.now - lost_at);
        d.conn.negotiated(d.now, g, Err("HTTP 503".into()));
    }
    assert_eq!(attempt_times, vec![0, 2_000, 12_000, 42_000]);
    assert_eq!(d.conn.state(), State::Disconnected);
    assert_eq!(
        d.events().last(),
        Some(&Event::Closed(Some("Failed to complete negotiation with the server: HTTP 503".into())))
    );
}

#[test]
fn reconnect_succeeds_with_a_new_connection_id() {
    let mut d = Driver::new(reconnecting_config(RetryPolicy::Delays(vec![1_000])));
    d.conn.start(d.now).unwrap();
    let g = d.connect("first", false);
    d.conn.transport_closed(d.now, g, "drop".into());
    assert_eq!(d.action(), Action::Close);
    d.events();
    assert_eq!(d.conn.next_timeout(), Some(d.now + 1_000));
    d.run_to_next_timeout();
    d.connect("second", false);
    assert_eq!(d.events(), vec![Event::StateChanged(State::Connected), Event::Reconnected(Some("second".into()))]);
    assert_eq!(d.conn.connection_id(), Some("second"));
}

#[test]
fn exponential_backoff_with_jitter_and_a_maximum() {
    let policy = RetryPolicy::Exponential { initial_ms: 1_000, max_ms: 5_000, max_attempts: Some(5), jitter_ms: 100 };
    let delays: Vec<Option<u64>> = (0..6)
        .map(|n| policy.next_delay(&RetryContext { previous_retry_count: n, elapsed_ms: 0, reason: String::new() }, 0.5).unwrap())
        .collect();
    assert_eq!(delays, vec![Some(1_050), Some(2_050), Some(4_050), Some(5_050), Some(5_050), None]);
    let huge = policy.next_delay(&RetryContext { previous_retry_count: 3, elapsed_ms: 0, reason: String::new() }, 0.999).unwrap();
    assert!(huge.unwrap() < 5_100);

    let mut d = Driver::new(reconnecting_config(RetryPolicy::Exponential {
        initial_ms: 500,
        max_ms: 60_000,
        max_attempts: None,
        jitter_ms: 1_000,
    }));
    d.conn.start(d.now).unwrap();
    let g = d.connect("a", false);
    d.conn.transport_closed(d.now, g, "drop".into());
    assert_eq!(d.action(), Action::Close);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let before = d.now;
        d.run_to_next_timeout();
        waits.push(d.now - before);
        let (g, _, _) = d.expect_negotiate();
        d.conn.negotiated(d.now, g, Err("down".into()));
    }
    for (n, wait) in waits.iter().enumerate() {
        let base = 500u64 << n;
        assert!((base..base + 1_000).contains(wait), "attempt {n} waited {wait}");
    }
    assert_eq!(d.conn.state(), State::Reconnecting, "no maximum: still trying");
}

#[test]
fn external_policy_is_asked_with_context() {
    let mut d = Driver::new(reconnecting_config(RetryPolicy::External));
    d.conn.start(d.now).unwrap();
    let g = d.connect("a", false);
    d.conn.transport_closed(d.now, g, "drop".into());
    assert_eq!(d.action(), Action::Close);
    assert_eq!(
        d.action(),
        Action::AskRetryDelay(RetryContext { previous_retry_count: 0, elapsed_ms: 0, reason: "drop".into() })
    );
    d.conn.retry_delay(d.now, Some(250));
    d.advance(250);
    let (g, _, _) = d.expect_negotiate();
    d.now += 100;
    d.conn.negotiated(d.now, g, Err("nope".into()));
    assert_eq!(
        d.action(),
        Action::AskRetryDelay(RetryContext {
            previous_retry_count: 1,
            elapsed_ms: 350,
            reason: "Failed to complete negotiation with the server: nope".into()
        })
    );
    d.conn.retry_delay(d.now, None);
    assert_eq!(d.conn.state(), State::Disconnected);
}

#[test]
fn close_message_with_and_without_allow_reconnect() {
    let mut d = Driver::new(reconnecting_config(RetryPolicy::Delays(vec![0])));
    d.conn.start(d.now).unwrap();
    let g = d.connect("a", false);
    d.events();
    d.conn.received(d.now, g, b"{\"type\":7,\"error\":\"maintenance\",\"allowReconnect\":true}\x1e");
    assert_eq!(d.conn.state(), State::Reconnecting);
    assert!(d.events().contains(&Event::Reconnecting(Some("Server returned an error on close: maintenance".into()))));
    d.action();
    let g = d.connect("b", false);
    d.events();
    d.conn.received(d.now, g, b"{\"type\":7,\"error\":\"banned\"}\x1e");
    assert_eq!(d.conn.state(), State::Disconnected);
    assert_eq!(d.events().last(), Some(&Event::Closed(Some("Server returned an error on close: banned".into()))));
}

#[test]
fn network_online_skips_the_reconnect_delay() {
    let mut d = Driver::new(reconnecting_config(RetryPolicy::Delays(vec![30_000])));
    d.conn.start(d.now).unwrap();
    let g = d.connect("a", false);
    d.conn.transport_closed(d.now, g, "offline".into());
    d.action();
    assert_eq!(d.conn.poll_action(), None, "no attempt before the delay");
    d.now += 5;
    d.conn.network_online(d.now);
    d.expect_negotiate();
}

#[test]
fn stop_during_the_reconnect_delay_closes() {
    let mut d = Driver::new(reconnecting_config(RetryPolicy::Delays(vec![5_000])));
    d.conn.start(d.now).unwrap();
    let g = d.connect("a", false);
    d.conn.transport_closed(d.now, g, "drop".into());
    d.events();
    d.conn.stop(d.now);
    assert_eq!(
        d.events().last(),
        Some(&Event::Closed(Some("Connection stopped during reconnect delay. Done reconnecting.".into())))
    );
    assert_eq!(d.conn.next_timeout(), None, "no timer left behind");
}

#[test]
fn initial_start_is_retried_when_asked() {
    let mut config = reconnecting_config(RetryPolicy::Delays(vec![100, 200]));
    config.retry_start = true;
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Err("refused".into()));
    assert_eq!(d.conn.state(), State::Connecting);
    d.run_to_next_timeout();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Err("refused".into()));
    d.run_to_next_timeout();
    d.connect("late", false);
    let events = d.events();
    assert!(events.contains(&Event::Started));
    assert!(!events.iter().any(|e| matches!(e, Event::Reconnecting(_) | Event::StartFailed(_))));

    let mut config = reconnecting_config(RetryPolicy::Delays(vec![100]));
    config.retry_start = false;
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Err("refused".into()));
    assert_eq!(d.conn.state(), State::Disconnected, "like the official client, no retry of start by default");
}

fn stateful_config() -> Config {
    let mut config = reconnecting_config(RetryPolicy::Delays(vec![0]));
    config.stateful_reconnect = true;
    config
}

#[test]
fn stateful_reconnect_resumes_and_replays_without_duplicates() {
    let mut d = Driver::new(stateful_config());
    d.conn.start(d.now).unwrap();
    let (g, url, _) = d.expect_negotiate();
    assert!(url.ends_with("negotiateVersion=1&useStatefulReconnect=true"));
    d.conn.negotiated(d.now, g, Ok(negotiate_body("s", true).as_bytes()));
    let (g, _, connect_url) = d.expect_open();
    d.conn.transport_opened(d.now, g);
    assert_eq!(d.expect_send_text(), "{\"protocol\":\"json\",\"version\":2}\x1e");
    d.conn.received(d.now, g, b"{}\x1e");
    d.events();

    let first = d.conn.invoke(d.now, InvokeKind::Invoke, "A", "[1]").unwrap().unwrap();
    d.expect_send();
    d.conn.received(d.now, g, b"{\"type\":1,\"target\":\"N\",\"arguments\":[1]}\x1e{\"type\":1,\"target\":\"N\",\"arguments\":[2]}\x1e");
    d.conn.received(d.now, g, b"{\"type\":8,\"sequenceId\":1}\x1e");
    let second = d.conn.invoke(d.now, InvokeKind::Invoke, "B", "[2]").unwrap().unwrap();
    d.expect_send();

    d.conn.transport_closed(d.now, g, "wifi blip".into());
    assert_eq!(d.conn.state(), State::Connected, "a stateful resume is invisible to the user");
    assert_eq!(d.action(), Action::Close);
    let (g2, _, resume_url) = d.expect_open();
    assert_eq!(resume_url, connect_url, "same connection id");
    let third = d.conn.invoke(d.now, InvokeKind::Invoke, "C", "[3]").unwrap().unwrap();
    d.no_action();

    d.conn.transport_opened(d.now, g2);
    let resent = d.expect_send_text();
    assert_eq!(
        resent,
        format!(
            "{{\"type\":9,\"sequenceId\":2}}\x1e{{\"type\":1,\"invocationId\":\"{second}\",\"target\":\"B\",\"arguments\":[2]}}\x1e{{\"type\":1,\"invocationId\":\"{third}\",\"target\":\"C\",\"arguments\":[3]}}\x1e"
        ),
        "unacknowledged messages are replayed after our Sequence"
    );
    // The server replays from 2: message 2 is a duplicate, 3 is new.
    d.conn.received(
        d.now,
        g2,
        b"{\"type\":9,\"sequenceId\":2}\x1e{\"type\":1,\"target\":\"N\",\"arguments\":[2]}\x1e{\"type\":1,\"target\":\"N\",\"arguments\":[3]}\x1e",
    );
    let delivered: Vec<Payload> = d
        .events()
        .into_iter()
        .filter_map(|e| if let Event::Invocation { arguments, .. } = e { Some(arguments) } else { None })
        .collect();
    assert_eq!(delivered, vec!["[1]".into(), "[2]".into(), "[3]".into()]);
    let _ = first;
    // An Ack for what we received goes out within a second.
    let at = d.run_to_next_timeout();
    assert!(at <= d.now);
    assert_eq!(d.expect_send_text(), "{\"type\":8,\"sequenceId\":3}\x1e");
}

#[test]
fn failed_stateful_resume_falls_back_to_a_full_reconnect() {
    let mut d = Driver::new(stateful_config());
    d.conn.start(d.now).unwrap();
    let g = d.connect("s", true);
    let pending = d.conn.invoke(d.now, InvokeKind::Invoke, "A", "[]").unwrap().unwrap();
    d.expect_send();
    d.events();
    d.conn.transport_closed(d.now, g, "drop".into());
    d.action();
    let (g2, _, _) = d.expect_open();
    d.conn.transport_closed(d.now, g2, "404 connection gone".into());
    let events = d.events();
    assert!(events.contains(&Event::Completion { id: pending, outcome: Err(INVOCATION_CANCELED.into()) }));
    assert!(events.contains(&Event::Reconnecting(Some("Stateful reconnect failed: 404 connection gone".into()))));
    d.action();
    d.expect_negotiate();
}

#[test]
fn a_refused_frame_reconnects_without_a_stateful_resume() {
    let mut d = Driver::new(stateful_config());
    d.conn.start(d.now).unwrap();
    let g = d.connect("s", true);
    d.events();
    assert_eq!(d.conn.config().max_frame_bytes(), 4 * d.conn.config().max_message_bytes);
    assert_eq!(conduit_realtime::connection::frame_limit(100), 65_536, "never below 64 KiB");
    d.conn.frame_refused(d.now, g.wrapping_add(1), "from a transport that is gone".into());
    assert_eq!(d.conn.state(), State::Connected, "a stale generation is ignored");
    d.conn.frame_refused(d.now, g, "a frame of 99 bytes".into());
    // The server would resend the frame on a resume: the connection starts over instead.
    assert_eq!(d.conn.state(), State::Reconnecting);
    assert!(d.events().contains(&Event::Reconnecting(Some("a frame of 99 bytes".into()))));
    assert_eq!(d.action(), Action::Close);
    d.expect_negotiate();
}
