//! The connection state machine on virtual time: start, negotiate, transports, handshake, invocations, stop.

mod support;

use conduit_realtime::connection::{
    Action, Config, Event, InvokeKind, Payload, State, TransportSet, INVOCATION_CANCELED,
};
use conduit_realtime::protocol::negotiate::TransportKind;
use conduit_realtime::protocol::HubProtocol;
use support::*;

fn started(config: Config) -> (Driver, u32) {
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let g = d.connect("c1", false);
    (d, g)
}

#[test]
fn start_negotiates_opens_and_handshakes() {
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    assert_eq!(d.conn.state(), State::Connecting);
    let (g, url, token) = d.expect_negotiate();
    assert_eq!(url, "http://127.0.0.1:5000/hubs/test/negotiate?negotiateVersion=1");
    assert_eq!(token, None);
    d.conn.negotiated(d.now, g, Ok(negotiate_body("abc", false).as_bytes()));
    let (g, kind, url) = d.expect_open();
    assert_eq!(kind, TransportKind::WebSockets);
    assert_eq!(url, "http://127.0.0.1:5000/hubs/test?id=tok-abc");
    d.conn.transport_opened(d.now, g);
    assert_eq!(d.expect_send_text(), "{\"protocol\":\"json\",\"version\":1}\x1e");
    assert_eq!(d.conn.state(), State::Connecting);
    d.conn.received(d.now, g, b"{}\x1e{\"type\":1,\"target\":\"Hello\",\"arguments\":[1]}\x1e");
    assert_eq!(d.conn.state(), State::Connected);
    assert_eq!(d.conn.connection_id(), Some("abc"));
    assert_eq!(
        d.events(),
        vec![
            Event::StateChanged(State::Connecting),
            Event::StateChanged(State::Connected),
            Event::Started,
            Event::Invocation { target: "Hello".into(), arguments: "[1]".into(), invocation_id: None },
        ]
    );
    assert!(d.conn.start(d.now).is_err(), "a second start is refused");
}

#[test]
fn arguments_of_a_kept_frame_come_as_ranges_of_it() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    let frame = "{\"type\":1,\"target\":\"A\",\"arguments\":[\"é\",1]}\x1e{\"type\":1,\"target\":\"B\",\"arguments\":[]}\x1e";
    d.conn.received_frame(d.now, g, frame.as_bytes(), 7);
    let args: Vec<Payload> = d
        .events()
        .into_iter()
        .filter_map(|e| if let Event::Invocation { arguments, .. } = e { Some(arguments) } else { None })
        .collect();
    assert!(matches!(args[0], Payload::InFrame { frame: 7, .. }));
    assert_eq!(args[0].text(Some((7, frame))), Some("[\"é\",1]"));
    assert_eq!(args[1].text(Some((7, frame))), Some("[]"));
    assert_eq!(args[1].text(Some((8, frame))), None, "a range of another frame is not resolved");
    // Records received without a kept frame (and MessagePack) come as text.
    d.conn.received(d.now, g, frame.as_bytes());
    assert!(d.events().iter().any(|e| matches!(e, Event::Invocation { arguments: Payload::Text(t), .. } if t == "[]")));
}

#[test]
fn arguments_after_the_handshake_in_the_same_frame_come_as_text() {
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let g = d.open_for_handshake("a", false);
    d.conn.received_frame(d.now, g, b"{}\x1e{\"type\":1,\"target\":\"A\",\"arguments\":[2]}\x1e", 1);
    assert!(d.events().contains(&Event::Invocation { target: "A".into(), arguments: "[2]".into(), invocation_id: None }));
}

#[test]
fn handshake_response_split_across_transport_messages() {
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let g = d.open_for_handshake("a", false);
    d.conn.received(d.now, g, b"{");
    assert_eq!(d.conn.state(), State::Connecting);
    d.conn.received(d.now, g, b"}\x1e");
    assert_eq!(d.conn.state(), State::Connected);
}

#[test]
fn a_handshake_response_without_a_separator_is_bounded() {
    let mut config = Config::new(HUB);
    config.max_message_bytes = 8;
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let g = d.open_for_handshake("a", false);
    d.conn.received(d.now, g, &[b' '; 65_536]);
    assert_eq!(d.conn.state(), State::Connecting, "64 KiB, the smallest frame limit, fits");
    d.conn.received(d.now, g, b" ");
    assert_eq!(
        d.events().last(),
        Some(&Event::StartFailed("Invalid handshake response: no record separator in the first 65537 bytes".into()))
    );
    assert_eq!(d.action(), Action::Close);
}

