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

/// The deployed-shape completion event of a flood.
pub fn conduit_completed(hub: HubKind, task_id: &str, timestamp: &str) -> HubMessage {
    if hub == HubKind::Video {
        HubMessage::invocation(
            "VideoGenerationCompleted",
            vec![v(json!({
                "taskId": task_id,
                "videoUrl": format!("https://example.invalid/{task_id}.mp4"),
                "durationSeconds": 1.5,
                "cost": 0.1,
                "completedAt": timestamp,
            }))],
        )
    } else {
        HubMessage::invocation(
            "ImageGenerationCompleted",
            vec![v(json!({
                "taskId": task_id,
                "imageUrls": [format!("https://example.invalid/{task_id}.png")],
                "durationSeconds": 1.5,
                "cost": 0.04,
                "completedAt": timestamp,
            }))],
        )
    }
}

/// A flood of deployed-shape events for many tasks (`POST /_dev/flood`): `count` progress events
/// round-robin over `ids` (progress rising to 100 per task, or fixed at `pct`), then, with
/// `complete`, one completion per task.
#[derive(Debug, Clone)]
pub struct TaskFlood {
    pub ids: Vec<String>,
    pub count: u64,
    pub per_frame: u64,
    pub pct: Option<u64>,
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ev {
    Progress(usize, u64),
    Completed(usize),
}

impl TaskFlood {
    fn event(&self, i: u64) -> Ev {
        let n = self.ids.len().max(1) as u64;
        if i < self.count {
            let rounds = self.count.div_ceil(n);
            let pct = self
                .pct
                .unwrap_or_else(|| flood_pct(i / n, rounds))
                .min(100);
            Ev::Progress((i % n) as usize, pct)
        } else {
            Ev::Completed((i - self.count) as usize)
        }
    }

