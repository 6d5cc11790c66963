//! The one registry of tasks: their state, what has been delivered to the user, and the rules that keep
//! delivery exact: progress never goes backwards, and a task's outcome is delivered once.

use std::collections::{HashMap, VecDeque};

use super::id_hash::{IdHashing, IdMap};
use super::json::ObjectWriter;
use super::task::{Outcome, Progress, TaskEvent, TaskKind, TaskStatus};

/// A task and what is known about it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedTask {
    /// The task id.
    pub id: String,
    /// Image or video, when known.
    pub kind: Option<TaskKind>,
    /// Lifecycle status.
    pub status: TaskStatus,
    /// Latest progress.
    pub progress: Progress,
    /// The result, once completed.
    pub outcome: Option<Outcome>,
    /// The error, once failed.
    pub error: Option<String>,
    /// Whether the failure may be retried.
    pub is_retryable: Option<bool>,
    /// Why it was cancelled.
    pub reason: Option<String>,
    /// Whether the hub sends us its events.
    pub subscribed: bool,
    /// Whether the user wants its events (generated or subscribed, not unsubscribed): such a task is joined
    /// again after every reconnect.
    pub followed: bool,
    /// Seconds left, when they can be estimated.
    pub eta_seconds: Option<f64>,
    /// The registry's version when the task last changed.
    pub revision: u64,
    order: u64,
    created_at: u64,
    updated_at: u64,
    first_progress: Option<(u64, f64)>,
    started_at: Option<u64>,
    estimated_seconds: Option<f64>,
}

impl TrackedTask {
    fn new(id: &str, kind: Option<TaskKind>, order: u64, now: u64) -> Self {
        TrackedTask {
            id: id.to_string(),
            kind,
            status: TaskStatus::Pending,
            progress: Progress::default(),
            outcome: None,
            error: None,
            is_retryable: None,
            reason: None,
            subscribed: false,
            followed: false,
            eta_seconds: None,
            revision: 0,
            order,
            created_at: now,
            updated_at: now,
            first_progress: None,
            started_at: None,
            estimated_seconds: None,
        }
    }
}

/// A user-facing event: its name, its task and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// `started`, `progress`, `completed`, `failed` or `cancelled`.
    pub name: &'static str,
    /// The task it concerns.
    pub task_id: String,
    /// The payload as JSON; `None` for `progress`, whose payload is the task's progress and ETA as they now are.
    pub json: Option<String>,
}

/// Every task the client knows, keyed by id.
#[derive(Debug)]
pub struct Registry {
    tasks: IdMap<String, TrackedTask>,
    finished: VecDeque<String>,
    max_finished: usize,
    next_order: u64,
    version: u64,
    changes: Changes,
    /// The version when the changes were last taken.
    taken_at: u64,
}

/// What changed since the changes were last taken (see [`Registry::take_changes`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// Tasks were added or removed.
    pub membership: bool,
    /// Tasks that changed, each once.
    pub tasks: Vec<String>,
}

impl Registry {
    /// An empty registry keeping at most `max_finished` finished tasks (the oldest are forgotten first), hashing
    /// task ids with `seed` (a random one in the browser).
    pub fn new(max_finished: usize, seed: u64) -> Self {
        Registry {
            tasks: HashMap::with_hasher(IdHashing::new(seed)),
            finished: VecDeque::new(),
            max_finished,
            next_order: 0,
            version: 0,
            changes: Changes::default(),
            taken_at: 0,
        }
    }

    /// What changed since the last call: lets a view update only the tasks that changed.
    pub fn take_changes(&mut self) -> Changes {
        self.taken_at = self.version;
        core::mem::take(&mut self.changes)
    }

    /// Changes whenever anything in the registry changes.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// How the registry hashes task ids, for other maps keyed by them.
    pub fn hashing(&self) -> IdHashing {
        *self.tasks.hasher()
    }

    /// How many tasks are known.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is known.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// A task by id.
    pub fn get(&self, id: &str) -> Option<&TrackedTask> {
        self.tasks.get(id)
    }

    /// Starts tracking a task (no-op when known; fills in the kind when it was unknown); the task.
    pub fn track(&mut self, id: &str, kind: Option<TaskKind>, now: u64) -> Option<&mut TrackedTask> {
        self.version += 1;
        let order = self.next_order;
        if !self.tasks.contains_key(id) {
            self.tasks.insert(id.to_string(), TrackedTask::new(id, kind, order, now));
            self.next_order += 1;
            self.changes.membership = true;
        }
        let task = self.tasks.get_mut(id)?;
        if task.revision <= self.taken_at {
            self.changes.tasks.push(task.id.clone());
        }
        if task.kind.is_none() {
            task.kind = kind;
        }
        task.revision = self.version;
        Some(task)
    }

