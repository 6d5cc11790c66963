//! The WebSocket transport: upgrade (negotiated `id=` or skipNegotiation), a writer task that
//! drains the outbound queue (batching writes, flushing when idle), and a reader loop.

use super::connection::Connection;
use super::endpoint::{attach_error, authenticate_new, first_attach};
use super::{Frame, Out, TransportEnd};
use crate::app::App;
use crate::counters::TransportKind;
use crate::faults::FailTarget;
use crate::http::{injected, text, Ctx};
use crate::hubs::HubKind;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, error::TryRecvError};

/// Answers a WebSocket upgrade request on a hub URL.
pub async fn upgrade(
    app: &Arc<App>,
    ctx: &Ctx,
    parts: &mut Parts,
    hub_path: &'static str,
    kind: HubKind,
    token: Option<String>,
) -> Response {
    let ws = match WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let key = super::endpoint::key_of(app, kind, token.as_deref());
    if let Some(action) =
        app.faults
            .take(FailTarget::Ws, key.as_deref(), Some(hub_path), app.now_ms())
    {
        return injected(action).await;
    }
    let conn = match ctx.q("id").filter(|i| !i.is_empty()) {
        Some(id) => {
            let Some(conn) = app.conns.get(id).filter(|c| c.hub_path == hub_path) else {
                return text(StatusCode::NOT_FOUND, "No Connection with that ID");
            };
            if let Some(t) = token.as_deref() {
                app.counters.token_seen(conn.key.as_deref(), t);
            }
            if kind.requires_auth() {
                let ok = match token.as_deref() {
                    Some(t) if conn.auth_token.as_deref() == Some(t) => true,
                    t => match authenticate_new(app, kind, t) {
                        Ok(k) => k == conn.key,
                        Err(r) => return r,
                    },
                };
                if !ok {
                    return text(
                        StatusCode::FORBIDDEN,
                        "This connection belongs to another key.",
                    );
                }
            }
            {
                let st = conn.state();
                if let Some(t) = st.transport {
                    if t != TransportKind::WebSockets {
                        return text(
                            StatusCode::BAD_REQUEST,
                            "Cannot change transports mid-connection",
                        );
                    }
                }
                if st.attached && !st.stateful {
                    return text(
                        StatusCode::CONFLICT,
                        "Connection already has an active transport.",
                    );
                }
                if st.ever_attached && !st.stateful {
                    return text(StatusCode::NOT_FOUND, "No Connection with that ID");
                }
            }
            conn
        }
        None => {
            // skipNegotiation: the connection starts here.
            if let Some(t) = token.as_deref() {
                app.counters.token_seen(key.as_deref(), t);
            }
            let owner = match authenticate_new(app, kind, token.as_deref()) {
                Ok(k) => k,
                Err(r) => return r,
            };
            let conn = Connection::new(
                kind,
                hub_path,
                ctx.dialect,
                owner,
                token,
                false,
                1,
                app.now_ms(),
            );
            app.conns.insert(conn.clone());
            conn
        }
    };
    let app = app.clone();
    ws.max_message_size(super::endpoint::MAX_BODY)
        .on_failed_upgrade({
            let app = app.clone();
            let conn = conn.clone();
            move |_| {
                if !conn.state().ever_attached {
                    app.conns.remove(&app, &conn, "WebSocket upgrade failed");
                }
            }
        })
        .on_upgrade(move |socket| run(app, conn, socket))
}

fn to_message(f: Frame) -> Message {
    if f.binary {
        return Message::Binary(f.data);
    }
    match Utf8Bytes::try_from(f.data.clone()) {
        Ok(t) => Message::Text(t),
        Err(_) => Message::Text(String::from_utf8_lossy(&f.data).into_owned().into()),
    }
}

async fn run(app: Arc<App>, conn: Arc<Connection>, socket: WebSocket) {
    let (tx, rx) = mpsc::unbounded_channel();
    let kill = Arc::new(AtomicBool::new(false));
    let attached = match conn.attach(TransportKind::WebSockets, tx, kill.clone()) {
        Ok(a) => a,
        Err(e) => {
            let _ = attach_error(e);
            return; // dropping the socket closes it
        }
    };
    conn.last_recv_ms.store(app.now_ms(), Ordering::Relaxed);
    if attached.first {
        first_attach(&app, &conn, TransportKind::WebSockets);
    } else {
        conn.incoming.lock().await.reset_partial();
        app.log(format_args!(
            "conn {} resumed (stateful reconnect)",
            conn.id
        ));
    }
    let end = {
        let (sink, mut stream) = socket.split();
        let mut writer = tokio::spawn(write_loop(sink, rx, kill));
        let reader = read_loop(&app, &conn, &mut stream);
        tokio::pin!(reader);
        tokio::select! {
            w = &mut writer => {
                let w = w.unwrap_or(TransportEnd::Broken);
                if w == TransportEnd::ServerClosed {
                    // Give the client a moment to answer our close frame.
                    let _ = tokio::time::timeout(Duration::from_secs(2), &mut reader).await;
                }
                w
            }
            r = &mut reader => {
                writer.abort();
                r
            }
        }
        // Both halves drop here: the TCP stream closes (without a close frame when dropped).
    };
    app.conns
        .transport_ended(&app, &conn, attached.generation, end);
}

async fn read_loop(
    app: &Arc<App>,
    conn: &Arc<Connection>,
    stream: &mut SplitStream<WebSocket>,
) -> TransportEnd {
    while let Some(msg) = stream.next().await {
        match msg {
            Ok(Message::Text(t)) => {
                super::receive::receive(app, conn, t.as_bytes()).await;
            }
            Ok(Message::Binary(b)) => {
                super::receive::receive(app, conn, &b).await;
            }
            Ok(Message::Close(_)) => return TransportEnd::ClientClosed,
            Ok(_) => {}
            Err(_) => return TransportEnd::Broken,
        }
    }
    TransportEnd::Broken
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::UnboundedReceiver<Out>,
    kill: Arc<AtomicBool>,
) -> TransportEnd {
    loop {
        let out = match rx.try_recv() {
            Ok(o) => o,
            Err(TryRecvError::Empty) => {
                if sink.flush().await.is_err() {
                    return TransportEnd::Broken;
                }
                match rx.recv().await {
                    Some(o) => o,
                    None => Out::End,
                }
            }
            Err(TryRecvError::Disconnected) => Out::End,
        };
        if kill.load(Ordering::Relaxed) {
            return TransportEnd::Dropped;
        }
        match out {
            Out::Abort => return TransportEnd::Dropped,
            Out::End => {
                let close = Message::Close(Some(CloseFrame {
                    code: 1000,
                    reason: Utf8Bytes::from_static(""),
                }));
                let _ = sink.send(close).await;
                return TransportEnd::ServerClosed;
            }
            Out::Frame(f) => {
                if sink.feed(to_message(f)).await.is_err() {
                    return TransportEnd::Broken;
                }
            }
            Out::Repeat(f, n) => {
                let msg = to_message(f);
                for i in 0..n {
                    if i & 1023 == 0 && kill.load(Ordering::Relaxed) {
                        return TransportEnd::Dropped;
                    }
                    if sink.feed(msg.clone()).await.is_err() {
                        return TransportEnd::Broken;
                    }
                }
            }
            Out::Gen(frames) => {
                for (i, f) in frames.enumerate() {
                    if i & 1023 == 0 && kill.load(Ordering::Relaxed) {
                        return TransportEnd::Dropped;
                    }
                    if sink.feed(to_message(f)).await.is_err() {
                        return TransportEnd::Broken;
                    }
                }
            }
        }
    }
}
