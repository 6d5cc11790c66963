//! Building the URLs of a connection: negotiate, transport and WebSocket URLs, and query-string encoding.

/// Appends `name=value` to `url`'s query string, encoding the value.
pub fn with_query(url: &str, name: &str, value: &str) -> String {
    let mut out = String::with_capacity(url.len() + name.len() + value.len() + 2);
    out.push_str(url);
    out.push(if url.contains('?') { '&' } else { '?' });
    out.push_str(name);
    out.push('=');
    encode_component(&mut out, value);
    out
}

/// The negotiate URL of a hub URL: `/negotiate` goes before the query, `negotiateVersion` after it.
pub fn negotiate(hub_url: &str, stateful: bool) -> String {
    let (path, query) = match hub_url.find('?') {
        Some(i) => (&hub_url[..i], &hub_url[i..]),
        None => (hub_url, ""),
    };
    let mut url = String::from(path);
    if !url.ends_with('/') {
        url.push('/');
    }
    url.push_str("negotiate");
    url.push_str(query);
    if !query.contains("negotiateVersion") {
        url = with_query(&url, "negotiateVersion", "1");
    }
    if stateful {
        url = with_query(&url, "useStatefulReconnect", "true");
    }
    url
}

/// The WebSocket form of an http(s) URL.
pub fn websocket(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("https") {
        format!("wss{rest}")
    } else if let Some(rest) = url.strip_prefix("http") {
        format!("ws{rest}")
    } else {
        url.to_string()
    }
}

/// Percent-encodes `value` like JavaScript's `encodeURIComponent`.
pub fn encode_component(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// Whether `url` is an absolute http(s) URL, the only kind a hub URL may be.
pub fn is_http(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") && url.len() > 7) || (lower.starts_with("https://") && url.len() > 8)
}

/// The host of an absolute URL, without port or credentials.
pub fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// Whether `url` points at this machine (`localhost`, `127.x.x.x`, `[::1]`).
pub fn is_loopback(url: &str) -> bool {
    let host = host(url).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost") || host.starts_with("127.") || host == "::1"
}

/// Whether `url` uses an encrypted scheme (`https` or `wss`).
pub fn is_secure(url: &str) -> bool {
    let lower = url.get(..6).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https:") || lower.starts_with("wss:")
}
