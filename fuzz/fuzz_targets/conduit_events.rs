//! Conduit layer: a hub event (the first byte picks its name, the rest is its arguments) mapped by either dialect
//! and applied to a task registry. Any input must give a data error or an event, never a panic; every payload the
//! registry delivers must be valid JSON, and a task's outcome is delivered at most once.
#![no_main]

use conduit_realtime::conduit::dialect::map_invocation;
use conduit_realtime::conduit::registry::Registry;
use conduit_realtime::conduit::task::TaskKind;
use conduit_realtime::protocol::json::validate_value;
use libfuzzer_sys::fuzz_target;

const TARGETS: &[&str] = &[
    "TaskProgress", "RequestProgress", "TaskCompleted", "RequestCompleted", "TaskFailed", "RequestFailed",
    "TaskCancelled", "TaskTimedOut", "TaskStarted", "ImageGenerationStarted", "ImageGenerationProgress",
    "ImageGenerationCompleted", "ImageGenerationFailed", "ImageGenerationCancelled", "VideoGenerationProgress",
    "VideoGenerationCompleted", "VideoGenerationFailed", "SomethingElse",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(arguments) = core::str::from_utf8(rest) else { return };
    let target = TARGETS[pick as usize % TARGETS.len()];
    let kind = if pick & 0x80 != 0 { Some(TaskKind::Video) } else { Some(TaskKind::Image) };
    let mut registry = Registry::new(1, u64::from(pick));
    let mut outcomes = 0;
    for now in 0..3 {
        let Ok(Some(mapped)) = map_invocation(target, arguments, kind) else { return };
        if let Some(delivery) = registry.apply(mapped.event, kind, now) {
            if let Some(json) = &delivery.json {
                assert!(validate_value(json).is_ok(), "{} payload is not JSON: {json}", delivery.name);
            }
            if delivery.name != "progress" && delivery.name != "started" {
                outcomes += 1;
            }
        }
    }
    assert!(outcomes <= 1, "an outcome was delivered {outcomes} times for {target} {arguments}");
    assert!(validate_value(&registry.snapshot_json()).is_ok());
});
