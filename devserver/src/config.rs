//! Command-line options of the dev server.

use std::path::PathBuf;

/// Which Conduit dialect a connection or request speaks (see CONDUIT.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The dialect of the deployed ConduitLLM server: camelCase objects, `SubscribeToTask` everywhere.
    Deployed,
    /// The dialect of the documentation: positional events, `SubscribeToRequest` on the video hub.
    Documented,
}

impl Dialect {
    /// Parses `deployed` / `documented`.
    pub fn parse(s: &str) -> Option<Dialect> {
        match s.to_ascii_lowercase().as_str() {
            "deployed" => Some(Dialect::Deployed),
            "documented" => Some(Dialect::Documented),
            _ => None,
        }
    }

    /// The name used on the command line and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Deployed => "deployed",
            Dialect::Documented => "documented",
        }
    }
}

/// Everything the server can be told at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub host: String,
    pub port: u16,
    /// Timeline speed factor: 10 = ten times faster.
    pub speed: f64,
    pub dialect: Dialect,
    /// Offer stateful reconnect on every hub (otherwise only with `stateful=1` on the hub URL).
    pub stateful: bool,
    /// When set, only these virtual keys are accepted.
    pub keys: Option<Vec<String>>,
    /// Static directories: (URL prefix, directory).
    pub statics: Vec<(String, PathBuf)>,
    pub keepalive_ms: u64,
    pub client_timeout_ms: u64,
    /// How long a dropped stateful connection waits for its client to come back.
    pub stateful_grace_ms: u64,
    /// How long a long-polling request waits for data before answering empty.
    pub poll_timeout_ms: u64,
    /// Suppress per-connection and per-task log lines.
    pub quiet: bool,
    /// Stop when standard input reaches end-of-file (test harnesses: dies with its parent).
    pub exit_on_stdin_eof: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 5000,
            speed: 1.0,
            dialect: Dialect::Deployed,
            stateful: false,
            keys: None,
            statics: default_statics(),
            keepalive_ms: 15_000,
            client_timeout_ms: 30_000,
            stateful_grace_ms: 30_000,
            poll_timeout_ms: 5_000,
            quiet: false,
            exit_on_stdin_eof: false,
        }
    }
}

/// The repository's `www/` at `/` and `pkg/` at `/pkg/` (looked up per request, so a build made after the
/// server started is served too).
pub fn default_statics() -> Vec<(String, PathBuf)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    vec![("/pkg/".to_string(), root.join("pkg")), ("/".to_string(), root.join("www"))]
}

pub const USAGE: &str = "\
conduit-devserver: a SignalR server that simulates the Conduit LLM gateway

USAGE: conduit-devserver [OPTIONS]
  --port N               port to listen on, 0 = ephemeral (default 5000)
  --host ADDR            address to bind (default 127.0.0.1)
  --speed F              timeline speed factor, 10 = ten times faster (default 1)
  --dialect D            deployed | documented (default deployed)
  --stateful             offer stateful reconnect on every hub
  --keys k1,k2           accept only these virtual keys
  --static [PREFIX=]DIR  serve DIR at PREFIX (default /); repeatable; replaces the defaults
  --keepalive-ms N       server ping interval (default 15000)
  --client-timeout-ms N  close clients silent for this long (default 30000)
  --stateful-grace-ms N  keep a dropped stateful connection this long (default 30000)
  --poll-timeout-ms N    long-polling wait (default 5000)
  --quiet                no per-connection / per-task log lines
  --exit-on-stdin-eof    stop when stdin closes (lets a test harness's death stop the server)
  --help                 this text
";

/// Parses the command line (without the program name).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Config, String> {
    let mut cfg = Config::default();
    let mut statics: Vec<(String, PathBuf)> = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") && n != "--static" => {
                (n.to_string(), Some(v.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().ok_or_else(|| format!("{what} needs a value")),
            }
        };
        let num = |s: String, what: &str| -> Result<u64, String> {
            s.parse::<u64>()
                .map_err(|_| format!("{what}: not a number: {s}"))
        };
        match name.as_str() {
            "--port" => {
                cfg.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port: not a port".to_string())?
            }
            "--host" => cfg.host = value("--host")?,
            "--speed" => {
                let s: f64 = value("--speed")?
                    .parse()
                    .map_err(|_| "--speed: not a number".to_string())?;
                if !(s > 0.0 && s.is_finite()) {
                    return Err("--speed must be positive".into());
                }
                cfg.speed = s;
            }
            "--dialect" => {
                let d = value("--dialect")?;
                cfg.dialect =
                    Dialect::parse(&d).ok_or_else(|| format!("--dialect: unknown dialect {d}"))?;
            }
            "--stateful" => cfg.stateful = true,
            "--keys" => {
                let keys: Vec<String> = value("--keys")?
                    .split(',')
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect();
                cfg.keys = Some(keys);
            }
            "--static" => {
                let v = match arg.strip_prefix("--static=") {
                    Some(v) => v.to_string(),
                    None => it.next().ok_or("--static needs a directory")?,
                };
                let (prefix, dir) = match v.split_once('=') {
                    Some((p, d)) if p.starts_with('/') => (p.to_string(), d.to_string()),
                    _ => ("/".to_string(), v.clone()),
                };
                let prefix = if prefix.ends_with('/') {
                    prefix
                } else {
                    format!("{prefix}/")
                };
                statics.push((prefix, PathBuf::from(dir)));
            }
            "--keepalive-ms" => {
                cfg.keepalive_ms = num(value("--keepalive-ms")?, "--keepalive-ms")?.max(10)
            }
            "--client-timeout-ms" => {
                cfg.client_timeout_ms =
                    num(value("--client-timeout-ms")?, "--client-timeout-ms")?.max(10)
            }
            "--stateful-grace-ms" => {
                cfg.stateful_grace_ms = num(value("--stateful-grace-ms")?, "--stateful-grace-ms")?
            }
            "--poll-timeout-ms" => {
                cfg.poll_timeout_ms = num(value("--poll-timeout-ms")?, "--poll-timeout-ms")?.max(10)
            }
            "--quiet" => cfg.quiet = true,
            "--exit-on-stdin-eof" => cfg.exit_on_stdin_eof = true,
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !statics.is_empty() {
        // Longest prefix first so /pkg/ wins over /.
        statics.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        cfg.statics = statics;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, String> {
        parse_args(s.split_whitespace().map(str::to_string))
    }

    #[test]
    fn options() {
        let c = parse("--port 0 --speed 10 --dialect documented --stateful --keys condt_aaaaaaaa,condt_bbbbbbbb --static /x=/tmp --static /srv").unwrap();
        assert_eq!(c.port, 0);
        assert_eq!(c.speed, 10.0);
        assert_eq!(c.dialect, Dialect::Documented);
        assert!(c.stateful);
        assert_eq!(c.keys.unwrap().len(), 2);
        assert_eq!(c.statics[0], ("/x/".to_string(), PathBuf::from("/tmp")));
        assert_eq!(c.statics[1], ("/".to_string(), PathBuf::from("/srv")));
        assert!(parse("--port=7 --speed=2").is_ok());
        assert!(parse("--speed 0").is_err());
        assert!(parse("--bogus").is_err());
        assert!(parse("--dialect nope").is_err());
    }
}
