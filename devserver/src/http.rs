//! The HTTP front: one handler that adds CORS to everything, answers preflights, strips the
//! `/dialect/{name}` prefix, and routes to the dev API, the hubs, the Conduit API, generated
//! media and static files. Unknown routes get a JSON 404.

use crate::app::App;
use crate::config::Dialect;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// What every route handler gets to know about a request.
pub struct Ctx {
    pub method: Method,
    /// The path without any `/dialect/{name}` prefix.
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub dialect: Dialect,
    pub peer: SocketAddr,
    /// `http://host:port` as the client addressed us.
    pub base_url: String,
}

impl Ctx {
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The bearer token of an HTTP API call: `Authorization: Bearer`, then `X-API-Key`.
    pub fn api_token(&self) -> Option<String> {
        self.header("authorization")
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string())
            .or_else(|| self.header("x-api-key").map(|t| t.trim().to_string()))
            .filter(|t| !t.is_empty())
    }

    /// The token of a hub request: `access_token` / `api_key` query first, then the headers.
    pub fn hub_token(&self) -> Option<String> {
        self.q("access_token")
            .or_else(|| self.q("api_key"))
            .map(str::to_string)
            .filter(|t| !t.is_empty())
            .or_else(|| self.api_token())
    }
}

/// The axum entry point.
pub async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let mut resp = if req.method() == Method::OPTIONS {
        preflight(req.headers())
    } else {
        route(app, peer, req).await
    };
    add_cors(resp.headers_mut(), origin);
    resp
}

fn preflight(headers: &HeaderMap) -> Response {
    let mut allow =
        "Authorization, Content-Type, X-Requested-With, X-SignalR-User-Agent, X-API-Key"
            .to_string();
    if let Some(req) = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
    {
        for h in req.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            if !allow
                .to_ascii_lowercase()
                .split(", ")
                .any(|x| x == h.to_ascii_lowercase())
            {
                allow.push_str(", ");
                allow.push_str(h);
            }
        }
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    if let Ok(v) = HeaderValue::from_str(&allow) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

fn add_cors(h: &mut HeaderMap, origin: Option<HeaderValue>) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        origin.unwrap_or_else(|| HeaderValue::from_static("*")),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Splits `/dialect/{name}/rest` into (dialect, `/rest`).
pub fn strip_dialect(path: &str) -> (Option<Dialect>, String) {
    if let Some(rest) = path.strip_prefix("/dialect/") {
        let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some(d) = Dialect::parse(name) {
            return (Some(d), format!("/{tail}"));
        }
    }
    (None, path.to_string())
}

async fn route(app: Arc<App>, peer: SocketAddr, req: Request<Body>) -> Response {
    let (mut parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_string();
    let query = crate::util::parse_query(parts.uri.query());
    let (prefix_dialect, path) = strip_dialect(&raw_path);
    let dialect = prefix_dialect
        .or_else(|| query.get("dialect").and_then(|d| Dialect::parse(d)))
        .unwrap_or(app.config.dialect);
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}:{}", app.config.host, app.config.port));
    let ctx = Ctx {
        method: parts.method.clone(),
        path,
        query,
        headers: parts.headers.clone(),
        dialect,
        peer,
        base_url: format!("http://{host}"),
    };
    let p = ctx.path.as_str();
    if p == "/_dev" || p.starts_with("/_dev/") {
        return crate::dev::handle(&app, &ctx, body).await;
    }
    if p == "/hubs" || p.starts_with("/hubs/") {
        return crate::signalr::endpoint::handle(&app, &ctx, &mut parts, body).await;
    }
    if p.starts_with("/v1/") {
        return crate::conduit::api::handle(&app, &ctx, body).await;
    }
    if p.starts_with("/generated/") {
        return crate::statics::generated(&app, &ctx);
    }
    if p == "/health" || p == "/healthz" {
        return json_response(StatusCode::OK, json!({"ok": true}));
    }
    if matches!(ctx.method, Method::GET | Method::HEAD) {
        if let Some(resp) = crate::statics::serve(&app, &ctx).await {
            return resp;
        }
    }
    not_found(&ctx)
}

/// A JSON answer.
pub fn json_response(status: StatusCode, value: Value) -> Response {
    let mut resp = (status, value.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

/// An OpenAI-style error: `{"error":{"message","type","code"}}`.
pub fn openai_error(status: StatusCode, message: &str, kind: &str, code: &str) -> Response {
    json_response(
        status,
        json!({"error": {"message": message, "type": kind, "code": code}}),
    )
}

/// An ASP.NET ProblemDetails answer.
pub fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut resp = (
        status,
        json!({
            "type": format!("https://tools.ietf.org/html/rfc9110#section-15.{}", if status.as_u16() >= 500 { "6.1" } else { "5.5" }),
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        })
        .to_string(),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json; charset=utf-8"),
    );
    resp
}

/// The JSON 404 for unknown routes.
pub fn not_found(ctx: &Ctx) -> Response {
    openai_error(
        StatusCode::NOT_FOUND,
        &format!("No route for {} {}", ctx.method, ctx.path),
        "not_found_error",
        "not_found",
    )
}

/// A plain-text answer (SignalR transport errors are plain text in ASP.NET Core).
pub fn text(status: StatusCode, body: &str) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// Reads a request body up to `limit` bytes.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        openai_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body too large or unreadable.",
            "invalid_request_error",
            "body_too_large",
        )
    })
}

/// Answers an injected failure (`/_dev/fail`): wait, then the status (0 = hang, then 504).
pub async fn injected(action: crate::faults::FailAction) -> Response {
    if action.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(action.delay_ms)).await;
    }
    let status = if action.status == 0 {
        StatusCode::GATEWAY_TIMEOUT
    } else {
        StatusCode::from_u16(action.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    let mut resp = match action.body {
        Some(b) => {
            let mut r = (status, b).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        None => openai_error(
            status,
            "Injected failure (/_dev/fail).",
            "server_error",
            "injected_failure",
        ),
    };
    if matches!(status.as_u16(), 429 | 503) {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_prefix() {
        assert_eq!(
            strip_dialect("/dialect/documented/hubs/x"),
            (Some(Dialect::Documented), "/hubs/x".to_string())
        );
        assert_eq!(
            strip_dialect("/dialect/deployed"),
            (Some(Dialect::Deployed), "/".to_string())
        );
        assert_eq!(
            strip_dialect("/dialect/nope/x"),
            (None, "/dialect/nope/x".to_string())
        );
        assert_eq!(
            strip_dialect("/v1/tasks/1"),
            (None, "/v1/tasks/1".to_string())
        );
    }
}
