//! Generation tasks: their data, the simulated timeline (queued -> started -> progress ->
//! completed / failed), hold, cancel, advance and retry. Every transition publishes events.

use super::events::{self, TaskEvent};
use crate::app::App;
use crate::util::now_unix_ms;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// What is being generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Video,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
        }
    }
}

/// Task states as Conduit names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Queued,
    Processing,
    Completed,
    Failed,
    Cancelled,
    TimedOut,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Queued => "queued",
            Status::Processing => "processing",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::TimedOut => "timedout",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Failed | Status::Cancelled | Status::TimedOut
        )
    }
}

/// What a client asked for.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub kind: Kind,
    pub owner: String,
    pub prompt: String,
    pub model: String,
    pub n: u32,
    pub size: String,
    pub style: Option<String>,
    pub duration_secs: f64,
    pub fps: u32,
    /// `http://host:port` as the client reached us, for absolute media URLs.
    pub base_url: String,
}

/// A task's state at one moment.
#[derive(Debug, Clone)]
pub struct TaskData {
    pub id: String,
    pub serial: u64,
    pub req: NewTask,
    pub status: Status,
    pub progress: u32,
    pub message: String,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub started_ms: Option<u64>,
    pub completed_ms: Option<u64>,
    pub error: Option<String>,
    pub retryable: bool,
    pub cancel_reason: Option<String>,
    pub attempt: u32,
    pub progress_events: u32,
}

impl TaskData {
    pub fn kind(&self) -> Kind {
        self.req.kind
    }

    pub fn image_urls(&self) -> Vec<String> {
        (0..self.req.n.max(1))
            .map(|i| format!("{}/generated/{}/{}.svg", self.req.base_url, self.id, i))
            .collect()
    }

    pub fn video_url(&self) -> String {
        format!("{}/generated/{}.webm", self.req.base_url, self.id)
    }

    pub fn poster_url(&self) -> String {
        format!("{}/generated/{}/poster.svg", self.req.base_url, self.id)
    }

    /// Half the video tasks (even serials) complete with the rich deployed shape.
    pub fn rich_completion(&self) -> bool {
        self.serial % 2 == 0
    }

    /// Simulated cost in USD.
    pub fn cost(&self) -> f64 {
        match self.req.kind {
            Kind::Image => 0.04 * self.req.n.max(1) as f64,
            Kind::Video => (self.req.duration_secs * 0.05 * 100.0).round() / 100.0,
        }
    }

    /// Seconds from start to completion (or so far).
    pub fn duration_secs(&self) -> f64 {
        let start = self.started_ms.unwrap_or(self.created_ms);
        let end = self.completed_ms.unwrap_or(self.updated_ms);
        end.saturating_sub(start) as f64 / 1000.0
    }

    pub fn provider(&self) -> &'static str {
        match self.req.kind {
            Kind::Image => "conduit-devserver",
            Kind::Video => "minimax",
        }
    }
}

/// The planned timeline of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub start_delay: Duration,
    pub interval: Duration,
    pub steps: u32,
    /// Fail after this many progress steps.
    pub fail_after: Option<u32>,
    pub retryable: bool,
}

impl Plan {
    pub fn total(&self) -> Duration {
        self.start_delay + self.interval * (self.steps + 1)
    }
}

