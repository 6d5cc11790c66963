//! Tasks as the Conduit layer sees them: their kind, their lifecycle status, and what the server says
//! happened to them.

/// Which hub and HTTP endpoints a task belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskKind {
    /// Image generation.
    Image,
    /// Video generation.
    Video,
}

impl TaskKind {
    /// The seed's name: `image` or `video`.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Image => "image",
            TaskKind::Video => "video",
        }
    }

    /// Parses `image` or `video`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "image" => Some(TaskKind::Image),
            "video" => Some(TaskKind::Video),
            _ => None,
        }
    }

    /// The hub path under the base URL.
    pub fn hub_path(self) -> &'static str {
        match self {
            TaskKind::Image => "/hubs/image-generation",
            TaskKind::Video => "/hubs/video-generation",
        }
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Created or queued, no progress yet.
    Pending,
    /// Running.
    InProgress,
    /// Finished with a result.
    Completed,
    /// Finished with an error.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl TaskStatus {
    /// The name used in events and snapshots.
    pub fn name(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    /// Whether nothing more can happen to the task.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled)
    }
}

/// Progress details beyond the percentage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    /// 0 to 100.
    pub percent: f64,
    /// The server's status word (`processing`, ...).
    pub status: Option<String>,
    /// A human-readable message.
    pub message: Option<String>,
    /// Images finished so far.
    pub images_completed: Option<f64>,
    /// Images requested.
    pub total_images: Option<f64>,
    /// Video frames finished so far.
    pub frames_completed: Option<f64>,
    /// Video frames in all.
    pub total_frames: Option<f64>,
}

/// What a finished task produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Every image URL (safe schemes only).
    pub image_urls: Vec<String>,
    /// The video URL.
    pub video_url: Option<String>,
    /// A preview or poster URL.
    pub preview_url: Option<String>,
    /// What it cost.
    pub cost: Option<f64>,
    /// How long it took, in seconds.
    pub duration_seconds: Option<f64>,
    /// The server's metadata object, as JSON.
    pub metadata: Option<String>,
}

/// Something the server said about a task (a hub event or an HTTP status).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskEvent {
    /// The task started; `estimated_seconds` when the server gave an estimate.
    Started {
        /// The task.
        task_id: String,
        /// The server's estimate of the total duration.
        estimated_seconds: Option<f64>,
    },
    /// The task progressed.
    Progress {
        /// The task.
        task_id: String,
        /// How far.
        progress: Progress,
    },
    /// The task finished with a result.
    Completed {
        /// The task.
        task_id: String,
        /// The result.
        outcome: Outcome,
    },
    /// The task failed.
    Failed {
        /// The task.
        task_id: String,
        /// Why.
        error: String,
        /// Whether trying again may help.
        is_retryable: Option<bool>,
    },
    /// The task was cancelled.
    Cancelled {
        /// The task.
        task_id: String,
        /// Why, if said.
        reason: Option<String>,
    },
}

impl TaskEvent {
    /// The task the event is about.
    pub fn task_id(&self) -> &str {
        match self {
            TaskEvent::Started { task_id, .. }
            | TaskEvent::Progress { task_id, .. }
            | TaskEvent::Completed { task_id, .. }
            | TaskEvent::Failed { task_id, .. }
            | TaskEvent::Cancelled { task_id, .. } => task_id,
        }
    }
}

/// Whether a URL from the server may reach the page: http(s), or an inline image.
pub fn is_safe_url(url: &str) -> bool {
    let lower = url.get(..11).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("data:image/")
}
