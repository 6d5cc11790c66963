//! The events a task transition sends, per hub and dialect (exact shapes in CONDUIT.md),
//! and their delivery to the task's groups.

use super::tasks::{Kind, TaskData};
use crate::app::App;
use crate::config::Dialect;
use crate::hubs::HubKind;
use crate::protocol::message::v;
use crate::protocol::HubMessage;
use crate::util::iso8601;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// A task transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEvent {
    Started,
    Progress,
    Completed,
    Failed,
    Cancelled,
}

/// The group of a task's subscribers.
pub fn task_group(task_id: &str) -> String {
    format!("task:{task_id}")
}

/// The tasks-hub group of one key's tasks of one type.
pub fn type_group(owner: &str, kind: Kind) -> String {
    format!("type:{owner}:{}", kind.name())
}

/// The task type names the tasks hub uses.
pub fn task_type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Image => "image_generation",
        Kind::Video => "video_generation",
    }
}

/// Reads a task type as clients may spell it.
pub fn parse_task_type(s: &str) -> Option<Kind> {
    let s = s.to_ascii_lowercase().replace(['-', ' '], "_");
    match s.as_str() {
        "image" | "images" | "image_generation" | "imagegeneration" => Some(Kind::Image),
        "video" | "videos" | "video_generation" | "videogeneration" => Some(Kind::Video),
        _ => None,
    }
}

/// Sends the event to every connection subscribed to the task (each in its own shape).
pub fn publish(app: &Arc<App>, task: &TaskData, ev: &TaskEvent) {
    let group = task_group(&task.id);
    let hubs: &[HubKind] = match task.kind() {
        Kind::Image => &[HubKind::Image, HubKind::Tasks],
        Kind::Video => &[HubKind::Video, HubKind::PublicVideo, HubKind::Tasks],
    };
    let mut seen = HashSet::new();
    let mut targets = Vec::new();
    for hub in hubs {
        targets.extend(app.conns.members(hub.path(), &group));
    }
    targets.extend(app.conns.members(
        HubKind::Tasks.path(),
        &type_group(&task.req.owner, task.kind()),
    ));
    for conn in targets {
        if !seen.insert(conn.token.clone()) {
            continue;
        }
        if let Some(msg) = render(conn.hub, conn.dialect, task, ev) {
            conn.send(&msg);
        }
    }
}

/// The message a connection of `hub` in `dialect` gets for `ev`, if any.
pub fn render(hub: HubKind, dialect: Dialect, t: &TaskData, ev: &TaskEvent) -> Option<HubMessage> {
    match (hub, t.kind(), dialect) {
        (HubKind::Tasks, _, _) => Some(tasks_hub(t, ev)),
        (HubKind::Image, Kind::Image, Dialect::Deployed) => Some(deployed_image(t, ev)),
        (HubKind::Image, Kind::Image, Dialect::Documented) => documented_image(t, ev),
        (HubKind::Video, Kind::Video, Dialect::Deployed)
        | (HubKind::PublicVideo, Kind::Video, _) => Some(deployed_video(t, ev)),
        (HubKind::Video, Kind::Video, Dialect::Documented) => documented_video(t, ev),
        _ => None,
    }
}

fn one(target: &str, arg: serde_json::Value) -> HubMessage {
    HubMessage::invocation(target, vec![v(arg)])
}

fn positional(target: &str, args: Vec<serde_json::Value>) -> HubMessage {
    HubMessage::invocation(target, args.into_iter().map(v).collect())
}

fn at(ms: Option<u64>, fallback: u64) -> String {
    iso8601(ms.unwrap_or(fallback))
}

