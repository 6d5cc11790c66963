//! Both Conduit dialects mapped onto one set of task events: the documented one (positional `Task*` and
//! `Request*` events) and the deployed one (one camelCase object per `*Generation*` event, in both video
//! shapes), plus the tasks hub's positional events. Server data is checked here: ids must be strings,
//! progress is clamped to 0-100, and only safe URLs pass.

use super::json::{self, opt_boolean, opt_number, opt_string, present, Fields};
use super::task::{is_safe_url, Outcome, Progress, TaskEvent, TaskKind};
use crate::protocol::ProtocolError;

/// A mapped event and the problems found in it (each becomes an `error` event).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The event.
    pub event: TaskEvent,
    /// Data that was dropped, with why.
    pub problems: Vec<String>,
}

/// Why a server event could not be understood.
pub type DataError = String;

fn bad(target: &str, e: ProtocolError) -> DataError {
    format!("Invalid {target} event from the server: {e}")
}

/// Maps a hub invocation to a task event; `Ok(None)` for targets that are not task events.
pub fn map_invocation(target: &str, arguments: &str, hub: Option<TaskKind>) -> Result<Option<Mapped>, DataError> {
    let kind = match target {
        "TaskProgress" | "RequestProgress" | "TaskCompleted" | "RequestCompleted" | "TaskFailed" | "RequestFailed"
        | "TaskCancelled" | "TaskTimedOut" | "TaskStarted" => Shape::Positional,
        t if t.starts_with("ImageGeneration") || t.starts_with("VideoGeneration") => Shape::Object,
        _ => return Ok(None),
    };
    let mut problems = Vec::new();
    let event = match kind {
        Shape::Positional => json::elements(arguments).and_then(|args| positional(target, &args, hub, &mut problems)),
        Shape::Object => object(target, arguments, &mut problems),
    }
    .map_err(|e| bad(target, e))?;
    Ok(event.map(|event| Mapped { event, problems }))
}

enum Shape {
    Positional,
    Object,
}

fn task_id(raw: Option<&&str>) -> Result<String, ProtocolError> {
    let raw = raw.ok_or(ProtocolError::MissingField("taskId"))?;
    let id = json::string(raw, "taskId")?;
    if id.is_empty() {
        return Err(ProtocolError::MissingField("taskId"));
    }
    Ok(id.into_owned())
}

fn percent(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 100.0)
    }
}

fn safe(url: String, field: &str, problems: &mut Vec<String>) -> Option<String> {
    if is_safe_url(&url) {
        Some(url)
    } else {
        problems.push(format!("Dropped {field} with an unsafe URL scheme."));
        None
    }
}

fn positional(target: &str, args: &[&str], hub: Option<TaskKind>, problems: &mut Vec<String>) -> Result<Option<TaskEvent>, ProtocolError> {
    let task_id = task_id(args.first())?;
    let arg = |i: usize| args.get(i).copied().filter(|a| *a != "null");
    Ok(Some(match target {
        "TaskProgress" | "RequestProgress" => {
            let value = json::number(arg(1).ok_or(ProtocolError::MissingField("progress"))?, "progress")?;
            let message = arg(2).map(|m| json::string(m, "message")).transpose()?.map(|m| m.into_owned());
            TaskEvent::Progress { task_id, progress: Progress { percent: percent(value), message, ..Progress::default() } }
        }
        "TaskCompleted" | "RequestCompleted" => {
            let hub = if target == "RequestCompleted" { Some(TaskKind::Video) } else { hub };
            TaskEvent::Completed { task_id, outcome: result_outcome(arg(1), hub, problems)? }
        }
        "TaskFailed" | "RequestFailed" => {
            let error = match arg(1) {
                Some(raw) if raw.starts_with('"') => json::string(raw, "error")?.into_owned(),
                Some(raw) => Fields::read(raw, &["message", "error"])
                    .ok()
                    .and_then(|f| f.string("message").ok().flatten().or_else(|| f.string("error").ok().flatten()))
                    .map(|m| m.into_owned())
                    .ok_or(ProtocolError::WrongType("error"))?,
                None => "The task failed.".to_string(),
            };
            let is_retryable = match arg(2) {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            };
            TaskEvent::Failed { task_id, error, is_retryable }
        }
        "TaskCancelled" => {
            let reason = arg(1).filter(|r| r.starts_with('"')).map(|r| json::string(r, "reason")).transpose()?;
            TaskEvent::Cancelled { task_id, reason: reason.map(|r| r.into_owned()) }
        }
        "TaskTimedOut" => {
            let seconds = arg(1).filter(|s| json::number(s, "timeoutSeconds").is_ok());
            let error = match seconds {
                Some(s) => format!("The task timed out after {s} seconds."),
                None => "The task timed out.".to_string(),
            };
            TaskEvent::Failed { task_id, error, is_retryable: Some(true) }
        }
        _ => TaskEvent::Started { task_id, estimated_seconds: None },
    }))
}

