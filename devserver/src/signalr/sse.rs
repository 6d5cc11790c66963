//! The Server-Sent Events transport: one streaming response carrying `data:` events (text
//! only); the client sends with POST. The stream's end decides the connection's fate.

use super::connection::Connection;
use super::endpoint::{attach_error, first_attach};
use super::{Frame, Out, TransportEnd};
use crate::app::App;
use crate::counters::TransportKind;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{self, error::TryRecvError};

const CHUNK: usize = 64 * 1024;

/// Ends the transport when the response body is dropped (client gone, or stream finished).
struct EndGuard {
    app: Arc<App>,
    conn: Arc<Connection>,
    generation: u64,
    end: TransportEnd,
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        self.app
            .conns
            .transport_ended(&self.app, &self.conn, self.generation, self.end);
    }
}

struct StreamState {
    rx: mpsc::UnboundedReceiver<Out>,
    pending: Option<Box<dyn Iterator<Item = Frame> + Send>>,
    guard: EndGuard,
    started: bool,
    done: bool,
}

/// Appends one SSE event (`data:` per line, blank line after).
pub fn encode_event(data: &[u8], out: &mut Vec<u8>) {
    for line in data.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Opens the event stream of a negotiated connection.
pub fn open(app: &Arc<App>, conn: &Arc<Connection>) -> Response {
    let (tx, rx) = mpsc::unbounded_channel();
    let kill = Arc::new(AtomicBool::new(false));
    let attached = match conn.attach(TransportKind::ServerSentEvents, tx, kill) {
        Ok(a) => a,
        Err(e) => return attach_error(e),
    };
    conn.last_recv_ms.store(app.now_ms(), Ordering::Relaxed);
    first_attach(app, conn, TransportKind::ServerSentEvents);
    let state = StreamState {
        rx,
        pending: None,
        guard: EndGuard {
            app: app.clone(),
            conn: conn.clone(),
            generation: attached.generation,
            end: TransportEnd::Broken,
        },
        started: false,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, next_chunk);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

async fn next_chunk(mut s: StreamState) -> Option<(Result<Bytes, std::io::Error>, StreamState)> {
    if s.done {
        return None;
    }
    if !s.started {
        s.started = true;
        // A comment line: flushes the headers so EventSource reports "open" at once.
        return Some((Ok(Bytes::from_static(b":\r\n\r\n")), s));
    }
    let mut chunk = Vec::new();
    loop {
        if let Some(mut it) = s.pending.take() {
            while chunk.len() < CHUNK {
                match it.next() {
                    Some(f) => encode_event(&f.data, &mut chunk),
                    None => break,
                }
            }
            if chunk.len() >= CHUNK {
                s.pending = Some(it);
                return Some((Ok(Bytes::from(chunk)), s));
            }
        }
        let out = if chunk.is_empty() {
            s.rx.recv().await
        } else {
            match s.rx.try_recv() {
                Ok(o) => Some(o),
                Err(TryRecvError::Empty) => return Some((Ok(Bytes::from(chunk)), s)),
                Err(TryRecvError::Disconnected) => None,
            }
        };
        match out {
            None | Some(Out::End) => {
                s.guard.end = TransportEnd::ServerClosed;
                s.done = true;
                return if chunk.is_empty() {
                    None
                } else {
                    Some((Ok(Bytes::from(chunk)), s))
                };
            }
            Some(Out::Abort) => {
                s.guard.end = TransportEnd::Dropped;
                s.done = true;
                return Some((Err(std::io::Error::other("dropped by /_dev/drop")), s));
            }
            Some(o) => s.pending = o.into_frames(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_lines() {
        let mut out = Vec::new();
        encode_event(b"{\"type\":6}\x1e", &mut out);
        assert_eq!(out, b"data: {\"type\":6}\x1e\r\n\r\n");
        out.clear();
        encode_event(b"a\nb", &mut out);
        assert_eq!(out, b"data: a\r\ndata: b\r\n\r\n");
    }
}
