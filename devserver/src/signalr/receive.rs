//! Incoming bytes of a connection, whatever the transport: the handshake, record decoding,
//! stateful-reconnect sequence filtering, and the non-invocation message types.

use super::connection::{Connection, StreamEvent};
use super::{Frame, Out};
use crate::app::App;
use crate::counters::TransportKind;
use crate::hubs::{self, Call};
use crate::protocol::{handshake, HubMessage, Outcome};
use bytes::Bytes;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Receive-side state, processed one transport message at a time.
pub struct Incoming {
    buf: Vec<u8>,
    pub handshake_done: bool,
    next_recv: u64,
    latest_recv: u64,
}

impl Default for Incoming {
    fn default() -> Self {
        Incoming {
            buf: Vec::new(),
            handshake_done: false,
            next_recv: 1,
            latest_recv: 0,
        }
    }
}

impl Incoming {
    /// A resumed stateful transport starts with a fresh partial-record buffer.
    pub fn reset_partial(&mut self) {
        self.buf.clear();
    }
}

/// Processes one transport message. Returns false when the connection is ending.
pub async fn receive(app: &Arc<App>, conn: &Arc<Connection>, data: &[u8]) -> bool {
    let mut inc = conn.incoming.lock().await;
    if conn.is_closed() {
        return false;
    }
    conn.last_recv_ms.store(app.now_ms(), Ordering::Relaxed);
    inc.buf.extend_from_slice(data);
    if !inc.handshake_done {
        let req = match handshake::take_request(&mut inc.buf) {
            Ok(None) => return true,
            Ok(Some(req)) => req,
            Err(e) => return handshake_failed(app, conn, &e),
        };
        let binary_ok = conn.transport() != Some(TransportKind::ServerSentEvents);
        let protocol = match handshake::select(&req, binary_ok) {
            Ok(p) => p,
            Err(e) => return handshake_failed(app, conn, &e),
        };
        conn.set_protocol(protocol);
        let stateful = conn.stateful_offered
            && req.version >= 2
            && conn.transport() == Some(TransportKind::WebSockets);
        conn.state().stateful = stateful;
        inc.handshake_done = true;
        conn.push(Out::Frame(Frame {
            data: Bytes::from(handshake::success()),
            binary: protocol.is_binary(),
        }));
        app.log(format_args!(
            "conn {} open: {} {} {} v{}{}{}",
            conn.id,
            conn.hub_path,
            conn.transport().map_or("?", |t| t.name()),
            protocol.name(),
            req.version,
            if stateful { " stateful" } else { "" },
            conn.key
                .as_deref()
                .map(|k| format!(" key={}", crate::util::mask(k)))
                .unwrap_or_default(),
        ));
        super::keepalive::start(app.clone(), conn.clone());
    }
    let Some(protocol) = conn.protocol() else {
        return true;
    };
    let messages = match protocol.decode(&mut inc.buf) {
        Ok(m) => m,
        Err(e) => {
            conn.close(
                Some(format!(
                    "Connection closed with an error. InvalidDataException: {e}"
                )),
                false,
            );
            app.conns.remove(app, conn, "invalid data from client");
            return false;
        }
    };
    let stateful = conn.is_stateful();
    for msg in messages {
        match &msg {
            HubMessage::Sequence { sequence_id } => {
                app.counters
                    .bump(conn.key.as_deref(), |c| c.sequence_messages += 1);
                if stateful {
                    if *sequence_id > inc.latest_recv + 1 {
                        conn.close(
                            Some(
                                "Sequence ID greater than amount of messages we've received."
                                    .into(),
                            ),
                            false,
                        );
                        app.conns.remove(app, conn, "bad sequence id");
                        return false;
                    }
                    inc.next_recv = *sequence_id;
                }
                continue;
            }
            m if stateful && m.is_sequenced() => {
                let id = inc.next_recv;
                inc.next_recv += 1;
                if id <= inc.latest_recv {
                    continue; // duplicate after a reconnect
                }
                inc.latest_recv = id;
                conn.recv_latest.store(id, Ordering::Relaxed);
            }
            _ => {}
        }
        if !handle(app, conn, msg).await {
            return false;
        }
    }
    true
}

fn handshake_failed(app: &Arc<App>, conn: &Arc<Connection>, error: &str) -> bool {
    conn.push(Out::Frame(Frame {
        data: Bytes::from(handshake::error(error)),
        binary: false,
    }));
    conn.push(Out::End);
    app.log(format_args!("conn {} handshake failed: {error}", conn.id));
    app.conns.remove(app, conn, "handshake failed");
    false
}

async fn handle(app: &Arc<App>, conn: &Arc<Connection>, msg: HubMessage) -> bool {
    match msg {
        HubMessage::Invocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
            ..
        } => {
            hubs::invoke(
                app,
                conn,
                Call {
                    invocation_id,
                    target,
                    args: arguments,
                    stream_ids,
                    streaming: false,
                },
            )
            .await;
        }
        HubMessage::StreamInvocation {
            invocation_id,
            target,
            arguments,
            stream_ids,
            ..
        } => {
            let call = Call {
                invocation_id: Some(invocation_id),
                target,
                args: arguments,
                stream_ids,
                streaming: true,
            };
            hubs::invoke(app, conn, call).await;
        }
        HubMessage::StreamItem {
            invocation_id,
            item,
            ..
        } => {
            if let Some(s) = conn.state().client_streams.get(&invocation_id) {
                let _ = s.send(StreamEvent::Item(item));
            }
        }
        HubMessage::Completion {
            invocation_id,
            outcome,
            ..
        } => {
            let mut st = conn.state();
            if let Some(tx) = st.pending_results.remove(&invocation_id) {
                drop(st);
                app.counters
                    .bump(conn.key.as_deref(), |c| c.client_results += 1);
                let _ = tx.send(outcome);
            } else if let Some(s) = st.client_streams.remove(&invocation_id) {
                let err = match outcome {
                    Outcome::Error(e) => Some(e),
                    _ => None,
                };
                let _ = s.send(StreamEvent::End(err));
            }
        }
        HubMessage::CancelInvocation { invocation_id, .. } => {
            let found = conn.state().server_streams.remove(&invocation_id);
            if let Some(n) = found {
                app.counters
                    .bump(conn.key.as_deref(), |c| c.stream_cancels += 1);
                n.notify_one();
            }
        }
        HubMessage::Ping => {}
        HubMessage::Close { .. } => {
            conn.push(Out::End);
            app.conns.remove(app, conn, "client sent Close");
            return false;
        }
        HubMessage::Ack { sequence_id } => {
            app.counters
                .bump(conn.key.as_deref(), |c| c.acks_received += 1);
            conn.ack(sequence_id);
        }
        HubMessage::Sequence { .. } => {}
    }
    true
}