/// The documented `{image_url, video_url, metadata}` result, or a bare URL string.
fn result_outcome(raw: Option<&str>, hub: Option<TaskKind>, problems: &mut Vec<String>) -> Result<Outcome, ProtocolError> {
    let mut outcome = Outcome::default();
    let Some(raw) = raw else { return Ok(outcome) };
    if raw.starts_with('"') {
        let url = json::string(raw, "result")?.into_owned();
        if let Some(url) = safe(url, "result", problems) {
            match hub {
                Some(TaskKind::Video) => outcome.video_url = Some(url),
                _ => outcome.image_urls.push(url),
            }
        }
        return Ok(outcome);
    }
    let f = Fields::read(raw, &["image_url", "video_url", "metadata", "imageUrls", "videoUrl", "images", "cost"])?;
    if let Some(url) = f.string("image_url")? {
        outcome.image_urls.extend(safe(url.into_owned(), "image_url", problems));
    }
    urls(f.raw("imageUrls"), "imageUrls", &mut outcome.image_urls, problems)?;
    if let Some(images) = f.raw("images") {
        for image in json::elements(images)? {
            if let Ok(fields) = Fields::read(image, &["url"]) {
                if let Some(url) = fields.string("url")? {
                    outcome.image_urls.extend(safe(url.into_owned(), "images[].url", problems));
                }
            }
        }
    }
    let video = f.string("video_url")?.or(f.string("videoUrl")?);
    outcome.video_url = video.and_then(|u| safe(u.into_owned(), "video_url", problems));
    outcome.metadata = f.raw("metadata").map(str::to_string);
    outcome.cost = f.number("cost").ok().flatten();
    Ok(outcome)
}

fn urls(raw: Option<&str>, field: &str, into: &mut Vec<String>, problems: &mut Vec<String>) -> Result<(), ProtocolError> {
    if let Some(list) = raw {
        for item in json::elements(list)? {
            into.extend(safe(json::string(item, "imageUrls")?.into_owned(), field, problems));
        }
    }
    Ok(())
}

/// The raw fields of a deployed `*Generation*` event object that the mapping reads (the first of each).
#[derive(Default)]
struct Generation<'a> {
    task_id: Option<&'a str>,
    progress_percentage: Option<&'a str>,
    progress: Option<&'a str>,
    status: Option<&'a str>,
    message: Option<&'a str>,
    images_completed: Option<&'a str>,
    total_images: Option<&'a str>,
    frames_completed: Option<&'a str>,
    total_frames: Option<&'a str>,
    image_urls: Option<&'a str>,
    video_url: Option<&'a str>,
    preview_url: Option<&'a str>,
    duration_seconds: Option<&'a str>,
    generation_duration: Option<&'a str>,
    cost: Option<&'a str>,
    error: Option<&'a str>,
    is_retryable: Option<&'a str>,
    reason: Option<&'a str>,
    estimated_seconds: Option<&'a str>,
}

impl<'a> Generation<'a> {
    fn slot(&mut self, key: &str) -> Option<&mut Option<&'a str>> {
        Some(match key {
            "taskId" => &mut self.task_id,
            "progressPercentage" => &mut self.progress_percentage,
            "progress" => &mut self.progress,
            "status" => &mut self.status,
            "message" => &mut self.message,
            "imagesCompleted" => &mut self.images_completed,
            "totalImages" => &mut self.total_images,
            "framesCompleted" => &mut self.frames_completed,
            "totalFrames" => &mut self.total_frames,
            "imageUrls" => &mut self.image_urls,
            "videoUrl" => &mut self.video_url,
            "previewUrl" => &mut self.preview_url,
            "durationSeconds" => &mut self.duration_seconds,
            "generationDuration" => &mut self.generation_duration,
            "cost" => &mut self.cost,
            "error" => &mut self.error,
            "isRetryable" => &mut self.is_retryable,
            "reason" => &mut self.reason,
            "estimatedSeconds" => &mut self.estimated_seconds,
            _ => return None,
        })
    }
}