#[test]
fn invoke_send_and_completions() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    let id = d.conn.invoke(d.now, InvokeKind::Invoke, "Echo", "[\"hi\"]").unwrap().unwrap();
    assert_eq!(d.expect_send_text(), format!("{{\"type\":1,\"invocationId\":\"{id}\",\"target\":\"Echo\",\"arguments\":[\"hi\"]}}\x1e"));
    assert_eq!(d.conn.invoke(d.now, InvokeKind::Send, "Note", "[]").unwrap(), None);
    assert_eq!(d.expect_send_text(), "{\"type\":1,\"target\":\"Note\",\"arguments\":[]}\x1e");
    let failing = d.conn.invoke(d.now, InvokeKind::Invoke, "Throw", "[]").unwrap().unwrap();
    d.expect_send();
    let frame = format!(
        "{{\"type\":3,\"invocationId\":\"{id}\",\"result\":\"hi\"}}\x1e{{\"type\":3,\"invocationId\":\"{failing}\",\"error\":\"boom\"}}\x1e{{\"type\":3,\"invocationId\":\"999\",\"result\":1}}\x1e"
    );
    d.conn.received(d.now, g, frame.as_bytes());
    assert_eq!(
        d.events(),
        vec![
            Event::Completion { id, outcome: Ok(Some(Payload::Text("\"hi\"".into()))) },
            Event::Completion { id: failing, outcome: Err("boom".into()) },
        ]
    );
    assert!(d.logs().iter().any(|(_, m)| m.contains("unknown invocation '999'")));
    // In a kept frame the result comes as a range of it.
    let id = d.conn.invoke(d.now, InvokeKind::Invoke, "Echo", "[{\"a\":\"é\"}]").unwrap().unwrap();
    d.expect_send();
    let frame = format!("{{\"type\":3,\"invocationId\":\"{id}\",\"result\":{{\"a\":\"é\"}}}}\x1e");
    d.conn.received_frame(d.now, g, frame.as_bytes(), 3);
    let events = d.events();
    let [Event::Completion { id: done, outcome: Ok(Some(result)) }] = events.as_slice() else { panic!("{events:?}") };
    assert_eq!(*done, id);
    assert!(matches!(result, Payload::InFrame { frame: 3, .. }), "{result:?}");
    assert_eq!(result.text(Some((3, &frame))), Some("{\"a\":\"é\"}"));
    assert!(d.conn.invoke(d.now, InvokeKind::Invoke, "Echo", "not json").is_err());
    assert!(d.conn.invoke(d.now, InvokeKind::Invoke, "Echo", "{\"not\":\"an array\"}").is_err());
}

#[test]
fn streams_deliver_items_and_can_be_cancelled() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    let id = d.conn.invoke(d.now, InvokeKind::Stream, "Counter", "[3,10]").unwrap().unwrap();
    assert!(d.expect_send_text().starts_with("{\"type\":4,"));
    let frame = format!("{{\"type\":2,\"invocationId\":\"{id}\",\"item\":0}}\x1e{{\"type\":2,\"invocationId\":\"{id}\",\"item\":1}}\x1e");
    d.conn.received(d.now, g, frame.as_bytes());
    d.conn.cancel_stream(d.now, id);
    assert_eq!(d.expect_send_text(), format!("{{\"type\":5,\"invocationId\":\"{id}\"}}\x1e"));
    let late = format!("{{\"type\":2,\"invocationId\":\"{id}\",\"item\":2}}\x1e");
    d.conn.received(d.now, g, late.as_bytes());
    assert_eq!(
        d.events(),
        vec![
            Event::StreamItem { id, item: "0".into() },
            Event::StreamItem { id, item: "1".into() },
            Event::Completion { id, outcome: Ok(None) },
        ]
    );
}

#[test]
fn client_results_answer_with_a_completion() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    d.conn.received(d.now, g, b"{\"type\":1,\"invocationId\":\"s1\",\"target\":\"GetValue\",\"arguments\":[]}\x1e");
    assert_eq!(
        d.events(),
        vec![Event::Invocation { target: "GetValue".into(), arguments: "[]".into(), invocation_id: Some("s1".into()) }]
    );
    d.conn.client_result(d.now, "s1", Ok(Some("{\"v\":42}")));
    assert_eq!(d.expect_send_text(), "{\"type\":3,\"invocationId\":\"s1\",\"result\":{\"v\":42}}\x1e");
    d.conn.client_result(d.now, "s2", Err("Client didn't provide a result."));
    assert_eq!(d.expect_send_text(), "{\"type\":3,\"invocationId\":\"s2\",\"error\":\"Client didn't provide a result.\"}\x1e");
}

