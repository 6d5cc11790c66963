//! Virtual keys (`condt_...`) and single-use ephemeral keys (`ek_...`, 300 s).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// How long an ephemeral key lives.
pub const EPHEMERAL_TTL_SECS: u64 = 300;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Invalid,
    Expired,
    AlreadyUsed,
}

impl AuthError {
    pub fn message(self) -> &'static str {
        match self {
            AuthError::Missing => {
                "Missing virtual key. Send 'Authorization: Bearer condt_...' or 'X-API-Key'."
            }
            AuthError::Invalid => "Invalid virtual key.",
            AuthError::Expired => "Ephemeral key has expired.",
            AuthError::AlreadyUsed => "Ephemeral key has already been used.",
        }
    }
}

struct Ephemeral {
    owner: String,
    expires_unix_ms: u64,
    used: bool,
}

/// The key store.
pub struct Auth {
    allowed: Option<HashSet<String>>,
    ephemeral: Mutex<HashMap<String, Ephemeral>>,
}

/// `condt_` followed by at least 8 characters of `[A-Za-z0-9_-]`.
pub fn is_well_formed(key: &str) -> bool {
    key.strip_prefix("condt_").is_some_and(|rest| {
        rest.len() >= 8
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

impl Auth {
    pub fn new(keys: Option<Vec<String>>) -> Auth {
        Auth {
            allowed: keys.map(|k| k.into_iter().collect()),
            ephemeral: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a virtual key is accepted.
    pub fn virtual_key_ok(&self, key: &str) -> bool {
        is_well_formed(key) && self.allowed.as_ref().map_or(true, |a| a.contains(key))
    }

    /// Resolves a token to the virtual key it stands for. Ephemeral keys are consumed.
    pub fn resolve(&self, token: Option<&str>, now_unix_ms: u64) -> Result<String, AuthError> {
        let token = token.filter(|t| !t.is_empty()).ok_or(AuthError::Missing)?;
        if token.starts_with("ek_") {
            return self.redeem(token, now_unix_ms);
        }
        if self.virtual_key_ok(token) {
            Ok(token.to_string())
        } else {
            Err(AuthError::Invalid)
        }
    }

    /// The key a token stands for, without consuming anything (fault-rule and counter filters).
    pub fn peek_owner(&self, token: &str) -> Option<String> {
        if token.starts_with("ek_") {
            let map = self.ephemeral.lock().unwrap_or_else(|e| e.into_inner());
            return map.get(token).map(|e| e.owner.clone());
        }
        Some(token.to_string())
    }

    /// Issues an ephemeral key for `owner`: (key, expiry in Unix ms).
    pub fn issue(&self, owner: &str, now_unix_ms: u64) -> (String, u64) {
        let key = format!("ek_{}", crate::util::random_token(32));
        let expires = now_unix_ms + EPHEMERAL_TTL_SECS * 1000;
        let mut map = self.ephemeral.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, e| e.expires_unix_ms > now_unix_ms);
        map.insert(
            key.clone(),
            Ephemeral {
                owner: owner.to_string(),
                expires_unix_ms: expires,
                used: false,
            },
        );
        (key, expires)
    }

    /// Consumes an ephemeral key: the owner's virtual key.
    pub fn redeem(&self, key: &str, now_unix_ms: u64) -> Result<String, AuthError> {
        let mut map = self.ephemeral.lock().unwrap_or_else(|e| e.into_inner());
        let e = map.get_mut(key).ok_or(AuthError::Invalid)?;
        if e.expires_unix_ms <= now_unix_ms {
            return Err(AuthError::Expired);
        }
        if e.used {
            return Err(AuthError::AlreadyUsed);
        }
        e.used = true;
        Ok(e.owner.clone())
    }

    /// Forgets every ephemeral key (restart).
    pub fn clear(&self) {
        self.ephemeral
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shapes() {
        assert!(is_well_formed("condt_abcdefgh"));
        assert!(is_well_formed("condt_ab-cd_EF12"));
        assert!(!is_well_formed("condt_short"));
        assert!(!is_well_formed("condt_bad key!"));
        assert!(!is_well_formed("sk-abcdefghijk"));
    }

    #[test]
    fn restricted_keys_and_missing() {
        let a = Auth::new(Some(vec!["condt_allowed01".into()]));
        assert_eq!(
            a.resolve(Some("condt_allowed01"), 0).unwrap(),
            "condt_allowed01"
        );
        assert_eq!(
            a.resolve(Some("condt_unknown01"), 0),
            Err(AuthError::Invalid)
        );
        assert_eq!(a.resolve(None, 0), Err(AuthError::Missing));
        assert_eq!(a.resolve(Some(""), 0), Err(AuthError::Missing));
        let open = Auth::new(None);
        assert!(open.resolve(Some("condt_anything1"), 0).is_ok());
        assert_eq!(open.resolve(Some("nope"), 0), Err(AuthError::Invalid));
    }

    #[test]
    fn ephemeral_keys_are_single_use_and_expire() {
        let a = Auth::new(None);
        let (ek, exp) = a.issue("condt_owner0001", 1_000);
        assert!(ek.starts_with("ek_"));
        assert_eq!(exp, 1_000 + 300_000);
        assert_eq!(a.peek_owner(&ek).unwrap(), "condt_owner0001");
        assert_eq!(a.resolve(Some(&ek), 2_000).unwrap(), "condt_owner0001");
        assert_eq!(a.resolve(Some(&ek), 3_000), Err(AuthError::AlreadyUsed));
        let (ek2, _) = a.issue("condt_owner0001", 1_000);
        assert_eq!(a.resolve(Some(&ek2), 301_000), Err(AuthError::Expired));
        assert_eq!(a.resolve(Some("ek_unknown"), 0), Err(AuthError::Invalid));
    }
}