/// Reads `name=digits` from a prompt (the name must not follow a letter or digit).
pub fn directive(prompt: &str, name: &str) -> Option<u64> {
    let pat = format!("{name}=");
    let mut from = 0;
    while let Some(pos) = prompt[from..].find(&pat) {
        let at = from + pos;
        let before_ok = prompt[..at]
            .chars()
            .last()
            .map_or(true, |c| !c.is_ascii_alphanumeric());
        let digits: String = prompt[at + pat.len()..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if before_ok && !digits.is_empty() {
            return digits.parse().ok();
        }
        from = at + pat.len();
    }
    None
}

/// Plans an attempt: ~3 s (images) or ~4 s (video) scaled by `speed`, 5 progress steps;
/// `ms=` (unscaled total) and `steps=` in the prompt override; `fail` fails the first attempt.
pub fn plan(kind: Kind, prompt: &str, speed: f64, attempt: u32) -> Plan {
    let default_ms = match kind {
        Kind::Image => 3000.0,
        Kind::Video => 4000.0,
    };
    let total_ms = directive(prompt, "ms")
        .map(|m| m as f64)
        .unwrap_or(default_ms / speed);
    let steps = directive(prompt, "steps")
        .map(|s| s.min(1000) as u32)
        .unwrap_or(5);
    let start_ms = (200.0 / speed).min(total_ms / (steps as f64 + 2.0));
    let interval_ms = (total_ms - start_ms).max(0.0) / (steps as f64 + 1.0);
    let lower = prompt.to_ascii_lowercase();
    let fails = attempt <= 1 && lower.contains("fail");
    Plan {
        start_delay: Duration::from_micros((start_ms * 1000.0) as u64),
        interval: Duration::from_micros((interval_ms * 1000.0) as u64),
        steps,
        fail_after: fails.then_some(steps / 2),
        retryable: lower.contains("fail-retryable"),
    }
}

/// Progress percentage after step `k` of `steps` (never 100 before completion).
pub fn step_progress(k: u32, steps: u32) -> u32 {
    ((k as f64 * 100.0) / (steps as f64 + 1.0)).round() as u32
}

/// One task: its data and a way to wake its timeline.
pub struct TaskEntry {
    data: Mutex<TaskData>,
    wake: Notify,
}

impl TaskEntry {
    pub fn data(&self) -> MutexGuard<'_, TaskData> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn snapshot(&self) -> TaskData {
        self.data().clone()
    }
}

/// Why a control request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlError {
    NotFound,
    AlreadyFinished(Status),
    NotFailed(Status),
}

/// All tasks.
pub struct TaskStore {
    map: Mutex<HashMap<String, Arc<TaskEntry>>>,
    hold: watch::Sender<bool>,
    serial: AtomicU64,
}

impl Default for TaskStore {
    fn default() -> Self {
        TaskStore {
            map: Mutex::new(HashMap::new()),
            hold: watch::Sender::new(false),
            serial: AtomicU64::new(0),
        }
    }
}

impl TaskStore {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<TaskEntry>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, id: &str) -> Option<Arc<TaskEntry>> {
        self.map().get(id).cloned()
    }

    pub fn snapshot(&self, id: &str) -> Option<TaskData> {
        self.get(id).map(|e| e.snapshot())
    }

    /// The task if `owner` owns it.
    pub fn owned(&self, id: &str, owner: Option<&str>) -> Option<TaskData> {
        self.snapshot(id)
            .filter(|t| Some(t.req.owner.as_str()) == owner)
    }

    /// Holds (or releases) every timeline.
    pub fn set_hold(&self, on: bool) {
        self.hold.send_replace(on);
    }

    pub fn held(&self) -> bool {
        *self.hold.borrow()
    }

    /// Creates a task and starts its timeline.
    pub fn create(&self, app: &Arc<App>, req: NewTask) -> TaskData {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        let now = now_unix_ms();
        let data = TaskData {
            id: crate::util::guid_with_counter(serial),
            serial,
            status: match req.kind {
                Kind::Image => Status::Queued,
                Kind::Video => Status::Pending,
            },
            progress: 0,
            message: "Queued".into(),
            created_ms: now,
            updated_ms: now,
            started_ms: None,
            completed_ms: None,
            error: None,
            retryable: false,
            cancel_reason: None,
            attempt: 1,
            progress_events: 0,
            req,
        };
        let entry = Arc::new(TaskEntry {
            data: Mutex::new(data.clone()),
            wake: Notify::new(),
        });
        self.map().insert(data.id.clone(), entry.clone());
        let p = plan(data.req.kind, &data.req.prompt, app.config.speed, 1);
        app.log(format_args!(
            "task {} {} created key={} steps={} total={}ms{}",
            data.id,
            data.req.kind.name(),
            crate::util::mask(&data.req.owner),
            p.steps,
            p.total().as_millis(),
            if p.fail_after.is_some() {
                " (will fail)"
            } else {
                ""
            }
        ));
        spawn_timeline(app.clone(), entry, p);
        data
    }

    /// Finishes a task now (cancel, or `/_dev/.../advance`). Publishes the terminal event.
    pub fn finish(
        &self,
        app: &Arc<App>,
        id: &str,
        to: Status,
        reason: Option<String>,
    ) -> Result<TaskData, ControlError> {
        let entry = self.get(id).ok_or(ControlError::NotFound)?;
        let snap = {
            let mut d = entry.data();
            if d.status.is_terminal() {
                return Err(ControlError::AlreadyFinished(d.status));
            }
            apply_terminal(&mut d, to, reason);
            d.clone()
        };
        entry.wake.notify_one();
        publish_terminal(app, &snap);
        Ok(snap)
    }

    /// Retries a failed task: a new attempt that ignores `fail` in the prompt.
    pub fn retry(&self, app: &Arc<App>, id: &str) -> Result<TaskData, ControlError> {
        let entry = self.get(id).ok_or(ControlError::NotFound)?;
        let (snap, p) = {
            let mut d = entry.data();
            if d.status != Status::Failed {
                return Err(ControlError::NotFailed(d.status));
            }
            d.attempt += 1;
            d.status = Status::Pending;
            d.progress = 0;
            d.error = None;
            d.retryable = false;
            d.completed_ms = None;
            d.started_ms = None;
            d.progress_events = 0;
            d.message = "Retry queued".into();
            d.updated_ms = now_unix_ms();
            (
                d.clone(),
                plan(d.req.kind, &d.req.prompt, app.config.speed, d.attempt),
            )
        };
        app.log(format_args!(
            "task {} retry (attempt {})",
            snap.id, snap.attempt
        ));
        spawn_timeline(app.clone(), entry, p);
        Ok(snap)
    }

    /// Forgets tasks (all, or one key's), stopping their timelines silently.
    pub fn clear(&self, owner: Option<&str>) {
        let removed: Vec<Arc<TaskEntry>> = {
            let mut map = self.map();
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, e)| owner.map_or(true, |o| e.data().req.owner == o))
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for e in removed {
            let mut d = e.data();
            if !d.status.is_terminal() {
                d.status = Status::Cancelled;
                d.cancel_reason = Some("Server state reset".into());
            }
            drop(d);
            e.wake.notify_one();
        }
    }
}