    fn total(&self) -> u64 {
        self.count
            + if self.complete {
                self.ids.len() as u64
            } else {
                0
            }
    }
}

/// Encodes flood events: from templates encoded once with a placeholder id whose bytes are then
/// overwritten (ids of one length, nothing to escape), or message by message when that cannot hold.
struct Encoder {
    protocol: crate::protocol::Protocol,
    hub: HubKind,
    timestamp: String,
    /// (record, offsets of the id) per progress percentage 0..=100, then the completion.
    templates: Option<Vec<(Vec<u8>, Vec<usize>)>>,
}

fn offsets(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut at = Vec::new();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        if &hay[i..i + needle.len()] == needle {
            at.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    at
}

impl Encoder {
    fn new(protocol: crate::protocol::Protocol, hub: HubKind, ids: &[String]) -> Encoder {
        let timestamp = crate::util::now_iso();
        let mut e = Encoder {
            protocol,
            hub,
            timestamp,
            templates: None,
        };
        let len = ids.first().map_or(0, String::len);
        let plain = |id: &String| {
            id.len() == len
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if len > 0 && ids.iter().all(plain) {
            let placeholder = "~".repeat(len);
            let msgs = (0..=100)
                .map(|pct| conduit_progress(hub, &placeholder, pct, &e.timestamp))
                .chain(std::iter::once(conduit_completed(
                    hub,
                    &placeholder,
                    &e.timestamp,
                )));
            e.templates = Some(
                msgs.map(|m| {
                    let record = protocol.encode(&m);
                    let at = offsets(&record, placeholder.as_bytes());
                    (record, at)
                })
                .collect(),
            );
        }
        e
    }

    fn message(&self, ids: &[String], ev: Ev) -> HubMessage {
        match ev {
            Ev::Progress(i, pct) => conduit_progress(self.hub, &ids[i], pct, &self.timestamp),
            Ev::Completed(i) => conduit_completed(self.hub, &ids[i], &self.timestamp),
        }
    }

    fn write(&self, ids: &[String], ev: Ev, out: &mut Vec<u8>) {
        let Some(templates) = &self.templates else {
            self.protocol.encode_into(&self.message(ids, ev), out);
            return;
        };
        let (i, (record, at)) = match ev {
            Ev::Progress(i, pct) => (i, &templates[pct as usize]),
            Ev::Completed(i) => (i, &templates[101]),
        };
        let (start, id) = (out.len(), ids[i].as_bytes());
        out.extend_from_slice(record);
        for &o in at {
            out[start + o..start + o + id.len()].copy_from_slice(id);
        }
    }
}

struct TaskFloodFrames {
    flood: TaskFlood,
    encoder: Encoder,
    next: u64,
    binary: bool,
}

impl Iterator for TaskFloodFrames {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        let total = self.flood.total();
        if self.next >= total {
            return None;
        }
        let end = (self.next + self.flood.per_frame.clamp(1, MAX_PER_FRAME)).min(total);
        let mut data = Vec::with_capacity((end - self.next) as usize * 256);
        for i in self.next..end {
            self.encoder
                .write(&self.flood.ids, self.flood.event(i), &mut data);
        }
        self.next = end;
        Some(Frame {
            data: Bytes::from(data),
            binary: self.binary,
        })
    }
}

/// Sends a task flood to one connection; false when it has no protocol yet or no ids were given.
pub fn flood_tasks(conn: &Arc<Connection>, flood: TaskFlood) -> bool {
    let Some(p) = conn.protocol() else {
        return false;
    };
    if flood.ids.is_empty() {
        return false;
    }
    if conn.is_stateful() {
        let encoder = Encoder {
            protocol: p,
            hub: conn.hub,
            timestamp: crate::util::now_iso(),
            templates: None,
        };
        for i in 0..flood.total() {
            conn.send(&encoder.message(&flood.ids, flood.event(i)));
        }
        return true;
    }
    let encoder = Encoder::new(p, conn.hub, &flood.ids);
    conn.push(Out::Gen(Box::new(TaskFloodFrames {
        flood,
        encoder,
        next: 0,
        binary: p.is_binary(),
    })))
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

    fn flood_of(ids: &[&str], count: u64, per_frame: u64) -> TaskFlood {
        let ids = ids.iter().map(|s| s.to_string()).collect();
        TaskFlood {
            ids,
            count,
            per_frame,
            pct: None,
            complete: true,
        }
    }

    /// The frames of a flood, and the same events encoded one by one by the codec.
    fn frames_and_codec(
        flood: TaskFlood,
        p: crate::protocol::Protocol,
    ) -> (Vec<String>, String, bool) {
        let encoder = Encoder::new(p, HubKind::Image, &flood.ids);
        let templated = encoder.templates.is_some();
        let codec: Vec<u8> = (0..flood.total())
            .flat_map(|i| p.encode(&encoder.message(&flood.ids, flood.event(i))))
            .collect();
        let frames = TaskFloodFrames {
            flood,
            encoder,
            next: 0,
            binary: p.is_binary(),
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (
            frames.map(|f| text(&f.data)).collect(),
            text(&codec),
            templated,
        )
    }

    #[test]
    fn task_flood_is_round_robin_and_completes_every_task() {
        let flood = TaskFlood {
            ids: vec!["a".into(), "b".into()],
            count: 5,
            per_frame: 2,
            pct: None,
            complete: true,
        };
        let events: Vec<Ev> = (0..flood.total()).map(|i| flood.event(i)).collect();
        use Ev::*;
        assert_eq!(
            events,
            vec![
                Progress(0, 33),
                Progress(1, 33),
                Progress(0, 66),
                Progress(1, 66),
                Progress(0, 100),
                Completed(0),
                Completed(1)
            ]
        );
        let fixed = TaskFlood {
            pct: Some(50),
            ..flood
        };
        assert_eq!(fixed.event(4), Progress(0, 50));
    }

    #[test]
    fn task_flood_templates_encode_like_the_codec() {
        use crate::protocol::Protocol;
        for p in [Protocol::Json, Protocol::MessagePack] {
            let (frames, codec, templated) =
                frames_and_codec(flood_of(&["task-0001", "task-0002", "task-0003"], 7, 3), p);
            assert!(templated, "{p:?}: ids of one length use templates");
            assert_eq!(frames.len(), 4, "{p:?}: 10 events, 3 per frame");
            assert_eq!(frames.concat(), codec, "{p:?}");
        }
        // Ids of different lengths are encoded one by one.
        let (frames, codec, templated) =
            frames_and_codec(flood_of(&["a", "bb"], 2, 10), Protocol::Json);
        assert!(!templated);
        assert_eq!(frames.concat(), codec);
        assert!(
            codec.contains(r#""taskId":"a""#) && codec.contains(r#""taskId":"bb""#),
            "{codec}"
        );
    }
}
