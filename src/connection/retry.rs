//! When to try again after a lost connection: the official default delays, a delay list, exponential backoff
//! with jitter, or a caller's own policy.

/// What a retry policy is told before each attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryContext {
    /// Attempts made so far in this reconnect cycle.
    pub previous_retry_count: u32,
    /// Milliseconds since the connection was lost.
    pub elapsed_ms: u64,
    /// Why the connection was lost (or the last attempt failed).
    pub reason: String,
}

/// A reconnect policy.
#[derive(Debug, Clone, PartialEq)]
pub enum RetryPolicy {
    /// Do not reconnect.
    Never,
    /// Wait these delays in turn, then give up. The official default is `[0, 2000, 10000, 30000]`.
    Delays(Vec<u64>),
    /// `min(initial * 2^n, max)` plus up to `jitter` ms of random delay, for at most `max_attempts` tries.
    Exponential {
        /// The first delay in ms.
        initial_ms: u64,
        /// The longest delay in ms.
        max_ms: u64,
        /// Tries before giving up (`None`: forever).
        max_attempts: Option<u32>,
        /// Random extra delay in ms, up to this.
        jitter_ms: u64,
    },
    /// The caller decides each time (a JavaScript callback); the connection asks with an action.
    External,
}

/// The delays of the official client's `withAutomaticReconnect()`.
pub const DEFAULT_DELAYS: [u64; 4] = [0, 2000, 10_000, 30_000];

impl RetryPolicy {
    /// The delay before the next attempt (`Some(None)` to give up), or `None` for
    /// [`RetryPolicy::External`], whose answer comes from outside. `random` is in `[0, 1)`.
    pub fn next_delay(&self, context: &RetryContext, random: f64) -> Option<Option<u64>> {
        let n = context.previous_retry_count;
        Some(match self {
            RetryPolicy::Never => None,
            RetryPolicy::Delays(delays) => delays.get(n as usize).copied(),
            RetryPolicy::Exponential { initial_ms, max_ms, max_attempts, jitter_ms } => {
                if max_attempts.is_some_and(|max| n >= max) {
                    None
                } else {
                    let base = initial_ms.saturating_mul(1u64.checked_shl(n.min(63)).unwrap_or(u64::MAX)).min(*max_ms);
                    Some(base + (random.clamp(0.0, 1.0) * *jitter_ms as f64) as u64)
                }
            }
            RetryPolicy::External => return None,
        })
    }
}
