//! The Conduit HTTP API: async image and video generation, status, cancel, retry, the generic
//! task endpoints and ephemeral keys. Shapes follow CONDUIT.md.

use super::auth::AuthError;
use super::events::{result_object, task_type_name};
use super::tasks::{plan, ControlError, Kind, NewTask, Status, TaskData};
use crate::app::App;
use crate::config::Dialect;
use crate::faults::FailTarget;
use crate::http::{injected, json_response, openai_error, problem, read_body, Ctx};
use crate::util::iso8601;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

enum Route {
    ImageCreate,
    ImageStatus(String),
    ImageCancel(String),
    VideoCreate,
    VideoStatus(String),
    VideoRetry(String),
    VideoCancel(String),
    TaskGet(String),
    TaskCancel(String),
    EphemeralKey,
}

impl Route {
    fn name(&self) -> &'static str {
        match self {
            Route::ImageCreate => "POST /v1/images/generations/async",
            Route::ImageStatus(_) => "GET /v1/images/generations/{id}/status",
            Route::ImageCancel(_) => "DELETE /v1/images/generations/{id}",
            Route::VideoCreate => "POST /v1/videos/generations/async",
            Route::VideoStatus(_) => "GET /v1/videos/generations/tasks/{id}",
            Route::VideoRetry(_) => "POST /v1/videos/generations/tasks/{id}/retry",
            Route::VideoCancel(_) => "DELETE /v1/videos/generations/{id}",
            Route::TaskGet(_) => "GET /v1/tasks/{id}",
            Route::TaskCancel(_) => "POST /v1/tasks/{id}/cancel",
            Route::EphemeralKey => "POST /v1/auth/ephemeral-key",
        }
    }
}

fn parse_route(method: &Method, path: &str) -> Option<Route> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let id = |s: &str| s.to_string();
    Some(match (method.as_str(), segs.as_slice()) {
        ("POST", ["v1", "images", "generations", "async"]) => Route::ImageCreate,
        ("GET", ["v1", "images", "generations", t, "status"]) => Route::ImageStatus(id(t)),
        ("DELETE", ["v1", "images", "generations", t]) => Route::ImageCancel(id(t)),
        ("POST", ["v1", "videos", "generations", "async"]) => Route::VideoCreate,
        ("GET", ["v1", "videos", "generations", "tasks", t]) => Route::VideoStatus(id(t)),
        ("POST", ["v1", "videos", "generations", "tasks", t, "retry"]) => Route::VideoRetry(id(t)),
        ("DELETE", ["v1", "videos", "generations", "tasks", t])
        | ("DELETE", ["v1", "videos", "generations", t]) => Route::VideoCancel(id(t)),
        ("GET", ["v1", "tasks", t]) => Route::TaskGet(id(t)),
        ("POST", ["v1", "tasks", t, "cancel"]) => Route::TaskCancel(id(t)),
        ("POST", ["v1", "auth", "ephemeral-key"]) => Route::EphemeralKey,
        _ => return None,
    })
}

fn auth_error(e: AuthError) -> Response {
    openai_error(
        StatusCode::UNAUTHORIZED,
        e.message(),
        "authentication_error",
        "invalid_api_key",
    )
}

fn bad_request(message: &str, code: &str, param: Option<&str>) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        json!({"error": {"message": message, "type": "invalid_request_error", "code": code, "param": param}}),
    )
}

