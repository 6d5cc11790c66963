//! The fault-injection and inspection API under `/_dev` (loopback peers only).

use crate::app::App;
use crate::conduit::tasks::{ControlError, Status};
use crate::counters::TransportKind;
use crate::faults::{FailRule, FailTarget};
use crate::http::{json_response, read_body, Ctx};
use crate::hubs::flood::{flood_tasks, TaskFlood};
use crate::signalr::{Frame, Out};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

fn ok(v: Value) -> Response {
    json_response(StatusCode::OK, v)
}

fn err(status: StatusCode, message: &str) -> Response {
    json_response(status, json!({"ok": false, "error": message}))
}

fn flag(ctx: &Ctx, name: &str) -> Option<bool> {
    ctx.q(name)
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

fn num(ctx: &Ctx, name: &str) -> Option<u64> {
    ctx.q(name).and_then(|v| v.parse().ok())
}

/// Routes `/_dev/...`.
pub async fn handle(app: &Arc<App>, ctx: &Ctx, body: Body) -> Response {
    if !ctx.peer.ip().is_loopback() {
        return err(
            StatusCode::FORBIDDEN,
            "The /_dev API answers loopback peers only.",
        );
    }
    let key = ctx.q("key").filter(|k| !k.is_empty());
    let hub = ctx.q("hub").filter(|h| !h.is_empty());
    let path = ctx.path.trim_end_matches('/');
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (ctx.method.as_str(), segs.as_slice()) {
        ("GET", ["_dev", "health"]) => ok(json!({"ok": true})),
        ("GET", ["_dev", "counters"]) => ok(app.counters.snapshot(key)),
        ("POST", ["_dev", "counters", "reset"]) => {
            app.counters.reset(key);
            ok(json!({"ok": true}))
        }
        ("GET", ["_dev", "connections"]) => {
            let list: Vec<Value> = app
                .conns
                .matching(key, hub)
                .iter()
                .map(|c| {
                    let st = c.state();
                    json!({
                        "connectionId": c.id,
                        "hub": c.hub_path,
                        "dialect": c.dialect.name(),
                        "transport": st.transport.map(|t| t.name()),
                        "protocol": c.protocol().map(|p| p.name()),
                        "attached": st.attached,
                        "stateful": st.stateful,
                        "key": c.key.as_deref().map(crate::util::mask),
                        "groups": st.groups.iter().cloned().collect::<Vec<_>>(),
                        "silenced": c.silenced.load(Ordering::Relaxed),
                    })
                })
                .collect();
            ok(json!({"ok": true, "connections": list}))
        }
        ("POST", ["_dev", "drop"]) => {
            let mut n = 0;
            for c in app.conns.matching(key, hub) {
                let transport = c.transport();
                if c.push(Out::Abort) {
                    n += 1;
                }
                if transport != Some(TransportKind::WebSockets) && transport.is_some() {
                    app.conns.forget(app, &c, "dropped (fault injection)");
                }
            }
            app.log(format_args!("/_dev/drop: {n} transport(s)"));
            ok(json!({"ok": true, "dropped": n}))
        }
        ("POST", ["_dev", "silence"]) => {
            let on = flag(ctx, "on").unwrap_or(true);
            let conns = app.conns.matching(key, hub);
            for c in &conns {
                c.silenced.store(on, Ordering::Relaxed);
            }
            ok(json!({"ok": true, "silenced": on, "connections": conns.len()}))
        }
        ("POST", ["_dev", "close"]) => {
            let allow = flag(ctx, "allowReconnect").unwrap_or(false);
            let error = ctx.q("error").map(str::to_string);
            let conns = app.conns.matching(key, hub);
            for c in &conns {
                app.counters.bump(c.key.as_deref(), |k| k.closes_sent += 1);
                c.close(error.clone(), allow);
                app.conns.remove(app, c, "closed by /_dev/close");
            }
            ok(json!({"ok": true, "closed": conns.len()}))
        }
        ("POST", ["_dev", "raw"]) => {
            let binary = flag(ctx, "binary").unwrap_or(false);
            let data = match read_body(body, 16 * 1024 * 1024).await {
                Ok(d) => d,
                Err(r) => return r,
            };
            let mut n = 0;
            for c in app.conns.matching(key, hub) {
                if c.transport() == Some(TransportKind::WebSockets)
                    && c.push(Out::Frame(Frame {
                        data: data.clone(),
                        binary,
                    }))
                {
                    n += 1;
                }
            }
            ok(json!({"ok": true, "sent": n}))
        }
        ("POST", ["_dev", "flood"]) => {
            let data = match read_body(body, 16 * 1024 * 1024).await {
                Ok(d) => d,
                Err(r) => return r,
            };
            let ids: Vec<String> = if data.is_empty() {
                vec![ctx.q("task").unwrap_or("bench-task").to_string()]
            } else {
                match serde_json::from_slice(&data) {
                    Ok(ids) => ids,
                    Err(_) => {
                        return err(
                            StatusCode::BAD_REQUEST,
                            "the body must be a JSON array of task ids",
                        )
                    }
                }
            };
            let flood = TaskFlood {
                count: num(ctx, "count").unwrap_or(ids.len() as u64),
                per_frame: num(ctx, "perFrame").unwrap_or(1),
                pct: num(ctx, "pct"),
                complete: flag(ctx, "complete").unwrap_or(false),
                ids,
            };
            let mut n = 0;
            for c in app.conns.matching(key, hub) {
                if c.transport() == Some(TransportKind::WebSockets)
                    && flood_tasks(&c, flood.clone())
                {
                    n += 1;
                }
            }
            ok(json!({"ok": true, "sent": n}))
        }
        ("POST", ["_dev", "fail"]) => {
            let Some(target) = ctx.q("target").and_then(FailTarget::parse) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "target must be negotiate, http or ws",
                );
            };
            let status = num(ctx, "status").unwrap_or(500) as u16;
            let for_ms = num(ctx, "forMs");
            let count = num(ctx, "count");
            let rule = FailRule {
                target,
                status,
                remaining: count.or(if for_ms.is_some() { None } else { Some(1) }),
                until_ms: for_ms.map(|m| app.now_ms() + m),
                delay_ms: num(ctx, "delayMs").unwrap_or(0),
                body: ctx.q("body").map(str::to_string),
                key: key.map(str::to_string),
                hub: hub.map(str::to_string),
            };
            app.faults.add(rule.clone());
            ok(json!({"ok": true, "rule": {
                "target": ctx.q("target"), "status": status, "count": rule.remaining, "forMs": for_ms,
                "delayMs": rule.delay_ms, "key": key.map(crate::util::mask), "hub": hub,
            }}))
        }
        ("POST", ["_dev", "fail", "clear"]) => {
            app.faults.clear();
            ok(json!({"ok": true}))
        }
        ("POST", ["_dev", "restart"]) => {
            app.conns.clear(app, key);
            app.tasks.clear(key);
            if key.is_none() {
                app.faults.clear();
                app.auth.clear();
                app.tasks.set_hold(false);
            }
            app.log(format_args!("/_dev/restart"));
            ok(json!({"ok": true}))
        }
        ("POST", ["_dev", "hold"]) => {
            let on = flag(ctx, "on").unwrap_or(true);
            app.tasks.set_hold(on);
            ok(json!({"ok": true, "held": on}))
        }
        ("POST", ["_dev", "tasks", id, "advance"]) => {
            let to = match ctx.q("to").unwrap_or("completed") {
                "completed" => Status::Completed,
                "failed" => Status::Failed,
                "cancelled" | "canceled" => Status::Cancelled,
                other => return err(StatusCode::BAD_REQUEST, &format!("unknown state {other}")),
            };
            let reason = ctx.q("error").or(ctx.q("reason")).map(str::to_string);
            if to == Status::Failed {
                if let Some(e) = app.tasks.get(id) {
                    e.data().retryable = flag(ctx, "retryable").unwrap_or(false);
                }
            }
            match app.tasks.finish(app, id, to, reason) {
                Ok(t) => ok(json!({"ok": true, "status": t.status.as_str()})),
                Err(ControlError::NotFound) => err(StatusCode::NOT_FOUND, "no such task"),
                Err(ControlError::AlreadyFinished(s)) => err(
                    StatusCode::CONFLICT,
                    &format!("task already {}", s.as_str()),
                ),
                Err(ControlError::NotFailed(_)) => err(StatusCode::CONFLICT, "task state conflict"),
            }
        }
        (m, _) if m == Method::GET.as_str() || m == Method::POST.as_str() => {
            crate::http::not_found(ctx)
        }
        _ => err(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}