fn deployed_image(t: &TaskData, ev: &TaskEvent) -> HubMessage {
    let n = t.req.n.max(1);
    match ev {
        TaskEvent::Started => one(
            "ImageGenerationStarted",
            json!({
                "taskId": t.id,
                "prompt": t.req.prompt,
                "numberOfImages": n,
                "size": t.req.size,
                "style": t.req.style,
                "startedAt": at(t.started_ms, t.updated_ms),
            }),
        ),
        TaskEvent::Progress => one(
            "ImageGenerationProgress",
            json!({
                "taskId": t.id,
                "progressPercentage": t.progress,
                "status": "processing",
                "imagesCompleted": t.progress * n / 100,
                "totalImages": n,
                "message": t.message,
                "timestamp": iso8601(t.updated_ms),
            }),
        ),
        TaskEvent::Completed => one(
            "ImageGenerationCompleted",
            json!({
                "taskId": t.id,
                "imageUrls": t.image_urls(),
                "durationSeconds": t.duration_secs(),
                "cost": t.cost(),
                "completedAt": at(t.completed_ms, t.updated_ms),
            }),
        ),
        TaskEvent::Failed => one(
            "ImageGenerationFailed",
            json!({
                "taskId": t.id,
                "error": t.error,
                "isRetryable": t.retryable,
                "failedAt": at(t.completed_ms, t.updated_ms),
            }),
        ),
        TaskEvent::Cancelled => one(
            "ImageGenerationCancelled",
            json!({
                "taskId": t.id,
                "reason": t.cancel_reason,
                "cancelledAt": at(t.completed_ms, t.updated_ms),
            }),
        ),
    }
}

fn documented_image(t: &TaskData, ev: &TaskEvent) -> Option<HubMessage> {
    Some(match ev {
        TaskEvent::Started => return None,
        TaskEvent::Progress => positional("TaskProgress", vec![json!(t.id), json!(t.progress)]),
        TaskEvent::Completed => {
            let urls = t.image_urls();
            positional(
                "TaskCompleted",
                vec![
                    json!(t.id),
                    json!({
                        "image_url": urls.first(),
                        "metadata": {
                            "images": urls,
                            "model": t.req.model,
                            "prompt": t.req.prompt,
                            "size": t.req.size,
                            "cost": t.cost(),
                            "duration_seconds": t.duration_secs(),
                        },
                    }),
                ],
            )
        }
        TaskEvent::Failed => positional("TaskFailed", vec![json!(t.id), json!(t.error)]),
        TaskEvent::Cancelled => {
            positional("TaskCancelled", vec![json!(t.id), json!(t.cancel_reason)])
        }
    })
}

/// Frames of the simulated video.
pub fn total_frames(t: &TaskData) -> u64 {
    (t.req.duration_secs * t.req.fps as f64).round() as u64
}

fn deployed_video(t: &TaskData, ev: &TaskEvent) -> HubMessage {
    match ev {
        TaskEvent::Started => one(
            "VideoGenerationStarted",
            json!({
                "taskId": t.id,
                "provider": t.provider(),
                "startedAt": at(t.started_ms, t.updated_ms),
                "estimatedSeconds": super::tasks::plan(Kind::Video, &t.req.prompt, 1.0, t.attempt).total().as_secs_f64().ceil(),
            }),
        ),
        // Two senders in the deployed server use two shapes: alternate so clients handle both.
        TaskEvent::Progress if t.progress_events % 2 == 1 => one(
            "VideoGenerationProgress",
            json!({
                "taskId": t.id,
                "progressPercentage": t.progress,
                "status": "processing",
                "message": t.message,
                "timestamp": iso8601(t.updated_ms),
            }),
        ),
        TaskEvent::Progress => {
            let total = total_frames(t);
            one(
                "VideoGenerationProgress",
                json!({
                    "taskId": t.id,
                    "status": "processing",
                    "progress": t.progress,
                    "message": t.message,
                    "framesCompleted": total * t.progress as u64 / 100,
                    "totalFrames": total,
                    "timestamp": iso8601(t.updated_ms),
                }),
            )
        }
        TaskEvent::Completed if t.rich_completion() => one(
            "VideoGenerationCompleted",
            json!({
                "taskId": t.id,
                "status": "completed",
                "videoUrl": t.video_url(),
                "previewUrl": t.poster_url(),
                "duration": t.req.duration_secs,
                "resolution": t.req.size,
                "fileSize": super::media::SAMPLE_WEBM.len(),
                "cost": t.cost(),
                "provider": t.provider(),
                "model": t.req.model,
                "completedAt": at(t.completed_ms, t.updated_ms),
                "generationDuration": t.duration_secs(),
            }),
        ),
        TaskEvent::Completed => one(
            "VideoGenerationCompleted",
            json!({
                "taskId": t.id,
                "videoUrl": t.video_url(),
                "durationSeconds": t.duration_secs(),
                "cost": t.cost(),
                "completedAt": at(t.completed_ms, t.updated_ms),
            }),
        ),
        TaskEvent::Failed => one(
            "VideoGenerationFailed",
            json!({
                "taskId": t.id,
                "error": t.error,
                "isRetryable": t.retryable,
                "failedAt": at(t.completed_ms, t.updated_ms),
            }),
        ),
        TaskEvent::Cancelled => one(
            "VideoGenerationCancelled",
            json!({
                "taskId": t.id,
                "reason": t.cancel_reason,
                "cancelledAt": at(t.completed_ms, t.updated_ms),
            }),
        ),
    }
}