    /// Marks a task (un)subscribed.
    pub fn set_subscribed(&mut self, id: &str, subscribed: bool) {
        if let Some(t) = self.tasks.get_mut(id) {
            if t.subscribed != subscribed {
                t.subscribed = subscribed;
                if t.revision <= self.taken_at {
                    self.changes.tasks.push(t.id.clone());
                }
                self.version += 1;
                t.revision = self.version;
            }
        }
    }

    /// Marks whether the user wants a task's events.
    pub fn set_followed(&mut self, id: &str, followed: bool) {
        if let Some(t) = self.tasks.get_mut(id) {
            t.followed = followed;
        }
    }

    /// Unfinished tasks of `kind` the user follows, oldest first: what a reconnect joins again.
    pub fn followed(&self, kind: TaskKind) -> Vec<String> {
        self.unfinished(Some(kind)).into_iter().map(|(id, _)| id).filter(|id| self.get(id).is_some_and(|t| t.followed)).collect()
    }

    /// Forgets a task.
    pub fn remove(&mut self, id: &str) -> Option<TrackedTask> {
        let removed = self.tasks.remove(id);
        if removed.is_some() {
            self.version += 1;
            self.changes.membership = true;
            self.finished.retain(|f| f != id);
        }
        removed
    }

    /// Forgets every finished task.
    pub fn clear_finished(&mut self) {
        for id in core::mem::take(&mut self.finished) {
            self.tasks.remove(&id);
        }
        self.version += 1;
        self.changes.membership = true;
    }

    /// Tasks that have not finished, of one kind (or all).
    pub fn unfinished(&self, kind: Option<TaskKind>) -> Vec<(String, Option<TaskKind>)> {
        let mut list: Vec<&TrackedTask> = self
            .tasks
            .values()
            .filter(|t| !t.status.is_terminal() && (kind.is_none() || t.kind == kind || t.kind.is_none()))
            .collect();
        list.sort_by_key(|t| t.order);
        list.into_iter().map(|t| (t.id.clone(), t.kind)).collect()
    }

    /// Applies what the server said; returns the event to deliver, or `None` when it would repeat or undo
    /// what the user already saw.
    pub fn apply(&mut self, event: TaskEvent, kind: Option<TaskKind>, now: u64) -> Option<Delivery> {
        let task_id = event.task_id().to_string();
        let task = self.track(&task_id, kind, now)?;
        if task.status.is_terminal() {
            return None;
        }
        task.updated_at = now;
        let delivery = match event {
            TaskEvent::Started { estimated_seconds, .. } => {
                task.started_at.get_or_insert(now);
                task.estimated_seconds = estimated_seconds.or(task.estimated_seconds);
                let json = base(task).opt_number("estimatedSeconds", estimated_seconds).finish();
                Delivery { name: "started", task_id, json: Some(json) }
            }
            TaskEvent::Progress { progress, .. } => {
                if progress.percent < task.progress.percent {
                    return None;
                }
                task.started_at.get_or_insert(now);
                task.first_progress.get_or_insert((now, progress.percent));
                task.status = TaskStatus::InProgress;
                task.progress = progress;
                task.eta_seconds = eta(task, now);
                Delivery { name: "progress", task_id, json: None }
            }
            TaskEvent::Completed { outcome, .. } => {
                task.status = TaskStatus::Completed;
                task.progress.percent = 100.0;
                task.eta_seconds = Some(0.0);
                let json = completed_json(task, &outcome);
                task.outcome = Some(outcome);
                Delivery { name: "completed", task_id, json: Some(json) }
            }
            TaskEvent::Failed { error, is_retryable, .. } => {
                task.status = TaskStatus::Failed;
                task.eta_seconds = None;
                let json = base(task)
                    .string("status", "failed")
                    .string("error", &error)
                    .opt_boolean("isRetryable", is_retryable)
                    .finish();
                task.error = Some(error);
                task.is_retryable = is_retryable;
                Delivery { name: "failed", task_id, json: Some(json) }
            }
            TaskEvent::Cancelled { reason, .. } => {
                task.status = TaskStatus::Cancelled;
                task.eta_seconds = None;
                let json = base(task).string("status", "cancelled").opt_string("reason", reason.as_deref()).finish();
                task.reason = reason;
                Delivery { name: "cancelled", task_id, json: Some(json) }
            }
        };
        if task.status.is_terminal() {
            self.finished.push_back(delivery.task_id.clone());
            while self.finished.len() > self.max_finished {
                if let Some(old) = self.finished.pop_front() {
                    self.tasks.remove(&old);
                    self.changes.membership = true;
                }
            }
        }
        Some(delivery)
    }

