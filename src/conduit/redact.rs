//! Keeps secrets out of every message: any occurrence of the virtual key or a token is replaced.

/// Secrets to scrub from text that leaves the client (events, errors, logs).
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Adds a secret (ignored when shorter than 6 characters, which would redact ordinary words).
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= 6 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
        }
    }

    /// `text` with every secret replaced by a masked form that keeps only its prefix.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), &mask(secret));
            }
            let encoded = {
                let mut e = String::new();
                crate::connection::url::encode_component(&mut e, secret);
                e
            };
            if encoded != *secret && out.contains(encoded.as_str()) {
                out = out.replace(encoded.as_str(), &mask(secret));
            }
        }
        out
    }
}

/// The visible prefix of a key (`condt_` or `ek_`) followed by `***`.
pub fn mask(secret: &str) -> String {
    let prefix = secret.find('_').map_or("", |i| &secret[..=i]);
    format!("{prefix}***")
}