#[test]
fn transports_fall_back_in_the_servers_order_and_report_every_failure() {
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Ok(negotiate_body("a", false).as_bytes()));
    let (g1, t1, _) = d.expect_open();
    d.conn.transport_closed(d.now, g1, "refused".into());
    let (g2, t2, _) = d.expect_open();
    d.conn.transport_closed(d.now, g2, "no EventSource".into());
    let (g3, t3, _) = d.expect_open();
    assert_eq!((t1, t2, t3), (TransportKind::WebSockets, TransportKind::ServerSentEvents, TransportKind::LongPolling));
    d.conn.transport_closed(d.now, g1, "stale report".into());
    d.conn.transport_closed(d.now, g3, "404".into());
    let events = d.events();
    assert_eq!(
        events.last(),
        Some(&Event::StartFailed(
            "Unable to connect to the server with any of the available transports. WebSockets failed: refused ServerSentEvents failed: no EventSource LongPolling failed: 404".into()
        ))
    );
    assert_eq!(d.conn.state(), State::Disconnected);
}

#[test]
fn messagepack_skips_text_only_transports_and_transcodes_payloads() {
    let mut config = Config::new(HUB);
    config.protocol = HubProtocol::MessagePack;
    config.transports = TransportSet { web_sockets: false, server_sent_events: true, long_polling: true };
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Ok(negotiate_body("a", false).as_bytes()));
    let Action::Open { generation, transport, binary, .. } = d.action() else { panic!() };
    assert_eq!((transport, binary), (TransportKind::LongPolling, true));
    d.conn.transport_opened(d.now, generation);
    assert_eq!(d.expect_send_text(), "{\"protocol\":\"messagepack\",\"version\":1}\x1e");
    let mut data = b"{}\x1e".to_vec();
    data.extend([0x0c, 0x96, 0x01, 0x80, 0xc0, 0xa2, b'H', b'i', 0x92, 0x2a, 0xa1, b'x', 0x90]);
    d.conn.received(d.now, generation, &data);
    assert!(d.events().contains(&Event::Invocation { target: "Hi".into(), arguments: "[42,\"x\"]".into(), invocation_id: None }));
    let id = d.conn.invoke(d.now, InvokeKind::Invoke, "Echo", "[1.5]").unwrap().unwrap();
    let Action::Send { data, binary } = d.action() else { panic!() };
    assert!(binary);
    assert_eq!(data, [&[0x15, 0x96, 0x01, 0x80, 0xa1, b'0' + id as u8, 0xa4][..], b"Echo", &[0x91, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x90]].concat());
}

