//! Methods of the Conduit hubs: task subscriptions (ownership-checked), task-type
//! subscriptions, the public video hub's ephemeral-key subscription, and the Conduit flood.

use super::{args, Call, Fail, Reply, M};
use crate::app::App;
use crate::conduit::events::{parse_task_type, task_group, type_group};
use crate::protocol::message::v;
use crate::protocol::HubMessage;
use crate::signalr::connection::Connection;
use rmpv::Value;
use serde_json::json;
use std::sync::Arc;

/// The HubException Conduit throws for a task the caller does not own (or that does not exist).
pub const UNAUTHORIZED: &str = "Unauthorized access to task";

/// Runs a Conduit hub method.
pub fn run(app: &Arc<App>, conn: &Arc<Connection>, method: M, call: &Call) -> Result<Reply, Fail> {
    let a = &call.args;
    match method {
        M::SubscribeToTask | M::SubscribeToRequest => {
            let id = args::string(&a[0])?;
            if app.tasks.owned(&id, conn.key.as_deref()).is_none() {
                return Err(Fail::Hub(UNAUTHORIZED.into()));
            }
            app.conns.join(conn, &task_group(&id));
            app.counters.bump(conn.key.as_deref(), |c| {
                *c.subscriptions.entry(id.clone()).or_default() += 1
            });
            Ok(Reply::Done(None))
        }
        M::UnsubscribeFromTask | M::UnsubscribeFromRequest => {
            let id = args::string(&a[0])?;
            app.conns.leave(conn, &task_group(&id));
            app.counters
                .bump(conn.key.as_deref(), |c| c.unsubscriptions += 1);
            Ok(Reply::Done(None))
        }
        M::SubscribeToTaskType | M::UnsubscribeFromTaskType => {
            let ty = args::string(&a[0])?;
            let kind = parse_task_type(&ty)
                .ok_or_else(|| Fail::Hub(format!("Unknown task type '{ty}'")))?;
            let owner = conn
                .key
                .clone()
                .ok_or_else(|| Fail::Hub("Unauthorized".into()))?;
            if method == M::SubscribeToTaskType {
                app.conns.join(conn, &type_group(&owner, kind));
                app.counters.bump(conn.key.as_deref(), |c| {
                    *c.subscriptions
                        .entry(format!("type:{}", kind.name()))
                        .or_default() += 1
                });
            } else {
                app.conns.leave(conn, &type_group(&owner, kind));
                app.counters
                    .bump(conn.key.as_deref(), |c| c.unsubscriptions += 1);
            }
            Ok(Reply::Done(None))
        }
        M::PublicSubscribeToTask => {
            let id = args::string(&a[0])?;
            let ek = args::string(&a[1])?;
            let owner = app
                .auth
                .redeem(&ek, crate::util::now_unix_ms())
                .map_err(|e| Fail::Hub(e.message().into()))?;
            if app.tasks.owned(&id, Some(&owner)).is_none() {
                return Err(Fail::Hub(UNAUTHORIZED.into()));
            }
            app.conns.join(conn, &task_group(&id));
            app.counters.bump(Some(&owner), |c| {
                *c.subscriptions.entry(id.clone()).or_default() += 1
            });
            conn.send(&HubMessage::invocation(
                "taskSubscribed",
                vec![v(
                    json!({"taskId": id, "message": "Subscribed to video generation updates"}),
                )],
            ));
            Ok(Reply::Done(None))
        }
        M::FloodConduit => {
            let count = args::u64(&a[0])?;
            let per_frame = args::u64(&a[1])?;
            let task_id = args::string(&a[2])?;
            super::flood::flood_conduit(conn, count, per_frame, &task_id);
            Ok(Reply::Done(Some(Value::from(count))))
        }
        _ => Err(Fail::Bind("HubException: Method does not exist.".into())),
    }
}
