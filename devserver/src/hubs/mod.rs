//! Hub methods: which hub answers to which method (per dialect), argument binding, the
//! ASP.NET Core error texts, and running a method (inline, in its own task, or as a stream).

pub mod conduit;
pub mod flood;
pub mod test_hub;

use crate::app::App;
use crate::config::Dialect;
use crate::protocol::{HubMessage, Outcome};
use crate::signalr::connection::Connection;
use rmpv::Value;
use std::sync::Arc;

/// The hubs this server hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HubKind {
    Image,
    Video,
    Tasks,
    PublicVideo,
    Test,
}

/// Hub URL paths.
pub const HUBS: &[(&str, HubKind)] = &[
    ("/hubs/image-generation", HubKind::Image),
    ("/hubs/video-generation", HubKind::Video),
    ("/hubs/tasks", HubKind::Tasks),
    ("/hubs/public/video-generation", HubKind::PublicVideo),
    ("/hubs/test", HubKind::Test),
];

impl HubKind {
    /// The hub at `path` (its canonical path and kind).
    pub fn from_path(path: &str) -> Option<(&'static str, HubKind)> {
        let p = path.trim_end_matches('/');
        HUBS.iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(p))
            .copied()
    }

    /// The canonical path of a hub.
    pub fn path(self) -> &'static str {
        HUBS.iter()
            .find(|(_, k)| *k == self)
            .map(|(p, _)| *p)
            .unwrap_or("/hubs/test")
    }

    /// Whether connecting needs a virtual key.
    pub fn requires_auth(self) -> bool {
        matches!(self, HubKind::Image | HubKind::Video | HubKind::Tasks)
    }
}

/// Every hub method this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum M {
    Echo,
    Add,
    Void,
    Throw,
    Delay,
    SendToCaller,
    Broadcast,
    JoinGroup,
    LeaveGroup,
    SendToGroup,
    InvokeClient,
    Counter,
    CloseMe,
    Flood,
    FloodConduit,
    Collect,
    SendNumbered,
    GetConnectionId,
    SubscribeToTask,
    UnsubscribeFromTask,
    SubscribeToRequest,
    UnsubscribeFromRequest,
    SubscribeToTaskType,
    UnsubscribeFromTaskType,
    PublicSubscribeToTask,
}

/// A method's signature: name, method, argument count, streaming result, stream arguments.
type Sig = (&'static str, M, usize, bool, usize);

const TEST_HUB: &[Sig] = &[
    ("Echo", M::Echo, 1, false, 0),
    ("Add", M::Add, 2, false, 0),
    ("Void", M::Void, 0, false, 0),
    ("Throw", M::Throw, 1, false, 0),
    ("Delay", M::Delay, 2, false, 0),
    ("SendToCaller", M::SendToCaller, 2, false, 0),
    ("Broadcast", M::Broadcast, 2, false, 0),
    ("JoinGroup", M::JoinGroup, 1, false, 0),
    ("LeaveGroup", M::LeaveGroup, 1, false, 0),
    ("SendToGroup", M::SendToGroup, 3, false, 0),
    ("InvokeClient", M::InvokeClient, 2, false, 0),
    ("Counter", M::Counter, 2, true, 0),
    ("CloseMe", M::CloseMe, 2, false, 0),
    ("Flood", M::Flood, 4, false, 0),
    ("FloodConduit", M::FloodConduit, 3, false, 0),
    ("Collect", M::Collect, 0, false, 1),
    ("SendNumbered", M::SendNumbered, 3, false, 0),
    ("GetConnectionId", M::GetConnectionId, 0, false, 0),
];

const IMAGE_HUB: &[Sig] = &[
    ("SubscribeToTask", M::SubscribeToTask, 1, false, 0),
    ("UnsubscribeFromTask", M::UnsubscribeFromTask, 1, false, 0),
    ("FloodConduit", M::FloodConduit, 3, false, 0),
];

const VIDEO_HUB_DEPLOYED: &[Sig] = IMAGE_HUB;

const VIDEO_HUB_DOCUMENTED: &[Sig] = &[
    ("SubscribeToRequest", M::SubscribeToRequest, 1, false, 0),
    (
        "UnsubscribeFromRequest",
        M::UnsubscribeFromRequest,
        1,
        false,
        0,
    ),
    ("FloodConduit", M::FloodConduit, 3, false, 0),
];

const TASKS_HUB: &[Sig] = &[
    ("SubscribeToTask", M::SubscribeToTask, 1, false, 0),
    ("UnsubscribeFromTask", M::UnsubscribeFromTask, 1, false, 0),
    ("SubscribeToTaskType", M::SubscribeToTaskType, 1, false, 0),
    (
        "UnsubscribeFromTaskType",
        M::UnsubscribeFromTaskType,
        1,
        false,
        0,
    ),
];

const PUBLIC_VIDEO_HUB: &[Sig] = &[
    ("SubscribeToTask", M::PublicSubscribeToTask, 2, false, 0),
    ("UnsubscribeFromTask", M::UnsubscribeFromTask, 1, false, 0),
];

/// The methods of a hub in a dialect.
pub fn methods(hub: HubKind, dialect: Dialect) -> &'static [Sig] {
    match (hub, dialect) {
        (HubKind::Test, _) => TEST_HUB,
        (HubKind::Image, _) => IMAGE_HUB,
        (HubKind::Video, Dialect::Deployed) => VIDEO_HUB_DEPLOYED,
        (HubKind::Video, Dialect::Documented) => VIDEO_HUB_DOCUMENTED,
        (HubKind::Tasks, _) => TASKS_HUB,
        (HubKind::PublicVideo, _) => PUBLIC_VIDEO_HUB,
    }
}