/// Routes `/v1/...`.
pub async fn handle(app: &Arc<App>, ctx: &Ctx, body: Body) -> Response {
    let Some(route) = parse_route(&ctx.method, &ctx.path) else {
        return crate::http::not_found(ctx);
    };
    let token = ctx.api_token();
    let peek = token.as_deref().and_then(|t| app.auth.peek_owner(t));
    app.counters.bump(peek.as_deref(), |c| {
        *c.http_requests.entry(route.name().to_string()).or_default() += 1
    });
    if let Some(t) = token.as_deref() {
        app.counters.token_seen(peek.as_deref(), t);
    }
    if let Some(action) = app
        .faults
        .take(FailTarget::Http, peek.as_deref(), None, app.now_ms())
    {
        return injected(action).await;
    }
    if matches!(route, Route::EphemeralKey)
        && token.as_deref().is_some_and(|t| t.starts_with("ek_"))
    {
        return openai_error(
            StatusCode::FORBIDDEN,
            "Ephemeral keys cannot create ephemeral keys.",
            "authentication_error",
            "forbidden",
        );
    }
    let key = match app
        .auth
        .resolve(token.as_deref(), crate::util::now_unix_ms())
    {
        Ok(k) => k,
        Err(e) => return auth_error(e),
    };
    match route {
        Route::ImageCreate => create(app, ctx, body, &key, Kind::Image).await,
        Route::VideoCreate => create(app, ctx, body, &key, Kind::Video).await,
        Route::ImageStatus(id) => match owned(app, &id, &key, Kind::Image) {
            Some(t) => json_response(StatusCode::OK, image_status(&t)),
            None => image_not_found(&id),
        },
        Route::VideoStatus(id) => match owned(app, &id, &key, Kind::Video) {
            Some(t) => json_response(StatusCode::OK, video_status(&t)),
            None => video_not_found(&id),
        },
        Route::TaskGet(id) => match app.tasks.owned(&id, Some(&key)) {
            Some(t) => json_response(StatusCode::OK, generic_status(&t)),
            None => task_not_found(&id),
        },
        Route::ImageCancel(id) => {
            if owned(app, &id, &key, Kind::Image).is_none() {
                return image_not_found(&id);
            }
            match app.tasks.finish(
                app,
                &id,
                Status::Cancelled,
                Some("Cancelled by user".into()),
            ) {
                Ok(_) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => openai_error(
                    StatusCode::CONFLICT,
                    &control_message(&id, e),
                    "invalid_request_error",
                    "task_not_cancellable",
                ),
            }
        }
        Route::VideoCancel(id) => {
            if owned(app, &id, &key, Kind::Video).is_none() {
                return video_not_found(&id);
            }
            match app.tasks.finish(
                app,
                &id,
                Status::Cancelled,
                Some("Cancelled by user".into()),
            ) {
                Ok(_) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => problem(StatusCode::CONFLICT, "Conflict", &control_message(&id, e)),
            }
        }
        Route::TaskCancel(id) => {
            if app.tasks.owned(&id, Some(&key)).is_none() {
                return task_not_found(&id);
            }
            match app.tasks.finish(
                app,
                &id,
                Status::Cancelled,
                Some("Cancelled by user".into()),
            ) {
                Ok(t) => json_response(StatusCode::OK, generic_status(&t)),
                Err(e) => openai_error(
                    StatusCode::CONFLICT,
                    &control_message(&id, e),
                    "invalid_request_error",
                    "task_not_cancellable",
                ),
            }
        }
        Route::VideoRetry(id) => {
            if owned(app, &id, &key, Kind::Video).is_none() {
                return video_not_found(&id);
            }
            match app.tasks.retry(app, &id) {
                Ok(t) => json_response(StatusCode::OK, video_status(&t)),
                Err(e) => problem(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    &control_message(&id, e),
                ),
            }
        }
        Route::EphemeralKey => {
            let (ek, expires) = app.auth.issue(&key, crate::util::now_unix_ms());
            json_response(
                StatusCode::OK,
                json!({
                    "ephemeralKey": ek,
                    "expiresAt": iso8601(expires),
                    "expiresInSeconds": super::auth::EPHEMERAL_TTL_SECS,
                }),
            )
        }
    }
}

