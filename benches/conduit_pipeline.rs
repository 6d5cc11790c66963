//! The per-record cost of the no-I/O layers on the Conduit progress path, natively and deterministically (the
//! browser benchmarks are noisy): frames of 50 deployed-shape progress records go through the connection, the
//! dialect mapping and the task registry, as `ConduitRealtimeClient` does between a socket message and the JS call.
//! Run with `cargo bench --bench conduit_pipeline`; not part of the test command.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Instant;

use conduit_realtime::conduit::dialect::map_invocation;
use conduit_realtime::conduit::registry::Registry;
use conduit_realtime::conduit::task::TaskKind;
use conduit_realtime::connection::{Config, Event};
use support::{Driver, HUB};

const PER_FRAME: usize = 50;
const FRAMES: usize = 4_000;

fn frame(tasks: usize, percent: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..PER_FRAME {
        let task = i % tasks;
        out.extend_from_slice(format!(
            r#"{{"type":1,"target":"ImageGenerationProgress","arguments":[{{"taskId":"bench-task-{task:04}","progressPercentage":{percent},"status":"processing","imagesCompleted":0,"totalImages":1,"message":"Generating: {percent}%","timestamp":"2026-12-02T13:00:00Z"}}]}}"#
        ).as_bytes());
        out.push(0x1e);
    }
    out
}

/// Nanoseconds per record, the best of five runs of `FRAMES` frames, for each stage added in turn.
fn run(stage: u8, tasks: usize) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut d = Driver::new(Config::new(HUB));
        d.conn.start(d.now).unwrap();
        let g = d.connect("bench", false);
        let mut registry = Registry::new(500, 0);
        for t in 0..tasks {
            registry.track(&format!("bench-task-{t:04}"), Some(TaskKind::Image), d.now);
        }
        let frames: Vec<Vec<u8>> = (0..100).map(|p| frame(tasks, p)).collect();
        let started = Instant::now();
        for n in 0..FRAMES {
            let data = &frames[n * 100 / FRAMES];
            let text = core::str::from_utf8(data).unwrap();
            d.conn.received_frame(d.now, g, data, n as u32);
            while let Some(event) = d.conn.poll_event() {
                let Event::Invocation { target, arguments, .. } = event else { continue };
                if stage == 0 {
                    black_box(&arguments);
                    continue;
                }
                let text = arguments.text(Some((n as u32, text))).unwrap();
                let mapped = map_invocation(&target, text, Some(TaskKind::Image)).unwrap().unwrap();
                if stage == 1 {
                    black_box(mapped);
                    continue;
                }
                black_box(registry.apply(mapped.event, Some(TaskKind::Image), d.now));
            }
        }
        best = best.min(started.elapsed().as_nanos() as f64 / (FRAMES * PER_FRAME) as f64);
    }
    best
}

fn main() {
    let stages = ["connection (records to events)", "+ dialect mapping", "+ task registry"];
    for tasks in [1, 50] {
        for (stage, name) in stages.iter().enumerate() {
            println!("{tasks:>2} task(s)  {name:<32} {:>7.1} ns/record", run(stage as u8, tasks));
        }
    }
}
