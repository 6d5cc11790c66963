//! The long-polling transport: the first poll binds the connection and answers at once; later
//! polls wait up to the poll timeout for data (200 with everything queued, binary allowed),
//! answer 200 empty on timeout, and 204 once the server closed the connection.

use super::connection::Connection;
use super::endpoint::{attach_error, first_attach};
use super::{Frame, Out};
use crate::app::App;
use crate::counters::TransportKind;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{self, error::TryRecvError};

/// Most bytes one poll answer carries (more waits for the next poll).
const MAX_POLL_BYTES: usize = 1024 * 1024;

/// The receive side of a long-polling connection.
#[derive(Default)]
pub struct PollState {
    rx: Option<mpsc::UnboundedReceiver<Out>>,
    pending: Option<Box<dyn Iterator<Item = Frame> + Send>>,
    ended: bool,
}

/// Answers one poll.
pub async fn poll(app: &Arc<App>, conn: &Arc<Connection>) -> Response {
    let first = !conn.state().ever_attached;
    if first {
        let (tx, rx) = mpsc::unbounded_channel();
        let attached = conn.attach(
            TransportKind::LongPolling,
            tx,
            Arc::new(AtomicBool::new(false)),
        );
        if let Err(e) = attached {
            return attach_error(e);
        }
        conn.poll.lock().await.rx = Some(rx);
        conn.last_poll_end_ms.store(app.now_ms(), Ordering::Relaxed);
        first_attach(app, conn, TransportKind::LongPolling);
        watch_idle(app.clone(), conn.clone());
        return empty(StatusCode::OK);
    }
    if conn.transport() != Some(TransportKind::LongPolling) {
        return crate::http::text(
            StatusCode::BAD_REQUEST,
            "Cannot change transports mid-connection",
        );
    }
    let mut ps = conn.poll.lock().await;
    conn.polling.store(true, Ordering::Relaxed);
    let resp = collect(app, conn, &mut ps).await;
    conn.polling.store(false, Ordering::Relaxed);
    conn.last_poll_end_ms.store(app.now_ms(), Ordering::Relaxed);
    resp
}

fn empty(status: StatusCode) -> Response {
    let mut r = status.into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

enum Next {
    Data(Frame),
    End,
    Abort,
    Timeout,
}

async fn next(ps: &mut PollState, wait: Option<Duration>) -> Next {
    loop {
        if let Some(it) = ps.pending.as_mut() {
            if let Some(f) = it.next() {
                return Next::Data(f);
            }
            ps.pending = None;
        }
        let Some(rx) = ps.rx.as_mut() else {
            return Next::End;
        };
        let out = match wait {
            None => match rx.try_recv() {
                Ok(o) => Some(o),
                Err(TryRecvError::Empty) => return Next::Timeout,
                Err(TryRecvError::Disconnected) => None,
            },
            Some(d) => match tokio::time::timeout(d, rx.recv()).await {
                Ok(o) => o,
                Err(_) => return Next::Timeout,
            },
        };
        match out {
            None | Some(Out::End) => return Next::End,
            Some(Out::Abort) => return Next::Abort,
            Some(o) => ps.pending = o.into_frames(),
        }
    }
}

async fn collect(app: &Arc<App>, conn: &Arc<Connection>, ps: &mut PollState) -> Response {
    if ps.ended {
        app.conns.unlinger(&conn.token);
        return empty(StatusCode::NO_CONTENT);
    }
    let wait = Duration::from_millis(app.config.poll_timeout_ms);
    let first = match next(ps, Some(wait)).await {
        Next::Data(f) => f,
        Next::Timeout => return empty(StatusCode::OK),
        Next::End => {
            ps.ended = true;
            app.conns.unlinger(&conn.token);
            return empty(StatusCode::NO_CONTENT);
        }
        Next::Abort => return aborted(),
    };
    let binary = first.binary;
    let mut body = first.data.to_vec();
    while body.len() < MAX_POLL_BYTES {
        match next(ps, None).await {
            Next::Data(f) => body.extend_from_slice(&f.data),
            Next::Timeout => break,
            Next::End => {
                ps.ended = true;
                break;
            }
            Next::Abort => return aborted(),
        }
    }
    let mut r = (StatusCode::OK, Bytes::from(body)).into_response();
    let ct = if binary {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// A response whose body fails: the HTTP connection is cut mid-answer (`/_dev/drop`).
fn aborted() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::other("dropped by /_dev/drop"))
    });
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    r
}

/// Forgets a long-polling connection whose client stopped polling.
fn watch_idle(app: Arc<App>, conn: Arc<Connection>) {
    tokio::spawn(async move {
        let limit = (app.config.poll_timeout_ms * 3).max(15_000);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if conn.is_closed() {
                break;
            }
            let idle = app
                .now_ms()
                .saturating_sub(conn.last_poll_end_ms.load(Ordering::Relaxed));
            if !conn.polling.load(Ordering::Relaxed) && idle > limit {
                app.conns
                    .remove(&app, &conn, "long-polling client stopped polling");
                break;
            }
        }
    });
}