fn object(target: &str, arguments: &str, problems: &mut Vec<String>) -> Result<Option<TaskEvent>, ProtocolError> {
    let mut f = Generation::default();
    let text = json::first_object(arguments, |key, value| {
        if let Some(slot) = f.slot(key) {
            slot.get_or_insert(value);
        }
    })?
    .ok_or(ProtocolError::MissingField("event"))?;
    let task_id = task_id(present(f.task_id).as_ref())?;
    let owned = |s: Option<std::borrow::Cow<'_, str>>| s.map(|s| s.into_owned());
    let suffix = target.strip_prefix("ImageGeneration").or_else(|| target.strip_prefix("VideoGeneration")).unwrap_or(target);
    Ok(Some(match suffix {
        "Started" => TaskEvent::Started { task_id, estimated_seconds: opt_number(f.estimated_seconds, "estimatedSeconds")? },
        "Progress" => {
            let value = opt_number(f.progress_percentage, "progressPercentage")?.or(opt_number(f.progress, "progress")?).unwrap_or(0.0);
            TaskEvent::Progress {
                task_id,
                progress: Progress {
                    percent: percent(value),
                    status: owned(opt_string(f.status, "status")?),
                    message: owned(opt_string(f.message, "message")?),
                    images_completed: opt_number(f.images_completed, "imagesCompleted")?,
                    total_images: opt_number(f.total_images, "totalImages")?,
                    frames_completed: opt_number(f.frames_completed, "framesCompleted")?,
                    total_frames: opt_number(f.total_frames, "totalFrames")?,
                },
            }
        }
        "Completed" => {
            let mut outcome = Outcome::default();
            urls(present(f.image_urls), "imageUrls", &mut outcome.image_urls, problems)?;
            outcome.video_url = opt_string(f.video_url, "videoUrl")?.and_then(|u| safe(u.into_owned(), "videoUrl", problems));
            outcome.preview_url = opt_string(f.preview_url, "previewUrl")?.and_then(|u| safe(u.into_owned(), "previewUrl", problems));
            outcome.cost = opt_number(f.cost, "cost")?;
            outcome.duration_seconds = opt_number(f.duration_seconds, "durationSeconds")?.or(opt_number(f.generation_duration, "generationDuration")?);
            outcome.metadata = Some(text.to_string());
            TaskEvent::Completed { task_id, outcome }
        }
        "Failed" => TaskEvent::Failed {
            task_id,
            error: opt_string(f.error, "error")?.map_or_else(|| "The task failed.".to_string(), |e| e.into_owned()),
            is_retryable: opt_boolean(f.is_retryable, "isRetryable")?,
        },
        "Cancelled" => TaskEvent::Cancelled { task_id, reason: owned(opt_string(f.reason, "reason")?) },
        _ => return Ok(None),
    }))
}

/// The hub methods to subscribe to a task: the documented `*Request` names on the video hub first.
pub fn subscribe_methods(kind: TaskKind) -> (&'static str, Option<&'static str>) {
    match kind {
        TaskKind::Image => ("SubscribeToTask", None),
        TaskKind::Video => ("SubscribeToRequest", Some("SubscribeToTask")),
    }
}

/// The hub methods to unsubscribe, in the same order as [`subscribe_methods`].
pub fn unsubscribe_methods(kind: TaskKind) -> (&'static str, Option<&'static str>) {
    match kind {
        TaskKind::Image => ("UnsubscribeFromTask", None),
        TaskKind::Video => ("UnsubscribeFromRequest", Some("UnsubscribeFromTask")),
    }
}

/// Whether a hub error means the method does not exist on this server (so the fallback applies).
pub fn is_missing_method(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    lower.contains("method does not exist") || lower.contains("unknown hub method") || lower.contains("does not exist")
}
