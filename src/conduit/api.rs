//! Conduit's HTTP API without the I/O: endpoint URLs, reading the create and status answers of both
//! dialects, and turning any error answer (OpenAI-style JSON, ProblemDetails, a proxy's HTML or text) into a
//! typed error.

use super::json::{self, Fields, ObjectWriter};
use super::task::{is_safe_url, Outcome, Progress, TaskEvent, TaskKind, TaskStatus};
use crate::connection::url::encode_component;

/// The generation endpoint of a kind.
pub fn generation_url(base: &str, kind: TaskKind) -> String {
    match kind {
        TaskKind::Image => format!("{base}/v1/images/generations/async"),
        TaskKind::Video => format!("{base}/v1/videos/generations/async"),
    }
}

fn with_id(prefix: String, id: &str, suffix: &str) -> String {
    let mut url = prefix;
    encode_component(&mut url, id);
    url.push_str(suffix);
    url
}

/// The status endpoint of a task.
pub fn status_url(base: &str, kind: TaskKind, id: &str) -> String {
    match kind {
        TaskKind::Image => with_id(format!("{base}/v1/images/generations/"), id, "/status"),
        TaskKind::Video => with_id(format!("{base}/v1/videos/generations/tasks/"), id, ""),
    }
}

/// The cancel endpoint of a task (`DELETE`).
pub fn cancel_url(base: &str, kind: TaskKind, id: &str) -> String {
    match kind {
        TaskKind::Image => with_id(format!("{base}/v1/images/generations/"), id, ""),
        TaskKind::Video => with_id(format!("{base}/v1/videos/generations/"), id, ""),
    }
}

/// Checks and normalises a base URL: absolute http(s), no trailing slash.
pub fn normalize_base_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    if !crate::connection::url::is_http(trimmed) || trimmed.contains(['?', '#']) {
        return Err("baseUrl must be an absolute http:// or https:// URL without a query or fragment.".into());
    }
    Ok(trimmed.to_string())
}

/// The task id in a 202 answer: `task_id`, `taskId` or `request_id`.
pub fn parse_created(body: &[u8]) -> Result<String, String> {
    let text = core::str::from_utf8(body).map_err(|_| "The server's answer is not UTF-8 text.".to_string())?;
    let f = Fields::read(text, &["task_id", "taskId", "request_id", "requestId", "id"])
        .map_err(|e| format!("The server's answer is not a JSON object: {e}"))?;
    for name in ["task_id", "taskId", "request_id", "requestId", "id"] {
        match f.string(name) {
            Ok(Some(id)) if !id.is_empty() => return Ok(id.into_owned()),
            Ok(_) => {}
            Err(_) => return Err(format!("The server's answer has a {name} that is not a string.")),
        }
    }
    Err("The server's answer has no task id (task_id, taskId or request_id).".into())
}

/// A task's status read over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    /// Where the task is.
    pub status: TaskStatus,
    /// What to apply to the registry.
    pub event: TaskEvent,
    /// The normalised status object for `getTaskStatus`.
    pub json: String,
}

/// Reads a status answer of either kind and dialect.
pub fn parse_status(body: &[u8], kind: TaskKind, id: &str) -> Result<StatusReport, String> {
    let text = core::str::from_utf8(body).map_err(|_| "The status answer is not UTF-8 text.".to_string())?;
    let f = Fields::read(text, &["status", "progress", "result", "error", "videoResponse", "message"])
        .map_err(|e| format!("The status answer is not a JSON object: {e}"))?;
    let bad = |e: crate::protocol::ProtocolError| format!("Invalid status answer: {e}");
    let word = f.string("status").map_err(bad)?.map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    let progress = f.number("progress").map_err(bad)?.unwrap_or(0.0).clamp(0.0, 100.0);
    let error = match f.raw("error") {
        Some(raw) if raw.starts_with('"') => Some(json::string(raw, "error").map_err(bad)?.into_owned()),
        Some(raw) => Fields::read(raw, &["message"]).ok().and_then(|e| e.string("message").ok().flatten()).map(|m| m.into_owned()),
        None => None,
    };
    let mut problems = Vec::new();
    let outcome = match kind {
        TaskKind::Image => image_result(f.raw("result"), &mut problems),
        TaskKind::Video => video_result(f.raw("result"), f.raw("videoResponse"), &mut problems),
    };
    let task_id = id.to_string();
    let (status, event) = match word.as_str() {
        "completed" | "succeeded" => (TaskStatus::Completed, TaskEvent::Completed { task_id, outcome: outcome.clone() }),
        "failed" => (
            TaskStatus::Failed,
            TaskEvent::Failed { task_id, error: error.clone().unwrap_or_else(|| "The task failed.".into()), is_retryable: None },
        ),
        "timedout" | "timed_out" => (
            TaskStatus::Failed,
            TaskEvent::Failed { task_id, error: error.clone().unwrap_or_else(|| "The task timed out.".into()), is_retryable: Some(true) },
        ),
        "cancelled" | "canceled" => (TaskStatus::Cancelled, TaskEvent::Cancelled { task_id, reason: None }),
        "pending" | "queued" => (
            TaskStatus::Pending,
            TaskEvent::Progress { task_id, progress: Progress { percent: progress, status: Some(word.clone()), ..Progress::default() } },
        ),
        _ => (
            TaskStatus::InProgress,
            TaskEvent::Progress { task_id, progress: Progress { percent: progress, status: Some(word.clone()), ..Progress::default() } },
        ),
    };
    let mut w = ObjectWriter::new();
    w.string("taskId", id)
        .string("taskType", kind.name())
        .string("status", status.name())
        .string("serverStatus", &word)
        .number("progress", if status == TaskStatus::Completed { 100.0 } else { progress })
        .opt_string("error", error.as_deref());
    if status == TaskStatus::Completed {
        w.opt_string("imageUrl", outcome.image_urls.first().map(String::as_str))
            .strings("imageUrls", &outcome.image_urls)
            .opt_string("videoUrl", outcome.video_url.as_deref())
            .opt_string("previewUrl", outcome.preview_url.as_deref())
            .opt_number("cost", outcome.cost)
            .opt_number("durationSeconds", outcome.duration_seconds);
    }
    Ok(StatusReport { status, event, json: w.finish() })
}

