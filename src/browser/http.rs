//! HTTP requests over `fetch`, with headers, credentials, a timeout and errors that say what happened.

use js_sys::{Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestCredentials, RequestInit, Response};

use super::{bytes, global};
use super::timer::Timeout;

/// Request settings shared by every request of a connection or client.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Send cookies and HTTP auth to other origins.
    pub with_credentials: bool,
    /// Abort after this many ms (0: never).
    pub timeout_ms: u64,
    /// Refuse response bodies above this many bytes (0: any size memory can hold).
    pub max_body_bytes: usize,
}

/// A completed HTTP exchange.
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body bytes.
    pub body: Vec<u8>,
    /// The `Retry-After` header, if any.
    pub retry_after: Option<String>,
}

/// Why a request produced no response.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpFailure {
    /// The network failed (refused, DNS, CORS).
    Network(String),
    /// The timeout elapsed.
    Timeout(u64),
    /// The body could not be taken in: above the limit, or beyond memory.
    Body(String),
}

impl HttpFailure {
    /// A sentence for error messages.
    pub fn message(&self) -> String {
        match self {
            HttpFailure::Network(detail) => format!("network error ({detail})"),
            HttpFailure::Timeout(ms) => format!("the request timed out after {ms} ms"),
            HttpFailure::Body(detail) => detail.clone(),
        }
    }
}

/// A request body.
pub enum Body<'a> {
    /// No body.
    None,
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
}

/// Sends a request and reads the whole response. `bearer` goes in `Authorization`.
pub async fn request(
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Body<'_>,
    content_type: Option<&str>,
    options: &HttpOptions,
) -> Result<HttpResponse, HttpFailure> {
    let network = |e: JsValue| HttpFailure::Network(global::error_message(&e));
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(if options.with_credentials { RequestCredentials::Include } else { RequestCredentials::SameOrigin });
    let headers = Headers::new().map_err(network)?;
    headers.set("X-Requested-With", "XMLHttpRequest").map_err(network)?;
    if let Some(token) = bearer {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(|_| HttpFailure::Network("invalid access token".into()))?;
    }
    if let Some(ct) = content_type {
        headers.set("Content-Type", ct).map_err(network)?;
    }
    for (name, value) in &options.headers {
        headers.set(name, value).map_err(|_| HttpFailure::Network(format!("invalid header '{name}'")))?;
    }
    init.set_headers(&headers);
    match body {
        Body::None => {}
        Body::Text(text) => init.set_body(&JsValue::from_str(text)),
        Body::Bytes(bytes) => init.set_body(&Uint8Array::from(bytes)),
    }
    let controller = AbortController::new().ok();
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
    let _timer = (options.timeout_ms > 0).then(|| {
        let controller = controller.clone();
        let timed_out = timed_out.clone();
        Timeout::new(options.timeout_ms, move || {
            timed_out.set(true);
            if let Some(c) = controller {
                c.abort();
            }
        })
    });
    let fail = |e: JsValue| if timed_out.get() { HttpFailure::Timeout(options.timeout_ms) } else { network(e) };
    let request = Request::new_with_str_and_init(url, &init).map_err(network)?;
    let response: Response = JsFuture::from(global::fetch(&request)).await.map_err(fail)?.unchecked_into();
    let retry_after = response.headers().get("Retry-After").ok().flatten();
    let buffer = JsFuture::from(response.array_buffer().map_err(fail)?).await.map_err(fail)?;
    let limit = options.max_body_bytes;
    let body = bytes::copy(&Uint8Array::new(&buffer), |size| match limit {
        0 => Ok(()),
        _ if size <= limit => Ok(()),
        _ => Err(format!("the response has {size} bytes, above the limit of {limit}")),
    });
    Ok(HttpResponse { status: response.status(), body: body.map_err(HttpFailure::Body)?, retry_after })
}

/// A short, safe description of a failed response: its status and, when it is JSON with a message, that.
pub fn describe_status(response: &HttpResponse) -> String {
    let text = String::from_utf8_lossy(&response.body);
    let message = JSON::parse(&text).ok().and_then(|v| {
        let pick = |v: &JsValue, k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).ok().filter(|x| !x.is_undefined());
        pick(&v, "error")
            .and_then(|e| if e.is_string() { Some(e) } else { pick(&e, "message") })
            .or_else(|| pick(&v, "detail"))
            .or_else(|| pick(&v, "title"))
            .and_then(|m| m.as_string())
    });
    match message {
        Some(m) => format!("HTTP {}: {}", response.status, m),
        None => format!("HTTP {}", response.status),
    }
}