fn control_message(id: &str, e: ControlError) -> String {
    match e {
        ControlError::NotFound => format!("Task {id} not found."),
        ControlError::AlreadyFinished(s) => format!(
            "Task {id} is already {} and cannot be cancelled.",
            s.as_str()
        ),
        ControlError::NotFailed(s) => format!(
            "Task {id} is {}; only failed tasks can be retried.",
            s.as_str()
        ),
    }
}

fn owned(app: &App, id: &str, key: &str, kind: Kind) -> Option<TaskData> {
    app.tasks.owned(id, Some(key)).filter(|t| t.kind() == kind)
}

fn image_not_found(id: &str) -> Response {
    openai_error(
        StatusCode::NOT_FOUND,
        &format!("Task {id} not found."),
        "invalid_request_error",
        "task_not_found",
    )
}

fn video_not_found(id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "Not Found",
        &format!("Task {id} not found."),
    )
}

fn task_not_found(id: &str) -> Response {
    openai_error(
        StatusCode::NOT_FOUND,
        &format!("Task {id} not found."),
        "invalid_request_error",
        "task_not_found",
    )
}

async fn create(app: &Arc<App>, ctx: &Ctx, body: Body, key: &str, kind: Kind) -> Response {
    let bytes = match read_body(body, 1024 * 1024).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let req: Value = match serde_json::from_slice(&bytes) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return bad_request(
                "The request body must be a JSON object.",
                "invalid_request",
                None,
            )
        }
        Err(e) => return bad_request(&format!("Invalid JSON body: {e}"), "invalid_json", None),
    };
    let prompt = match req.get("prompt") {
        Some(Value::String(p)) if !p.trim().is_empty() => p.clone(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return bad_request(
                "'prompt' is required.",
                "missing_required_parameter",
                Some("prompt"),
            )
        }
        Some(_) => {
            return bad_request("'prompt' must be a string.", "invalid_type", Some("prompt"))
        }
    };
    let str_field = |name: &str, default: &str| -> Result<String, Response> {
        match req.get(name) {
            None | Some(Value::Null) => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(bad_request(
                &format!("'{name}' must be a string."),
                "invalid_type",
                Some(name),
            )),
        }
    };
    let num_field = |name: &str, default: f64, min: f64, max: f64| -> Result<f64, Response> {
        match req.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(x) if x >= min && x <= max => Ok(x),
                _ => Err(bad_request(
                    &format!("'{name}' must be between {min} and {max}."),
                    "invalid_value",
                    Some(name),
                )),
            },
            Some(_) => Err(bad_request(
                &format!("'{name}' must be a number."),
                "invalid_type",
                Some(name),
            )),
        }
    };
    let fields = (|| -> Result<NewTask, Response> {
        Ok(match kind {
            Kind::Image => NewTask {
                kind,
                owner: key.to_string(),
                prompt: prompt.clone(),
                model: str_field("model", "dall-e-3")?,
                n: num_field("n", 1.0, 1.0, 10.0)? as u32,
                size: str_field("size", "1024x1024")?,
                style: req.get("style").and_then(Value::as_str).map(str::to_string),
                duration_secs: 0.0,
                fps: 0,
                base_url: ctx.base_url.clone(),
            },
            Kind::Video => NewTask {
                kind,
                owner: key.to_string(),
                prompt: prompt.clone(),
                model: str_field("model", "minimax-video")?,
                n: 1,
                size: str_field("size", "1280x720")?,
                style: req.get("style").and_then(Value::as_str).map(str::to_string),
                duration_secs: num_field("duration", 6.0, 1.0, 60.0)?,
                fps: num_field("fps", 24.0, 1.0, 120.0)? as u32,
                base_url: ctx.base_url.clone(),
            },
        })
    })();
    let new = match fields {
        Ok(n) => n,
        Err(r) => return r,
    };
    let t = app.tasks.create(app, new);
    let eta = iso8601(
        t.created_ms
            + plan(kind, &t.req.prompt, app.config.speed, 1)
                .total()
                .as_millis() as u64,
    );
    let body = match (kind, ctx.dialect) {
        (Kind::Image, _) => json!({
            "task_id": t.id,
            "status": "queued",
            "check_status_url": format!("/v1/images/generations/{}/status", t.id),
            "created_at": iso8601(t.created_ms),
            "estimated_completion_time": eta,
        }),
        (Kind::Video, Dialect::Deployed) => json!({
            "taskId": t.id,
            "status": "pending",
            "createdAt": iso8601(t.created_ms),
            "estimatedCompletionTime": eta,
            "checkStatusUrl": format!("/v1/videos/generations/tasks/{}", t.id),
        }),
        (Kind::Video, Dialect::Documented) => json!({
            "request_id": t.id,
            "status": "pending",
            "created_at": iso8601(t.created_ms),
            "estimated_completion_time": eta,
            "check_status_url": format!("/v1/videos/generations/tasks/{}", t.id),
        }),
    };
    json_response(StatusCode::ACCEPTED, body)
}

