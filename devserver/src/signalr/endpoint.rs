//! The HTTP side of a hub: negotiate, and the transport requests (WebSocket upgrade, SSE
//! stream, long polls, POSTed sends, DELETE), with auth and the fault rules.

use super::connection::{AttachError, Connection};
use super::Out;
use crate::app::App;
use crate::counters::TransportKind;
use crate::faults::FailTarget;
use crate::http::{injected, json_response, openai_error, read_body, text, Ctx};
use crate::hubs::HubKind;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Largest message body a client may POST.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// How long a negotiated connection may wait for its transport.
const NEGOTIATED_TTL: Duration = Duration::from_secs(30);

/// Routes `/hubs/...`.
pub async fn handle(app: &Arc<App>, ctx: &Ctx, parts: &mut Parts, body: Body) -> Response {
    let (hub_part, negotiate) = match ctx.path.strip_suffix("/negotiate") {
        Some(h) => (h, true),
        None => (ctx.path.as_str(), false),
    };
    let Some((hub_path, kind)) = HubKind::from_path(hub_part) else {
        return crate::http::not_found(ctx);
    };
    if negotiate {
        return negotiate_request(app, ctx, hub_path, kind).await;
    }
    let token = ctx.hub_token();
    let is_ws = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if ctx.method == Method::GET && is_ws {
        return super::ws::upgrade(app, ctx, parts, hub_path, kind, token).await;
    }
    let Some(id) = ctx.q("id").filter(|i| !i.is_empty()) else {
        return text(StatusCode::BAD_REQUEST, "Connection ID required");
    };
    let conn = if ctx.method == Method::GET && !is_sse(ctx) {
        app.conns.get_for_poll(id, app.now_ms())
    } else {
        app.conns.get(id)
    };
    let Some(conn) = conn.filter(|c| c.hub_path == hub_path) else {
        return text(StatusCode::NOT_FOUND, "No Connection with that ID");
    };
    if let Err(resp) = check_transport_auth(app, &conn, kind, token.as_deref()) {
        return resp;
    }
    match ctx.method {
        Method::GET if is_sse(ctx) => super::sse::open(app, &conn),
        Method::GET => super::longpoll::poll(app, &conn).await,
        Method::POST => send(app, &conn, body).await,
        Method::DELETE => {
            if conn.transport() == Some(TransportKind::WebSockets) {
                return text(
                    StatusCode::BAD_REQUEST,
                    "Cannot terminate this connection using the DELETE endpoint.",
                );
            }
            conn.push(Out::End);
            app.conns.remove(app, &conn, "DELETE by client");
            text(StatusCode::ACCEPTED, "")
        }
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
    }
}

fn is_sse(ctx: &Ctx) -> bool {
    ctx.header("accept")
        .is_some_and(|a| a.contains("text/event-stream"))
}

/// The key a token belongs to, for filters and counters (nothing is consumed).
pub fn key_of(app: &App, kind: HubKind, token: Option<&str>) -> Option<String> {
    let t = token?;
    if kind == HubKind::Test {
        return Some(t.to_string());
    }
    app.auth.peek_owner(t)
}

/// Auth of a request for an existing connection: a Conduit hub needs the token it was created
/// with, or another token of the same key.
fn check_transport_auth(
    app: &App,
    conn: &Connection,
    kind: HubKind,
    token: Option<&str>,
) -> Result<(), Response> {
    if let Some(t) = token {
        app.counters.token_seen(conn.key.as_deref(), t);
    }
    if !kind.requires_auth() {
        return Ok(());
    }
    let Some(t) = token else {
        return Err(unauthorized(crate::conduit::auth::AuthError::Missing));
    };
    if conn.auth_token.as_deref() == Some(t) {
        return Ok(());
    }
    match app.auth.resolve(Some(t), crate::util::now_unix_ms()) {
        Ok(k) if Some(k.as_str()) == conn.key.as_deref() => Ok(()),
        Ok(_) => Err(openai_error(
            StatusCode::FORBIDDEN,
            "This connection belongs to another key.",
            "authentication_error",
            "forbidden",
        )),
        Err(e) => Err(unauthorized(e)),
    }
}