fn documented_video(t: &TaskData, ev: &TaskEvent) -> Option<HubMessage> {
    Some(match ev {
        TaskEvent::Started => return None,
        TaskEvent::Progress => positional("RequestProgress", vec![json!(t.id), json!(t.progress)]),
        TaskEvent::Completed => positional(
            "RequestCompleted",
            vec![
                json!(t.id),
                json!({
                    "video_url": t.video_url(),
                    "metadata": {
                        "preview_url": t.poster_url(),
                        "duration": t.req.duration_secs,
                        "resolution": t.req.size,
                        "model": t.req.model,
                        "cost": t.cost(),
                    },
                }),
            ],
        ),
        TaskEvent::Failed => positional("RequestFailed", vec![json!(t.id), json!(t.error)]),
        TaskEvent::Cancelled => positional(
            "RequestCancelled",
            vec![json!(t.id), json!(t.cancel_reason)],
        ),
    })
}

/// The task's result object as the generic task API and the tasks hub report it.
pub fn result_object(t: &TaskData) -> serde_json::Value {
    match t.kind() {
        Kind::Image => json!({
            "imageUrls": t.image_urls(),
            "images": t.image_urls().iter().map(|u| json!({"url": u, "revisedPrompt": t.req.prompt})).collect::<Vec<_>>(),
            "model": t.req.model,
            "cost": t.cost(),
            "durationSeconds": t.duration_secs(),
        }),
        Kind::Video => json!({
            "videoUrl": t.video_url(),
            "previewUrl": t.poster_url(),
            "duration": t.req.duration_secs,
            "resolution": t.req.size,
            "model": t.req.model,
            "cost": t.cost(),
        }),
    }
}

fn tasks_hub(t: &TaskData, ev: &TaskEvent) -> HubMessage {
    match ev {
        TaskEvent::Started => positional(
            "TaskStarted",
            vec![
                json!(t.id),
                json!(task_type_name(t.kind())),
                json!({"prompt": t.req.prompt, "model": t.req.model, "attempt": t.attempt}),
            ],
        ),
        TaskEvent::Progress => positional(
            "TaskProgress",
            vec![json!(t.id), json!(t.progress), json!(t.message)],
        ),
        TaskEvent::Completed => positional("TaskCompleted", vec![json!(t.id), result_object(t)]),
        TaskEvent::Failed => positional(
            "TaskFailed",
            vec![json!(t.id), json!(t.error), json!(t.retryable)],
        ),
        TaskEvent::Cancelled => {
            positional("TaskCancelled", vec![json!(t.id), json!(t.cancel_reason)])
        }
    }
}
