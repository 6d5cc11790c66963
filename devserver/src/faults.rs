//! Injected failures for `/_dev/fail`: the next N (or for M ms) negotiations, HTTP API calls
//! or WebSocket upgrades fail.

use std::sync::Mutex;

/// Which kind of request a rule breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailTarget {
    Negotiate,
    Http,
    Ws,
}

impl FailTarget {
    pub fn parse(s: &str) -> Option<FailTarget> {
        match s {
            "negotiate" => Some(FailTarget::Negotiate),
            "http" => Some(FailTarget::Http),
            "ws" | "websocket" | "websockets" => Some(FailTarget::Ws),
            _ => None,
        }
    }
}

/// One rule.
#[derive(Debug, Clone)]
pub struct FailRule {
    pub target: FailTarget,
    /// 0 = hang for `delay_ms`, then 504.
    pub status: u16,
    pub remaining: Option<u64>,
    pub until_ms: Option<u64>,
    pub delay_ms: u64,
    pub body: Option<String>,
    pub key: Option<String>,
    pub hub: Option<String>,
}

/// What to do to a request a rule matched.
#[derive(Debug, Clone)]
pub struct FailAction {
    pub status: u16,
    pub delay_ms: u64,
    pub body: Option<String>,
}

/// The active rules.
#[derive(Default)]
pub struct Faults {
    rules: Mutex<Vec<FailRule>>,
}

impl Faults {
    pub fn add(&self, rule: FailRule) {
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Consumes one use of the first rule matching this request, if any.
    pub fn take(
        &self,
        target: FailTarget,
        key: Option<&str>,
        hub: Option<&str>,
        now_ms: u64,
    ) -> Option<FailAction> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        rules.retain(|r| r.until_ms.map_or(true, |u| u > now_ms) && r.remaining != Some(0));
        let rule = rules.iter_mut().find(|r| {
            r.target == target
                && r.key.as_deref().map_or(true, |k| Some(k) == key)
                && r.hub
                    .as_deref()
                    .map_or(true, |h| hub.is_some_and(|x| x == h || x.ends_with(h)))
        })?;
        if let Some(n) = rule.remaining.as_mut() {
            *n -= 1;
        }
        Some(FailAction {
            status: rule.status,
            delay_ms: rule.delay_ms,
            body: rule.body.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(remaining: Option<u64>, until_ms: Option<u64>, key: Option<&str>) -> FailRule {
        FailRule {
            target: FailTarget::Negotiate,
            status: 500,
            remaining,
            until_ms,
            delay_ms: 0,
            body: None,
            key: key.map(str::to_string),
            hub: Some("/hubs/test".into()),
        }
    }

    #[test]
    fn counts_windows_and_filters() {
        let f = Faults::default();
        f.add(rule(Some(2), None, Some("k1")));
        assert!(f
            .take(FailTarget::Negotiate, Some("k2"), Some("/hubs/test"), 0)
            .is_none());
        assert!(f
            .take(FailTarget::Http, Some("k1"), Some("/hubs/test"), 0)
            .is_none());
        assert!(f
            .take(FailTarget::Negotiate, Some("k1"), Some("/hubs/other"), 0)
            .is_none());
        assert!(f
            .take(FailTarget::Negotiate, Some("k1"), Some("/hubs/test"), 0)
            .is_some());
        assert!(f
            .take(FailTarget::Negotiate, Some("k1"), Some("/hubs/test"), 0)
            .is_some());
        assert!(f
            .take(FailTarget::Negotiate, Some("k1"), Some("/hubs/test"), 0)
            .is_none());
        f.add(rule(None, Some(100), None));
        assert!(f
            .take(FailTarget::Negotiate, None, Some("/hubs/test"), 50)
            .is_some());
        assert!(f
            .take(FailTarget::Negotiate, None, Some("/hubs/test"), 50)
            .is_some());
        assert!(f
            .take(FailTarget::Negotiate, None, Some("/hubs/test"), 150)
            .is_none());
    }
}
