//! Flood benchmark consumer: connects one WebSocket (skipNegotiation) to `/hubs/test`, asks
//! for `Flood(count, perFrame, "f", payload)` and counts the hub messages that arrive.
//!
//! cargo run --release -p conduit-devserver --example flood -- [URL] [--count N] [--per-frame P] [--msgpack]
//! Without URL it starts the server in this process (same machine, same cores either way).

use futures_util::{SinkExt, StreamExt};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

fn count_records(data: &[u8], msgpack: bool, flood: &mut u64, done: &mut bool) {
    if msgpack {
        let mut i = 0;
        while i < data.len() {
            let Ok(Some((len, prefix))) =
                conduit_devserver::protocol::msgpack::read_varint(&data[i..])
            else {
                return;
            };
            let body = &data[i + prefix..i + prefix + len];
            match body.get(1) {
                Some(1) => *flood += 1,
                Some(3) => *done = true,
                _ => {}
            }
            i += prefix + len;
        }
    } else {
        for rec in data.split(|b| *b == 0x1e).filter(|r| !r.is_empty()) {
            if rec.starts_with(b"{\"type\":1") {
                *flood += 1;
            } else if rec.starts_with(b"{\"type\":3") {
                *done = true;
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let mut url: Option<String> = None;
    let mut count: u64 = 2_000_000;
    let mut per_frame: u64 = 50;
    let mut msgpack = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" => count = args.next().and_then(|v| v.parse().ok()).expect("--count N"),
            "--per-frame" => {
                per_frame = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--per-frame N")
            }
            "--msgpack" => msgpack = true,
            other => url = Some(other.to_string()),
        }
    }
    let _server;
    let base = match url {
        Some(u) => u,
        None => {
            let cfg = conduit_devserver::Config {
                port: 0,
                quiet: true,
                statics: vec![],
                ..Default::default()
            };
            let running = conduit_devserver::start(cfg).await.expect("start server");
            let u = format!("http://{}", running.addr);
            _server = running;
            u
        }
    };
    let ws_url = format!("{}/hubs/test", base.replacen("http", "ws", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url)
        .await
        .expect("connect");
    let proto = if msgpack { "messagepack" } else { "json" };
    ws.send(Message::text(format!(
        "{{\"protocol\":\"{proto}\",\"version\":1}}\u{1e}"
    )))
    .await
    .unwrap();
    // Handshake answer.
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().starts_with("{}") => break,
            Some(Ok(Message::Binary(b))) if b.starts_with(b"{}") => break,
            Some(Ok(_)) => continue,
            other => panic!("handshake failed: {other:?}"),
        }
    }
    let payload = "{\"taskId\":\"t\",\"progress\":42}";
    let start = Instant::now();
    if msgpack {
        let msg = conduit_devserver::protocol::HubMessage::Invocation {
            headers: vec![],
            invocation_id: Some("1".into()),
            target: "Flood".into(),
            arguments: vec![count.into(), per_frame.into(), "f".into(), payload.into()],
            stream_ids: vec![],
        };
        ws.send(Message::binary(
            conduit_devserver::protocol::Protocol::MessagePack.encode(&msg),
        ))
        .await
        .unwrap();
    } else {
        let inv = format!(
            "{{\"type\":1,\"invocationId\":\"1\",\"target\":\"Flood\",\"arguments\":[{count},{per_frame},\"f\",{}]}}\u{1e}",
            serde_json::to_string(payload).unwrap()
        );
        ws.send(Message::text(inv)).await.unwrap();
    }
    let (mut flood, mut done, mut frames, mut bytes) = (0u64, false, 0u64, 0u64);
    while !done {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                frames += 1;
                bytes += t.len() as u64;
                count_records(t.as_bytes(), false, &mut flood, &mut done);
            }
            Some(Ok(Message::Binary(b))) => {
                frames += 1;
                bytes += b.len() as u64;
                count_records(&b, true, &mut flood, &mut done);
            }
            Some(Ok(_)) => {}
            other => panic!("stream ended: {other:?}"),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{proto} perFrame={per_frame}: {flood} messages in {secs:.3} s = {:.0} msg/s ({frames} frames, {:.1} MB/s)",
        flood as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    assert_eq!(flood, count, "lost messages");
    let _ = ws.close(None).await;
}