fn apply_terminal(d: &mut TaskData, to: Status, reason: Option<String>) {
    let now = now_unix_ms();
    d.status = to;
    d.updated_ms = now;
    d.completed_ms = Some(now);
    if d.started_ms.is_none() {
        d.started_ms = Some(now);
    }
    match to {
        Status::Completed => {
            d.progress = 100;
            d.message = "Completed".into();
        }
        Status::Failed => {
            d.error = Some(reason.unwrap_or_else(|| "Generation failed.".into()));
            d.message = "Failed".into();
        }
        Status::Cancelled => {
            d.cancel_reason = Some(reason.unwrap_or_else(|| "Cancelled by user".into()));
            d.message = "Cancelled".into();
        }
        _ => {}
    }
}

fn publish_terminal(app: &Arc<App>, snap: &TaskData) {
    let ev = match snap.status {
        Status::Completed => TaskEvent::Completed,
        Status::Failed => TaskEvent::Failed,
        _ => TaskEvent::Cancelled,
    };
    app.log(format_args!("task {} {}", snap.id, snap.status.as_str()));
    events::publish(app, snap, &ev);
}

fn spawn_timeline(app: Arc<App>, entry: Arc<TaskEntry>, plan: Plan) {
    tokio::spawn(async move { run_timeline(&app, &entry, &plan).await });
}

/// Waits `d` on the task's clock: paused while held, cut short when the task finished.
/// Returns false when the task is finished.
async fn wait(app: &App, entry: &TaskEntry, d: Duration) -> bool {
    let mut hold = app.tasks.hold.subscribe();
    let mut remaining = d;
    loop {
        if entry.data().status.is_terminal() {
            return false;
        }
        if *hold.borrow_and_update() {
            tokio::select! {
                _ = hold.changed() => {}
                _ = entry.wake.notified() => {}
            }
            continue;
        }
        let start = tokio::time::Instant::now();
        tokio::select! {
            _ = tokio::time::sleep(remaining) => return !entry.data().status.is_terminal(),
            _ = entry.wake.notified() => {}
            _ = hold.changed() => {}
        }
        remaining = remaining.saturating_sub(start.elapsed());
    }
}

