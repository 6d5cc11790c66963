//! `/hubs/test`: the generic hub the generic client's tests drive (echo, groups, client
//! results, streams in both directions, closes, floods).

use super::{args, complete, Call, Fail, Reply, M};
use crate::app::App;
use crate::protocol::{HubMessage, Outcome};
use crate::signalr::connection::{Connection, StreamEvent};
use rmpv::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// How long `InvokeClient` waits for the client's answer.
pub const CLIENT_RESULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs a test-hub method.
pub fn run(app: &Arc<App>, conn: &Arc<Connection>, method: M, call: &Call) -> Result<Reply, Fail> {
    let a = &call.args;
    match method {
        M::Echo => Ok(Reply::Done(Some(a[0].clone()))),
        M::Add => {
            let as_f64 = |r: Result<i64, f64>| match r {
                Ok(i) => i as f64,
                Err(f) => f,
            };
            let sum = match (args::number(&a[0])?, args::number(&a[1])?) {
                (Ok(x), Ok(y)) => x
                    .checked_add(y)
                    .map(Value::from)
                    .unwrap_or(Value::F64(x as f64 + y as f64)),
                (x, y) => Value::F64(as_f64(x) + as_f64(y)),
            };
            Ok(Reply::Done(Some(sum)))
        }
        M::Void => Ok(Reply::Done(None)),
        M::Throw => Err(Fail::Hub(
            args::string(&a[0]).unwrap_or_else(|_| "Thrown by Throw()".into()),
        )),
        M::GetConnectionId => Ok(Reply::Done(Some(Value::from(conn.id.as_str())))),
        M::Delay => {
            let ms = args::u64(&a[0])?;
            let value = a[1].clone();
            spawn_reply(conn, call, async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(Some(value))
            });
            Ok(Reply::Later)
        }
        M::SendToCaller => {
            let target = args::string(&a[0])?;
            let arguments = args::array(&a[1])?;
            conn.send(&HubMessage::invocation(&target, arguments));
            Ok(Reply::Done(None))
        }
        M::Broadcast => {
            let msg = HubMessage::invocation(&args::string(&a[0])?, args::array(&a[1])?);
            for c in app
                .conns
                .all()
                .into_iter()
                .filter(|c| c.hub_path == conn.hub_path)
            {
                c.send(&msg);
            }
            Ok(Reply::Done(None))
        }
        M::JoinGroup => {
            app.conns
                .join(conn, &format!("user:{}", args::string(&a[0])?));
            Ok(Reply::Done(None))
        }
        M::LeaveGroup => {
            app.conns
                .leave(conn, &format!("user:{}", args::string(&a[0])?));
            Ok(Reply::Done(None))
        }
        M::SendToGroup => {
            let group = format!("user:{}", args::string(&a[0])?);
            let msg = HubMessage::invocation(&args::string(&a[1])?, args::array(&a[2])?);
            for c in app.conns.members(&conn.hub_path, &group) {
                c.send(&msg);
            }
            Ok(Reply::Done(None))
        }
        M::InvokeClient => {
            let target = args::string(&a[0])?;
            let arguments = args::array(&a[1])?;
            let rx = conn.invoke_client(&target, arguments);
            spawn_reply(conn, call, async move {
                let answer = match tokio::time::timeout(CLIENT_RESULT_TIMEOUT, rx).await {
                    Ok(Ok(Outcome::Result(r))) => json_map("result", r),
                    Ok(Ok(Outcome::Void)) => json_map("result", Value::Nil),
                    Ok(Ok(Outcome::Error(e))) => json_map("error", Value::from(e)),
                    Ok(Err(_)) => json_map("error", Value::from("Connection closed.")),
                    Err(_) => json_map(
                        "error",
                        Value::from("Timed out waiting for the client's result."),
                    ),
                };
                Ok(Some(answer))
            });
            Ok(Reply::Later)
        }
        M::Counter => {
            let count = args::u64(&a[0])?;
            let delay = Duration::from_millis(args::u64(&a[1])?);
            let Some(id) = call.invocation_id.clone() else {
                return Ok(Reply::Later);
            };
            let cancel = Arc::new(Notify::new());
            conn.state()
                .server_streams
                .insert(id.clone(), cancel.clone());
            let conn = conn.clone();
            tokio::spawn(async move {
                for i in 0..count {
                    if !delay.is_zero() {
                        tokio::select! {
                            _ = tokio::time::sleep(delay) => {}
                            _ = cancel.notified() => break,
                        }
                    } else if conn.is_closed() {
                        break;
                    }
                    if !conn.state().server_streams.contains_key(&id) {
                        break; // cancelled
                    }
                    conn.send(&HubMessage::StreamItem {
                        headers: Vec::new(),
                        invocation_id: id.clone(),
                        item: Value::from(i),
                    });
                }
                conn.state().server_streams.remove(&id);
                // ASP.NET Core completes a stream (without error) after the client cancelled it, too.
                conn.send(&HubMessage::completion(&id, Outcome::Void));
            });
            Ok(Reply::Later)
        }
        M::CloseMe => {
            let error = args::opt_string(&a[0])?;
            let allow = args::bool(&a[1])?;
            app.counters
                .bump(conn.key.as_deref(), |c| c.closes_sent += 1);
            conn.close(error, allow);
            app.conns.remove(app, conn, "CloseMe");
            Ok(Reply::Later)
        }
        M::Flood => {
            let count = args::u64(&a[0])?;
            let per_frame = args::u64(&a[1])?;
            let target = args::string(&a[2])?;
            super::flood::flood(conn, count, per_frame, &target, a[3].clone());
            Ok(Reply::Done(Some(Value::from(count))))
        }
        M::FloodConduit => {
            let count = args::u64(&a[0])?;
            let per_frame = args::u64(&a[1])?;
            let task_id = args::string(&a[2])?;
            super::flood::flood_conduit(conn, count, per_frame, &task_id);
            Ok(Reply::Done(Some(Value::from(count))))
        }
        M::Collect => {
            let stream_id = call.stream_ids[0].clone();
            let (tx, mut rx) = mpsc::unbounded_channel();
            conn.state().client_streams.insert(stream_id, tx);
            spawn_reply(conn, call, async move {
                let mut items = Vec::new();
                while let Some(ev) = rx.recv().await {
                    match ev {
                        StreamEvent::Item(v) => items.push(v),
                        StreamEvent::End(None) => return Ok(Some(Value::Array(items))),
                        StreamEvent::End(Some(e)) => {
                            return Err(Fail::Hub(format!("The client stream failed: {e}")))
                        }
                    }
                }
                Ok(Some(Value::Array(items)))
            });
            Ok(Reply::Later)
        }
        M::SendNumbered => {
            let target = args::string(&a[0])?;
            let count = args::u64(&a[1])?;
            let delay = Duration::from_millis(args::u64(&a[2])?);
            let c = conn.clone();
            spawn_reply(conn, call, async move {
                for i in 0..count {
                    if c.is_closed() {
                        break;
                    }
                    c.send(&HubMessage::invocation(&target, vec![Value::from(i)]));
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                }
                Ok(Some(Value::from(count)))
            });
            Ok(Reply::Later)
        }
        _ => Err(Fail::Bind("HubException: Method does not exist.".into())),
    }
}

fn json_map(key: &str, value: Value) -> Value {
    Value::Map(vec![(Value::from(key), value)])
}

/// Runs `work` in its own task and sends its Completion when it ends.
pub fn spawn_reply<F>(conn: &Arc<Connection>, call: &Call, work: F)
where
    F: std::future::Future<Output = Result<Option<Value>, Fail>> + Send + 'static,
{
    let conn = conn.clone();
    let id = call.invocation_id.clone();
    let target = call.target.clone();
    tokio::spawn(async move {
        let result = work.await;
        complete(&conn, &id, &target, result);
    });
}