fn image_result(raw: Option<&str>, problems: &mut Vec<String>) -> Outcome {
    let mut outcome = Outcome::default();
    let Some(f) = raw.and_then(|r| Fields::read(r, &["images", "duration", "cost"]).ok()) else { return outcome };
    if let Some(images) = f.raw("images").and_then(|i| json::elements(i).ok()) {
        for image in images {
            let url = Fields::read(image, &["url"]).ok().and_then(|u| u.string("url").ok().flatten());
            if let Some(url) = url {
                if is_safe_url(&url) {
                    outcome.image_urls.push(url.into_owned());
                } else {
                    problems.push("Dropped an image URL with an unsafe scheme.".into());
                }
            }
        }
    }
    outcome.cost = f.number("cost").ok().flatten();
    outcome.duration_seconds = f.number("duration").ok().flatten();
    outcome
}

fn video_result(result: Option<&str>, response: Option<&str>, problems: &mut Vec<String>) -> Outcome {
    let mut outcome = Outcome::default();
    let url = result.and_then(|r| json::string(r, "result").ok()).map(|u| u.into_owned()).or_else(|| {
        let f = Fields::read(response?, &["data"]).ok()?;
        let first = json::elements(f.raw("data")?).ok()?.into_iter().next()?;
        Fields::read(first, &["url"]).ok()?.string("url").ok().flatten().map(|u| u.into_owned())
    });
    if let Some(url) = url {
        if is_safe_url(&url) {
            outcome.video_url = Some(url);
        } else {
            problems.push("Dropped a video URL with an unsafe scheme.".into());
        }
    }
    outcome
}

/// A failed HTTP exchange, ready to become a JavaScript error.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// `ConduitHttpError`, `ConduitNetworkError` or `ConduitTimeoutError`.
    pub name: &'static str,
    /// What went wrong, in words.
    pub message: String,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The server's error code or type, when it gave one.
    pub code: Option<String>,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// Seconds to wait before retrying, from `Retry-After`.
    pub retry_after: Option<f64>,
}

impl ApiError {
    /// A failure with no response.
    pub fn network(action: &str, detail: &str) -> Self {
        ApiError {
            name: "ConduitNetworkError",
            message: format!("{action} failed: network error ({detail})."),
            status: None,
            code: None,
            retryable: true,
            retry_after: None,
        }
    }

    /// A request that took too long.
    pub fn timeout(action: &str, ms: u64) -> Self {
        ApiError {
            name: "ConduitTimeoutError",
            message: format!("{action} failed: no answer within {ms} ms."),
            status: None,
            code: None,
            retryable: true,
            retry_after: None,
        }
    }

    /// An error answer: reads OpenAI-style `{error: {message, code, type}}`, `{error: "..."}`, ProblemDetails
    /// `{title, detail}`, or gives a clear text for anything else.
    pub fn from_response(action: &str, status: u16, body: &[u8], retry_after: Option<f64>) -> Self {
        let text = String::from_utf8_lossy(body);
        let (mut message, mut code) = (None, None);
        if let Ok(f) = Fields::read(text.trim(), &["error", "title", "detail", "message"]) {
            match f.raw("error") {
                Some(raw) if raw.starts_with('"') => message = json::string(raw, "error").ok().map(|m| m.into_owned()),
                Some(raw) => {
                    if let Ok(e) = Fields::read(raw, &["message", "code", "type"]) {
                        message = e.string("message").ok().flatten().map(|m| m.into_owned());
                        code = e.string("code").ok().flatten().or(e.string("type").ok().flatten()).map(|c| c.into_owned());
                    }
                }
                None => {}
            }
            if message.is_none() {
                let detail = f.string("detail").ok().flatten();
                let title = f.string("title").ok().flatten();
                message = match (title, detail) {
                    (Some(t), Some(d)) => Some(format!("{t}: {d}")),
                    (t, d) => d.or(t).map(|m| m.into_owned()),
                };
            }
            if message.is_none() {
                message = f.string("message").ok().flatten().map(|m| m.into_owned());
            }
        }
        let message = match message {
            Some(m) => format!("{action} failed ({status}): {m}"),
            None if text.trim_start().starts_with('<') || text.trim().is_empty() => {
                format!("{action} failed ({status} {}): the server answered without a JSON error.", reason_phrase(status))
            }
            None => {
                let snippet: String = text.trim().chars().take(200).collect();
                format!("{action} failed ({status}): {snippet}")
            }
        };
        ApiError {
            name: "ConduitHttpError",
            message,
            status: Some(status),
            code,
            retryable: matches!(status, 429 | 502 | 503 | 504),
            retry_after,
        }
    }
}

/// Reads a `Retry-After` value given in seconds (HTTP dates are converted by the caller).
pub fn retry_after_seconds(value: &str) -> Option<f64> {
    let v = value.trim();
    v.bytes().all(|b| b.is_ascii_digit()).then(|| v.parse::<u64>().ok()).flatten().map(|n| n as f64)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}