#[test]
fn negotiate_v0_redirects_and_errors() {
    let mut d = Driver::new(Config::new("http://127.0.0.1:5000/hubs/test?x=1"));
    d.conn.start(d.now).unwrap();
    let (g, url, _) = d.expect_negotiate();
    assert_eq!(url, "http://127.0.0.1:5000/hubs/test/negotiate?x=1&negotiateVersion=1");
    d.conn.negotiated(d.now, g, Ok(br#"{"url":"https://signalr.example/client/?hub=test","accessToken":"azure-jwt"}"#));
    let (g, url, token) = d.expect_negotiate();
    assert_eq!(url, "https://signalr.example/client/negotiate?hub=test&negotiateVersion=1");
    assert_eq!(token.as_deref(), Some("azure-jwt"));
    d.conn.negotiated(d.now, g, Ok(br#"{"connectionId":"v0id","availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}"#));
    let Action::Open { url, access_token, .. } = d.action() else { panic!() };
    assert_eq!(url, "https://signalr.example/client/?hub=test&id=v0id");
    assert_eq!(access_token.as_deref(), Some("azure-jwt"));

    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    for _ in 0..=100 {
        let (g, _, _) = d.expect_negotiate();
        d.conn.negotiated(d.now, g, Ok(br#"{"url":"http://127.0.0.1:5000/hubs/test"}"#));
    }
    d.no_action();
    assert_eq!(d.events().last(), Some(&Event::StartFailed("Negotiate redirection limit exceeded.".into())));

    for (body, expected) in [
        (&br#"{"error":"Not allowed"}"#[..], "Not allowed"),
        (b"<html>", "Invalid negotiation response: unexpected byte at offset 0"),
        (br#"{"ProtocolVersion":"1.5","ConnectionId":"x"}"#, "Detected a connection attempt to an ASP.NET SignalR Server. This client only supports connecting to an ASP.NET Core SignalR Server."),
        (br#"{"connectionId":"a","availableTransports":[{"transport":"WebTransport","transferFormats":["Binary"]}]}"#, "None of the transports supported by the client are supported by the server."),
    ] {
        let mut d = Driver::new(Config::new(HUB));
        d.conn.start(d.now).unwrap();
        let (g, _, _) = d.expect_negotiate();
        d.conn.negotiated(d.now, g, Ok(body));
        assert_eq!(d.events().last(), Some(&Event::StartFailed(expected.into())));
    }
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Err("HTTP 401 Unauthorized".into()));
    assert_eq!(
        d.events().last(),
        Some(&Event::StartFailed("Failed to complete negotiation with the server: HTTP 401 Unauthorized".into()))
    );
}

#[test]
fn skip_negotiation_connects_the_websocket_directly() {
    let mut config = Config::new(HUB);
    config.skip_negotiation = true;
    assert!(Config { ..config.clone() }.validate().is_err(), "skipNegotiation needs WebSockets only");
    config.transports = TransportSet::only(TransportKind::WebSockets);
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let (g, kind, url) = d.expect_open();
    assert_eq!((kind, url.as_str()), (TransportKind::WebSockets, HUB));
    d.conn.transport_closed(d.now, g, "refused".into());
    assert_eq!(d.events().last(), Some(&Event::StartFailed("WebSockets failed: refused".into())));
}

#[test]
fn access_token_is_fetched_for_every_attempt() {
    let mut config = Config::new(HUB);
    config.uses_access_token = true;
    config.reconnect = conduit_realtime::connection::RetryPolicy::Delays(vec![0]);
    let mut d = Driver::new(config);
    d.conn.start(d.now).unwrap();
    let Action::FetchToken { generation } = d.action() else { panic!() };
    d.conn.token_ready(d.now, generation, Ok(Some("t1".into())));
    let (g, _, token) = d.expect_negotiate();
    assert_eq!(token.as_deref(), Some("t1"));
    d.conn.negotiated(d.now, g, Ok(negotiate_body("a", false).as_bytes()));
    let Action::Open { generation: g, access_token, .. } = d.action() else { panic!() };
    assert_eq!(access_token.as_deref(), Some("t1"));
    d.conn.transport_opened(d.now, g);
    d.expect_send();
    d.conn.received(d.now, g, b"{}\x1e");
    d.conn.transport_closed(d.now, g, "dropped".into());
    let Action::Close = d.action() else { panic!() };
    let Action::FetchToken { generation } = d.action() else { panic!("token fetched again on reconnect") };
    d.conn.token_ready(d.now, generation, Err("expired".into()));
    assert!(d.logs().iter().any(|(_, m)| m.contains("The access token factory failed: expired")));
    assert_eq!(d.conn.state(), State::Disconnected, "the only retry delay was used");
}

#[test]
fn handshake_errors_and_timeouts_fail_the_start() {
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Ok(negotiate_body("a", false).as_bytes()));
    let (g, _, _) = d.expect_open();
    d.conn.transport_opened(d.now, g);
    d.expect_send();
    d.conn.received(d.now, g, b"{\"error\":\"Requested protocol 'json' is not available.\"}\x1e");
    assert_eq!(
        d.events().last(),
        Some(&Event::StartFailed("Server returned handshake error: Requested protocol 'json' is not available.".into()))
    );
    assert_eq!(d.action(), Action::Close);

    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Ok(negotiate_body("a", false).as_bytes()));
    let (g, _, _) = d.expect_open();
    d.conn.transport_opened(d.now, g);
    let at = d.run_to_next_timeout();
    assert_eq!(at, 1_000 + 15_000);
    assert_eq!(d.events().last(), Some(&Event::StartFailed("The server did not complete the handshake in time.".into())));
}

#[test]
fn stop_while_connecting_ignores_late_reports() {
    let mut d = Driver::new(Config::new(HUB));
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.stop(d.now);
    d.conn.negotiated(d.now, g, Ok(negotiate_body("a", false).as_bytes()));
    d.no_action();
    assert_eq!(
        d.events(),
        vec![
            Event::StateChanged(State::Connecting),
            Event::StateChanged(State::Disconnected),
            Event::StartFailed("The connection was stopped during negotiation.".into()),
        ]
    );
    assert!(d.conn.start(d.now).is_ok(), "a stopped connection can start again");
}

#[test]
fn stop_fails_pending_invocations_and_closes_without_error() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    let id = d.conn.invoke(d.now, InvokeKind::Invoke, "Delay", "[1000]").unwrap().unwrap();
    d.expect_send();
    d.conn.stop(d.now);
    assert_eq!(d.action(), Action::Close);
    d.conn.transport_closed(d.now, g, "closed by us".into());
    assert_eq!(
        d.events(),
        vec![
            Event::StateChanged(State::Disconnecting),
            Event::Completion { id, outcome: Err(INVOCATION_CANCELED.into()) },
            Event::StateChanged(State::Disconnected),
            Event::Closed(None),
        ]
    );
    assert!(d.conn.invoke(d.now, InvokeKind::Send, "X", "[]").is_err());
}

#[test]
fn keep_alive_pings_and_server_timeout() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    assert_eq!(d.conn.next_timeout(), Some(1_000 + 15_000));
    d.advance(15_000);
    assert_eq!(d.expect_send_text(), "{\"type\":6}\x1e");
    d.advance(10_000);
    d.conn.received(d.now, g, b"{\"type\":6}\x1e");
    d.advance(29_999);
    assert_eq!(d.conn.state(), State::Connected);
    d.advance(1);
    assert_eq!(d.conn.state(), State::Disconnected);
    assert_eq!(
        d.events().last(),
        Some(&Event::Closed(Some("Server timeout elapsed without receiving a message from the server.".into())))
    );
}

#[test]
fn malformed_records_are_skipped_and_the_rest_delivered() {
    let (mut d, g) = started(Config::new(HUB));
    d.events();
    d.conn.received(
        d.now,
        g,
        b"{\"type\":1,\"target\":\"A\",\"arguments\":[1]}\x1e{not json\x1e{\"type\":99}\x1e{\"type\":1,\"target\":\"B\",\"arguments\":[2]}\x1e",
    );
    let events = d.events();
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(matches!(&events[0], Event::Invocation { target, .. } if target == "A"));
    assert!(matches!(&events[1], Event::ProtocolError(m) if m.contains("unexpected byte")));
    assert!(matches!(&events[2], Event::ProtocolError(m) if m.contains("unknown message type 99")));
    assert!(matches!(&events[3], Event::Invocation { target, .. } if target == "B"));
    assert_eq!(d.conn.state(), State::Connected);
}

#[test]
fn oversized_records_are_skipped() {
    let mut config = Config::new(HUB);
    config.max_message_bytes = 64;
    let (mut d, g) = started(config);
    d.events();
    let big = format!("{{\"type\":1,\"target\":\"A\",\"arguments\":[\"{}\"]}}\x1e{{\"type\":6}}\x1e", "x".repeat(100));
    d.conn.received(d.now, g, big.as_bytes());
    assert_eq!(d.events(), vec![Event::ProtocolError("Skipped a malformed message from the server: length 140 is above the limit".into())]);
}

#[test]
fn broken_messagepack_framing_drops_the_connection() {
    let mut config = Config::new(HUB);
    config.protocol = HubProtocol::MessagePack;
    let (mut d, g) = started(config);
    d.events();
    d.conn.received(d.now, g, &[0x02, 0x91, 0x06, 0x7f, 0x01]);
    assert_eq!(
        d.events().last(),
        Some(&Event::Closed(Some("Invalid MessagePack framing from the server: input ended inside a value".into())))
    );
}

#[test]
fn plain_http_to_other_hosts_is_refused_unless_allowed() {
    assert!(Config::new("http://example.com/hub").validate().unwrap_err().contains("allowInsecure"));
    assert!(Config::new("https://example.com/hub").validate().is_ok());
    assert!(Config::new("http://localhost:5000/hub").validate().is_ok());
    assert!(Config::new("http://127.0.0.1:5000/hub").validate().is_ok());
    let mut allowed = Config::new("http://example.com/hub");
    allowed.allow_insecure = true;
    assert!(allowed.validate().is_ok());

    let mut d = Driver::new(Config::new("https://example.com/hub"));
    d.conn.start(d.now).unwrap();
    let (g, _, _) = d.expect_negotiate();
    d.conn.negotiated(d.now, g, Ok(br#"{"url":"http://evil.example/hub","accessToken":"t"}"#));
    assert!(matches!(d.events().last(), Some(Event::StartFailed(m)) if m.starts_with("Negotiate redirect refused")));
}
