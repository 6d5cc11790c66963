//! Per-connection timers: server pings, the client timeout, and stateful-reconnect Acks.

use super::connection::Connection;
use crate::app::App;
use crate::counters::TransportKind;
use crate::protocol::HubMessage;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Starts the timers of a connection that completed its handshake.
pub fn start(app: Arc<App>, conn: Arc<Connection>) {
    tokio::spawn(async move {
        let keepalive = app.config.keepalive_ms;
        let timeout = app.config.client_timeout_ms;
        let tick = Duration::from_millis((keepalive / 2).clamp(5, 200));
        let mut last_ping = app.now_ms();
        let mut acked = 0u64;
        loop {
            tokio::time::sleep(tick).await;
            let (closed, attached, transport, stateful) = {
                let st = conn.state();
                (st.closed, st.attached, st.transport, st.stateful)
            };
            if closed {
                break;
            }
            if !attached {
                continue;
            }
            let now = app.now_ms();
            if stateful {
                let latest = conn.recv_latest.load(Ordering::Relaxed);
                if latest > acked {
                    conn.send(&HubMessage::Ack {
                        sequence_id: latest,
                    });
                    acked = latest;
                }
            }
            // Long polling has an inherent keep-alive: no pings, no client timeout.
            if transport == Some(TransportKind::LongPolling) {
                continue;
            }
            if now.saturating_sub(last_ping) >= keepalive {
                conn.send(&HubMessage::Ping);
                last_ping = now;
            }
            let last_recv = conn.last_recv_ms.load(Ordering::Relaxed);
            if now.saturating_sub(last_recv) > timeout {
                conn.close(
                    Some(
                        "Server timeout elapsed without receiving a message from the client."
                            .into(),
                    ),
                    false,
                );
                app.conns.remove(&app, &conn, "client timeout");
                break;
            }
        }
    });
}

/// Closes a connection whose client never sent a handshake (ASP.NET's HandshakeTimeout, 15 s).
pub fn handshake_deadline(app: Arc<App>, conn: Arc<Connection>) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(15)).await;
        if conn.protocol().is_none() && !conn.is_closed() {
            conn.push(super::Out::Abort);
            app.conns.remove(&app, &conn, "handshake timeout");
        }
    });
}
