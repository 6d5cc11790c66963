//! Benchmark floods: many non-blocking invocations, pre-encoded once and packed several per
//! transport message, written by the transport as fast as the socket takes them.

use super::HubKind;
use crate::protocol::message::v;
use crate::protocol::HubMessage;
use crate::signalr::connection::Connection;
use crate::signalr::{Frame, Out};
use bytes::{Bytes, BytesMut};
use rmpv::Value;
use serde_json::json;
use std::sync::Arc;

/// Largest number of records packed into one transport message.
pub const MAX_PER_FRAME: u64 = 100_000;

fn repeat(record: &[u8], n: u64) -> Bytes {
    let mut b = BytesMut::with_capacity(record.len() * n as usize);
    for _ in 0..n {
        b.extend_from_slice(record);
    }
    b.freeze()
}

/// Sends `count` invocations `target(payload)`, `per_frame` per transport message.
pub fn flood(conn: &Arc<Connection>, count: u64, per_frame: u64, target: &str, payload: Value) {
    let Some(p) = conn.protocol() else { return };
    let msg = HubMessage::invocation(target, vec![payload]);
    if conn.is_stateful() {
        // Every message must be numbered and buffered for replay: the slow path.
        for _ in 0..count {
            conn.send(&msg);
        }
        return;
    }
    let record = p.encode(&msg);
    let per = per_frame.clamp(1, MAX_PER_FRAME);
    let (full, rem) = (count / per, count % per);
    let binary = p.is_binary();
    if full > 0 {
        conn.push(Out::Repeat(
            Frame {
                data: repeat(&record, per),
                binary,
            },
            full,
        ));
    }
    if rem > 0 {
        conn.push(Out::Frame(Frame {
            data: repeat(&record, rem),
            binary,
        }));
    }
}

/// The deployed-shape progress event of a flood at `pct` percent.
pub fn conduit_progress(hub: HubKind, task_id: &str, pct: u64, timestamp: &str) -> HubMessage {
    if hub == HubKind::Video {
        HubMessage::invocation(
            "VideoGenerationProgress",
            vec![v(json!({
                "taskId": task_id,
                "progressPercentage": pct,
                "status": "processing",
                "message": format!("Rendering: {pct}%"),
                "timestamp": timestamp,
            }))],
        )
    } else {
        HubMessage::invocation(
            "ImageGenerationProgress",
            vec![v(json!({
                "taskId": task_id,
                "progressPercentage": pct,
                "status": "processing",
                "imagesCompleted": if pct >= 100 { 1 } else { 0 },
                "totalImages": 1,
                "message": format!("Generating: {pct}%"),
                "timestamp": timestamp,
            }))],
        )
    }
}

/// Progress of the i-th (0-based) of `count` flood messages: non-decreasing, ending at 100.
pub fn flood_pct(i: u64, count: u64) -> u64 {
    ((i + 1) * 100 / count.max(1)).min(100)
}

struct ConduitFlood {
    records: Vec<Bytes>,
    count: u64,
    per: u64,
    next: u64,
    binary: bool,
}

impl Iterator for ConduitFlood {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        if self.next >= self.count {
            return None;
        }
        let n = self.per.min(self.count - self.next);
        let data = if n == 1 {
            self.records[flood_pct(self.next, self.count) as usize].clone()
        } else {
            let mut b = BytesMut::with_capacity(self.records[100].len() * n as usize + 16);
            for i in self.next..self.next + n {
                b.extend_from_slice(&self.records[flood_pct(i, self.count) as usize]);
            }
            b.freeze()
        };
        self.next += n;
        Some(Frame {
            data,
            binary: self.binary,
        })
    }
}

/// Sends `count` deployed-shape progress events for `task_id` with increasing progress.
pub fn flood_conduit(conn: &Arc<Connection>, count: u64, per_frame: u64, task_id: &str) {
    let Some(p) = conn.protocol() else { return };
    let timestamp = crate::util::now_iso();
    let hub = conn.hub;
    if conn.is_stateful() {
        for i in 0..count {
            conn.send(&conduit_progress(
                hub,
                task_id,
                flood_pct(i, count),
                &timestamp,
            ));
        }
        return;
    }
    let records: Vec<Bytes> = (0..=100)
        .map(|pct| Bytes::from(p.encode(&conduit_progress(hub, task_id, pct, &timestamp))))
        .collect();
    conn.push(Out::Gen(Box::new(ConduitFlood {
        records,
        count,
        per: per_frame.clamp(1, MAX_PER_FRAME),
        next: 0,
        binary: p.is_binary(),
    })));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_progress_is_monotonic_and_ends_at_100() {
        let count = 1234;
        let mut last = 0;
        for i in 0..count {
            let p = flood_pct(i, count);
            assert!(p >= last);
            last = p;
        }
        assert_eq!(last, 100);
        assert_eq!(flood_pct(0, 1), 100);
    }

    #[test]
    fn conduit_flood_frames_pack_records() {
        let records: Vec<Bytes> = (0..=100).map(|p| Bytes::from(format!("{p};"))).collect();
        let it = ConduitFlood {
            records,
            count: 7,
            per: 3,
            next: 0,
            binary: false,
        };
        let frames: Vec<String> = it
            .map(|f| String::from_utf8(f.data.to_vec()).unwrap())
            .collect();
        assert_eq!(frames, vec!["14;28;42;", "57;71;85;", "100;"]);
    }
}