    /// Every task, oldest first: what the React hook renders.
    pub fn ordered(&self) -> Vec<&TrackedTask> {
        let mut list: Vec<&TrackedTask> = self.tasks.values().collect();
        list.sort_by_key(|t| t.order);
        list
    }

    /// Every task as a JSON array, oldest first.
    pub fn snapshot_json(&self) -> String {
        let mut out = String::from("[");
        for (i, t) in self.ordered().into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&task_json(t));
        }
        out.push(']');
        out
    }
}

/// What the snapshot shows of a task, field by field (absent fields are left out).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFields<'a> {
    /// The task id (the snapshot shows it as both `id` and `taskId`).
    pub id: &'a str,
    /// `image` or `video`.
    pub task_type: Option<&'static str>,
    /// The lifecycle status name.
    pub status: &'static str,
    /// 0 to 100.
    pub progress: f64,
    /// The latest progress message.
    pub message: Option<&'a str>,
    /// The server's status word.
    pub status_text: Option<&'a str>,
    /// Seconds left (finite).
    pub estimated_seconds_remaining: Option<f64>,
    /// The `completed` payload as JSON, once completed.
    pub result: Option<String>,
    /// The error, once failed.
    pub error: Option<&'a str>,
    /// Whether the failure may be retried.
    pub is_retryable: Option<bool>,
    /// Why it was cancelled.
    pub reason: Option<&'a str>,
    /// Whether the hub sends its events.
    pub subscribed: bool,
    /// When the client first heard of it (ms since the epoch).
    pub created_at: f64,
    /// When it last changed (ms since the epoch).
    pub updated_at: f64,
}

impl<'a> TaskFields<'a> {
    /// The fields of `t`.
    pub fn of(t: &'a TrackedTask) -> Self {
        TaskFields {
            id: &t.id,
            task_type: t.kind.map(TaskKind::name),
            status: t.status.name(),
            // As JSON carries numbers: no negative zero.
            progress: t.progress.percent + 0.0,
            message: t.progress.message.as_deref(),
            status_text: t.progress.status.as_deref(),
            estimated_seconds_remaining: t.eta_seconds.filter(|s| s.is_finite()).map(|s| s + 0.0),
            result: t.outcome.as_ref().map(|o| completed_json(t, o)),
            error: t.error.as_deref(),
            is_retryable: t.is_retryable,
            reason: t.reason.as_deref(),
            subscribed: t.subscribed,
            created_at: t.created_at as f64,
            updated_at: t.updated_at as f64,
        }
    }
}

/// One task as the JSON object of the snapshot.
pub fn task_json(t: &TrackedTask) -> String {
    let f = TaskFields::of(t);
    ObjectWriter::new()
        .string("id", f.id)
        .string("taskId", f.id)
        .opt_string("taskType", f.task_type)
        .string("status", f.status)
        .number("progress", f.progress)
        .opt_string("message", f.message)
        .opt_string("statusText", f.status_text)
        .opt_number("estimatedSecondsRemaining", f.estimated_seconds_remaining)
        .raw("result", f.result.as_deref())
        .opt_string("error", f.error)
        .opt_boolean("isRetryable", f.is_retryable)
        .opt_string("reason", f.reason)
        .boolean("subscribed", f.subscribed)
        .number("createdAt", f.created_at)
        .number("updatedAt", f.updated_at)
        .finish()
}

fn base(task: &TrackedTask) -> ObjectWriter {
    let mut w = ObjectWriter::new();
    w.string("taskId", &task.id).opt_string("taskType", task.kind.map(TaskKind::name));
    w
}

fn completed_json(task: &TrackedTask, o: &Outcome) -> String {
    base(task)
        .string("status", "completed")
        .opt_string("imageUrl", o.image_urls.first().map(String::as_str))
        .strings("imageUrls", &o.image_urls)
        .opt_string("videoUrl", o.video_url.as_deref())
        .opt_string("previewUrl", o.preview_url.as_deref())
        .opt_number("cost", o.cost)
        .opt_number("durationSeconds", o.duration_seconds)
        .raw("metadata", o.metadata.as_deref())
        .finish()
}

/// Seconds left: from the observed rate of progress, else from the server's estimate.
fn eta(task: &TrackedTask, now: u64) -> Option<f64> {
    let p = task.progress.percent;
    if p >= 100.0 {
        return Some(0.0);
    }
    if let Some((t0, p0)) = task.first_progress {
        if p > p0 && now > t0 {
            let per_ms = (p - p0) / (now - t0) as f64;
            return Some(((100.0 - p) / per_ms / 1000.0).round());
        }
    }
    let (estimate, started) = (task.estimated_seconds?, task.started_at?);
    Some((estimate - now.saturating_sub(started) as f64 / 1000.0).max(0.0).round())
}
