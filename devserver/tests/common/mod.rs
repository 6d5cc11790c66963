//! Helpers for the in-process integration tests: a server on an ephemeral port, a tiny HTTP
//! client over a raw TCP stream, and a SignalR JSON client over tokio-tungstenite.
#![allow(dead_code)]

use conduit_devserver::{Config, Dialect, Running};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub async fn server(edit: impl FnOnce(&mut Config)) -> Running {
    let mut cfg = Config {
        port: 0,
        quiet: true,
        statics: vec![],
        dialect: Dialect::Deployed,
        ..Default::default()
    };
    edit(&mut cfg);
    conduit_devserver::start(cfg).await.expect("server starts")
}

pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request (Connection: close).
pub async fn http(
    r: &Running,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut s = TcpStream::connect(r.addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        r.addr
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

pub async fn post_json(r: &Running, path: &str, key: Option<&str>, body: &str) -> Resp {
    let auth = key.map(|k| format!("Bearer {k}"));
    let mut h = vec![("Content-Type", "application/json")];
    if let Some(a) = auth.as_deref() {
        h.push(("Authorization", a));
    }
    http(r, "POST", path, &h, Some(body)).await
}

pub async fn get(r: &Running, path: &str, key: Option<&str>) -> Resp {
    let auth = key.map(|k| format!("Bearer {k}"));
    let h: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    http(r, "GET", path, &h, None).await
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A JSON-protocol SignalR client over a skipNegotiation WebSocket.
pub struct Hub {
    ws: Ws,
    pending: std::collections::VecDeque<Value>,
    next_id: u64,
}

impl Hub {
    pub async fn connect(r: &Running, path: &str, token: Option<&str>) -> Result<Hub, u16> {
        let mut url = format!("ws://{}{path}", r.addr);
        if let Some(t) = token {
            url.push_str(if url.contains('?') { "&" } else { "?" });
            url.push_str(&format!("access_token={t}"));
        }
        let req = url.into_client_request().unwrap();
        let (mut ws, _) = match tokio_tungstenite::connect_async(req).await {
            Ok(x) => x,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                return Err(resp.status().as_u16())
            }
            Err(e) => panic!("connect: {e}"),
        };
        ws.send(Message::text("{\"protocol\":\"json\",\"version\":1}\u{1e}"))
            .await
            .unwrap();
        let mut hub = Hub {
            ws,
            pending: Default::default(),
            next_id: 0,
        };
        let first = hub.next_raw().await;
        assert_eq!(first, serde_json::json!({}), "handshake answer");
        Ok(hub)
    }

    async fn next_raw(&mut self) -> Value {
        loop {
            if let Some(v) = self.pending.pop_front() {
                return v;
            }
            let msg = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("a message within 10 s")
                .expect("socket open")
                .expect("no socket error");
            if let Message::Text(t) = msg {
                for rec in t.as_str().split('\u{1e}').filter(|r| !r.is_empty()) {
                    self.pending.push_back(serde_json::from_str(rec).unwrap());
                }
            }
        }
    }

    /// Next hub message that is not a Ping.
    pub async fn next(&mut self) -> Value {
        loop {
            let v = self.next_raw().await;
            if v["type"] != 6 {
                return v;
            }
        }
    }

    /// Invokes and returns the Completion.
    pub async fn invoke(&mut self, target: &str, args: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let msg =
            serde_json::json!({"type": 1, "invocationId": id, "target": target, "arguments": args});
        self.ws
            .send(Message::text(format!("{msg}\u{1e}")))
            .await
            .unwrap();
        let mut others = Vec::new();
        let done = loop {
            let v = self.next().await;
            if v["type"] == 3 && v["invocationId"] == id.as_str() {
                break v;
            }
            others.push(v);
        };
        for o in others.into_iter().rev() {
            self.pending.push_front(o);
        }
        done
    }

    /// Waits for an invocation of `target`, returning its arguments.
    pub async fn event(&mut self, target: &str) -> Vec<Value> {
        loop {
            let v = self.next().await;
            if v["type"] == 1 && v["target"] == target {
                return v["arguments"].as_array().unwrap().clone();
            }
        }
    }

    /// All invocation targets until (and including) `target`.
    pub async fn targets_until(&mut self, target: &str) -> Vec<(String, Vec<Value>)> {
        let mut out = Vec::new();
        loop {
            let v = self.next().await;
            if v["type"] == 1 {
                let t = v["target"].as_str().unwrap().to_string();
                let args = v["arguments"].as_array().unwrap().clone();
                let stop = t == target;
                out.push((t, args));
                if stop {
                    return out;
                }
            }
        }
    }
}