/// The 401 answer.
pub fn unauthorized(e: crate::conduit::auth::AuthError) -> Response {
    let mut r = openai_error(
        StatusCode::UNAUTHORIZED,
        e.message(),
        "authentication_error",
        "invalid_api_key",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

/// Authenticates a new connection: (owner key, token) or the 401.
pub fn authenticate_new(
    app: &App,
    kind: HubKind,
    token: Option<&str>,
) -> Result<Option<String>, Response> {
    if kind.requires_auth() {
        app.auth
            .resolve(token, crate::util::now_unix_ms())
            .map(Some)
            .map_err(unauthorized)
    } else {
        Ok(key_of(app, kind, token))
    }
}

async fn negotiate_request(
    app: &Arc<App>,
    ctx: &Ctx,
    hub_path: &'static str,
    kind: HubKind,
) -> Response {
    if ctx.method != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Negotiate requires POST");
    }
    let token = ctx.hub_token();
    let key = key_of(app, kind, token.as_deref());
    app.counters.bump(key.as_deref(), |c| c.negotiations += 1);
    if let Some(t) = token.as_deref() {
        app.counters.token_seen(key.as_deref(), t);
    }
    if let Some(action) = app.faults.take(
        FailTarget::Negotiate,
        key.as_deref(),
        Some(hub_path),
        app.now_ms(),
    ) {
        return injected(action).await;
    }
    let key = match authenticate_new(app, kind, token.as_deref()) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let version: u8 = ctx
        .q("negotiateVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(1);
    let wants_stateful = ctx.q("useStatefulReconnect") == Some("true");
    let server_allows =
        app.config.stateful || matches!(ctx.q("stateful"), Some("1") | Some("true"));
    let stateful = wants_stateful && server_allows;
    let conn = Connection::new(
        kind,
        hub_path,
        ctx.dialect,
        key,
        token,
        stateful,
        version,
        app.now_ms(),
    );
    app.conns.insert(conn.clone());
    {
        let app = app.clone();
        let conn = conn.clone();
        tokio::spawn(async move {
            tokio::time::sleep(NEGOTIATED_TTL).await;
            if !conn.state().ever_attached && !conn.is_closed() {
                app.conns
                    .remove(&app, &conn, "negotiated but never connected");
            }
        });
    }
    let transports = json!([
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
        {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
        {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
    ]);
    let mut body = if version >= 1 {
        json!({
            "negotiateVersion": 1,
            "connectionId": conn.id,
            "connectionToken": conn.token,
            "availableTransports": transports,
        })
    } else {
        json!({"negotiateVersion": 0, "connectionId": conn.id, "availableTransports": transports})
    };
    if stateful {
        body["useStatefulReconnect"] = json!(true);
    }
    json_response(StatusCode::OK, body)
}

/// Bookkeeping of a connection's first transport: counters and the handshake deadline.
pub fn first_attach(app: &Arc<App>, conn: &Arc<Connection>, kind: TransportKind) {
    let i = kind as usize;
    app.counters.bump(conn.key.as_deref(), |c| {
        c.opened += 1;
        c.open += 1;
        c.by_transport[i] += 1;
        c.open_by_transport[i] += 1;
    });
    super::keepalive::handshake_deadline(app.clone(), conn.clone());
}

/// The HTTP status for a refused attach.
pub fn attach_error(e: AttachError) -> Response {
    match e {
        AttachError::Gone => text(StatusCode::NOT_FOUND, "No Connection with that ID"),
        AttachError::Conflict => text(
            StatusCode::CONFLICT,
            "Connection already has an active transport.",
        ),
        AttachError::WrongTransport => text(
            StatusCode::BAD_REQUEST,
            "Cannot change transports mid-connection",
        ),
    }
}

async fn send(app: &Arc<App>, conn: &Arc<Connection>, body: Body) -> Response {
    match conn.transport() {
        Some(TransportKind::WebSockets) => {
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                "POST requests are not allowed for WebSocket connections.",
            )
        }
        None => {
            return text(
                StatusCode::BAD_REQUEST,
                "The connection has no transport yet.",
            )
        }
        _ => {}
    }
    if conn.is_closed() {
        return text(StatusCode::NOT_FOUND, "No Connection with that ID");
    }
    let data = match read_body(body, MAX_BODY).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    super::receive::receive(app, conn, &data).await;
    text(StatusCode::OK, "")
}