/// Applies a non-terminal step unless the task finished meanwhile.
fn step(app: &Arc<App>, entry: &TaskEntry, f: impl FnOnce(&mut TaskData) -> TaskEvent) -> bool {
    let (snap, ev) = {
        let mut d = entry.data();
        if d.status.is_terminal() {
            return false;
        }
        let ev = f(&mut d);
        d.updated_ms = now_unix_ms();
        (d.clone(), ev)
    };
    events::publish(app, &snap, &ev);
    true
}

async fn run_timeline(app: &Arc<App>, entry: &TaskEntry, plan: &Plan) {
    if !wait(app, entry, plan.start_delay).await {
        return;
    }
    let started = step(app, entry, |d| {
        d.status = Status::Processing;
        d.started_ms = Some(now_unix_ms());
        d.message = "Started".into();
        TaskEvent::Started
    });
    if !started {
        return;
    }
    let last_step = plan.fail_after.unwrap_or(plan.steps);
    for k in 1..=last_step {
        if !wait(app, entry, plan.interval).await {
            return;
        }
        let ok = step(app, entry, |d| {
            d.progress = step_progress(k, plan.steps);
            d.progress_events += 1;
            d.message = match d.req.kind {
                Kind::Image => format!("Generating image ({}%)", d.progress),
                Kind::Video => format!("Rendering video ({}%)", d.progress),
            };
            TaskEvent::Progress
        });
        if !ok {
            return;
        }
    }
    if !wait(app, entry, plan.interval).await {
        return;
    }
    let id = entry.data().id.clone();
    let result = if plan.fail_after.is_some() {
        {
            entry.data().retryable = plan.retryable;
        }
        let msg = if plan.retryable {
            "Simulated transient provider failure (the prompt asked for 'fail-retryable')."
        } else {
            "Simulated provider failure (the prompt asked for 'fail')."
        };
        app.tasks.finish(app, &id, Status::Failed, Some(msg.into()))
    } else {
        app.tasks.finish(app, &id, Status::Completed, None)
    };
    let _ = result;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives() {
        assert_eq!(directive("a cat ms=500 steps=2", "ms"), Some(500));
        assert_eq!(directive("a cat ms=500 steps=2", "steps"), Some(2));
        assert_eq!(directive("items=5", "ms"), None);
        assert_eq!(directive("ms=", "ms"), None);
        assert_eq!(directive("(ms=12)", "ms"), Some(12));
        assert_eq!(directive("xms=1 ms=9", "ms"), Some(9));
    }

    #[test]
    fn default_plans_scale_with_speed() {
        let p = plan(Kind::Image, "a cat", 1.0, 1);
        assert_eq!(p.steps, 5);
        assert_eq!(p.start_delay, Duration::from_millis(200));
        assert!(
            (p.total().as_millis() as i64 - 3000).abs() <= 1,
            "{:?}",
            p.total()
        );
        assert_eq!(p.fail_after, None);
        let v = plan(Kind::Video, "a dog", 1.0, 1);
        assert!((v.total().as_millis() as i64 - 4000).abs() <= 1);
        let fast = plan(Kind::Image, "a cat", 10.0, 1);
        assert_eq!(fast.start_delay, Duration::from_millis(20));
        assert!((fast.total().as_millis() as i64 - 300).abs() <= 1);
    }

    #[test]
    fn prompt_directives_override() {
        let p = plan(Kind::Image, "x ms=100 steps=3", 10.0, 1);
        assert_eq!(p.steps, 3);
        assert!((p.total().as_micros() as i64 - 100_000).abs() <= 10);
        let f = plan(Kind::Video, "please fail-retryable", 1.0, 1);
        assert_eq!(f.fail_after, Some(2));
        assert!(f.retryable);
        let again = plan(Kind::Video, "please fail-retryable", 1.0, 2);
        assert_eq!(again.fail_after, None);
        let hard = plan(Kind::Image, "FAIL now", 1.0, 1);
        assert!(hard.fail_after.is_some() && !hard.retryable);
    }

    #[test]
    fn progress_steps() {
        let v: Vec<u32> = (1..=5).map(|k| step_progress(k, 5)).collect();
        assert_eq!(v, vec![17, 33, 50, 67, 83]);
        assert_eq!(step_progress(1, 1), 50);
    }
}