/// `GET /v1/images/generations/{id}/status`.
pub fn image_status(t: &TaskData) -> Value {
    let result = (t.status == Status::Completed).then(|| {
        json!({
            "images": t.image_urls().iter().enumerate().map(|(i, url)| json!({
                "url": url,
                "b64Json": null,
                "revisedPrompt": t.req.prompt,
                "metadata": {"index": i, "size": t.req.size, "format": "svg"},
            })).collect::<Vec<_>>(),
            "duration": t.duration_secs(),
            "cost": t.cost(),
            "provider": t.provider(),
            "model": t.req.model,
        })
    });
    json!({
        "task_id": t.id,
        "status": t.status.as_str(),
        "progress": t.progress,
        "message": t.message,
        "created_at": iso8601(t.created_ms),
        "updated_at": iso8601(t.updated_ms),
        "result": result,
        "error": if t.status == Status::Failed { json!(t.error) } else { Value::Null },
    })
}

/// `GET /v1/videos/generations/tasks/{id}`.
pub fn video_status(t: &TaskData) -> Value {
    let done = t.status == Status::Completed;
    let mut v = json!({
        "taskId": t.id,
        "status": t.status.as_str(),
        "progress": t.progress,
        "message": t.message,
        "createdAt": iso8601(t.created_ms),
        "updatedAt": iso8601(t.updated_ms),
        "completedAt": t.completed_ms.map(iso8601),
        "error": if t.status == Status::Failed { json!(t.error) } else { Value::Null },
        "result": if done { json!(t.video_url()) } else { Value::Null },
    });
    if done {
        v["videoResponse"] = json!({
            "created": t.completed_ms.unwrap_or(t.updated_ms) / 1000,
            "data": [{
                "url": t.video_url(),
                "revisedPrompt": t.req.prompt,
                "metadata": {
                    "duration": t.req.duration_secs,
                    "resolution": t.req.size,
                    "fps": t.req.fps,
                    "fileSizeBytes": super::media::SAMPLE_WEBM.len(),
                    "mimeType": "video/webm",
                    "previewUrl": t.poster_url(),
                },
            }],
            "model": t.req.model,
            "usage": {"durationSeconds": t.req.duration_secs},
        });
    }
    v
}

/// `GET /v1/tasks/{id}`.
pub fn generic_status(t: &TaskData) -> Value {
    json!({
        "taskId": t.id,
        "taskType": task_type_name(t.kind()),
        "status": t.status.as_str(),
        "progress": t.progress,
        "progressMessage": t.message,
        "result": if t.status == Status::Completed { result_object(t) } else { Value::Null },
        "error": if t.status == Status::Failed { json!(t.error) } else { Value::Null },
        "isRetryable": t.retryable,
        "createdAt": iso8601(t.created_ms),
        "updatedAt": iso8601(t.updated_ms),
        "completedAt": t.completed_ms.map(iso8601),
    })
}