/// An invocation as it arrived.
pub struct Call {
    pub invocation_id: Option<String>,
    pub target: String,
    pub args: Vec<Value>,
    pub stream_ids: Vec<String>,
    pub streaming: bool,
}

/// Why a method failed: a binding failure or a HubException thrown by the method.
#[derive(Debug)]
pub enum Fail {
    Bind(String),
    Hub(String),
}

/// What an inline method produced.
pub enum Reply {
    /// Send a Completion with this result (None = void).
    Done(Option<Value>),
    /// The method answers later by itself (spawned work) or never (CloseMe).
    Later,
}

/// The text of a binding failure, as ASP.NET Core (with detailed errors) words it.
pub fn bind_error(target: &str, detail: &str) -> String {
    format!("Failed to invoke '{target}' due to an error on the server. {detail}")
}

/// The text of a HubException thrown by a method.
pub fn hub_error(target: &str, message: &str) -> String {
    format!(
        "An unexpected error occurred invoking '{target}' on the server. HubException: {message}"
    )
}

/// Sends the Completion of an invocation (nothing for non-blocking invocations).
pub fn complete(
    conn: &Connection,
    call_id: &Option<String>,
    target: &str,
    result: Result<Option<Value>, Fail>,
) {
    let Some(id) = call_id else { return };
    let outcome = match result {
        Ok(None) => Outcome::Void,
        Ok(Some(v)) => Outcome::Result(v),
        Err(Fail::Bind(d)) => Outcome::Error(bind_error(target, &d)),
        Err(Fail::Hub(m)) => Outcome::Error(hub_error(target, &m)),
    };
    conn.send(&HubMessage::completion(id, outcome));
}

/// Runs one invocation.
pub async fn invoke(app: &Arc<App>, conn: &Arc<Connection>, call: Call) {
    app.counters.bump(conn.key.as_deref(), |c| {
        *c.invocations.entry(call.target.clone()).or_default() += 1
    });
    let table = methods(conn.hub, conn.dialect);
    let Some(&(_, method, params, streaming, stream_params)) = table
        .iter()
        .find(|(name, ..)| name.eq_ignore_ascii_case(&call.target))
    else {
        complete(
            conn,
            &call.invocation_id,
            &call.target,
            Err(Fail::Bind("HubException: Method does not exist.".into())),
        );
        return;
    };
    if call.args.len() != params {
        let detail = format!(
            "InvalidDataException: Invocation provides {} argument(s) but target expects {}.",
            call.args.len(),
            params
        );
        complete(
            conn,
            &call.invocation_id,
            &call.target,
            Err(Fail::Bind(detail)),
        );
        return;
    }
    if call.stream_ids.len() != stream_params {
        let detail = format!(
            "HubException: Client sent {} stream(s), Hub method expects {}.",
            call.stream_ids.len(),
            stream_params
        );
        complete(
            conn,
            &call.invocation_id,
            &call.target,
            Err(Fail::Bind(detail)),
        );
        return;
    }
    if streaming != call.streaming {
        if let Some(id) = &call.invocation_id {
            let msg = if streaming {
                format!("The client attempted to invoke the streaming '{}' method with a non-streaming invocation.", call.target)
            } else {
                format!("The client attempted to invoke the non-streaming '{}' method with a streaming invocation.", call.target)
            };
            conn.send(&HubMessage::completion(id, Outcome::Error(msg)));
        }
        return;
    }
    let reply = match conn.hub {
        HubKind::Test => test_hub::run(app, conn, method, &call),
        _ => conduit::run(app, conn, method, &call),
    };
    match reply {
        Ok(Reply::Done(v)) => complete(conn, &call.invocation_id, &call.target, Ok(v)),
        Ok(Reply::Later) => {}
        Err(f) => complete(conn, &call.invocation_id, &call.target, Err(f)),
    }
}

/// Argument helpers: binding failures use ASP.NET's wording.
pub mod args {
    use super::Fail;
    use rmpv::Value;

    fn bad() -> Fail {
        Fail::Bind(
            "InvalidDataException: Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked.".into(),
        )
    }

    pub fn string(v: &Value) -> Result<String, Fail> {
        v.as_str().map(str::to_string).ok_or_else(bad)
    }

    pub fn opt_string(v: &Value) -> Result<Option<String>, Fail> {
        match v {
            Value::Nil => Ok(None),
            other => string(other).map(Some),
        }
    }

    pub fn u64(v: &Value) -> Result<u64, Fail> {
        match v {
            Value::Integer(i) => i.as_u64().ok_or_else(bad),
            Value::F64(f) if *f >= 0.0 && f.fract() == 0.0 => Ok(*f as u64),
            Value::F32(f) if *f >= 0.0 && f.fract() == 0.0 => Ok(*f as u64),
            _ => Err(bad()),
        }
    }

    pub fn bool(v: &Value) -> Result<bool, Fail> {
        match v {
            Value::Boolean(b) => Ok(*b),
            Value::Nil => Ok(false),
            _ => Err(bad()),
        }
    }

    pub fn array(v: &Value) -> Result<Vec<Value>, Fail> {
        match v {
            Value::Array(a) => Ok(a.clone()),
            Value::Nil => Ok(Vec::new()),
            _ => Err(bad()),
        }
    }

    /// A number as i64 (exact) or f64.
    pub fn number(v: &Value) -> Result<Result<i64, f64>, Fail> {
        match v {
            Value::Integer(i) => i
                .as_i64()
                .map(Ok)
                .or_else(|| i.as_f64().map(Err))
                .ok_or_else(bad),
            Value::F64(f) => Ok(Err(*f)),
            Value::F32(f) => Ok(Err(*f as f64)),
            _ => Err(bad()),
        }
    }
}
