//! The three SignalR transports over the browser's WebSocket, EventSource and fetch, behind one type.
//! Each reports to the driver through [`TransportEvents`] and releases every socket, closure and request when
//! dropped.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{ArrayBuffer, JsString, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, EventSource, EventSourceInit, MessageEvent, WebSocket};

use super::global;
use super::http::{self, Body, HttpOptions};
use crate::connection::url;
use crate::protocol::negotiate::TransportKind;

/// Where a transport reports what happens to it.
pub struct TransportEvents {
    /// The transport is open.
    pub on_open: Box<dyn Fn()>,
    /// A poll answer arrived.
    pub on_data: Box<dyn Fn(&[u8])>,
    /// A binary WebSocket message arrived.
    pub on_binary: Box<dyn Fn(Uint8Array)>,
    /// A text frame arrived (WebSocket text message or Server-Sent Event).
    pub on_text: Box<dyn Fn(JsString)>,
    /// The transport failed or closed, with why.
    pub on_close: Box<dyn Fn(String)>,
}

/// An open (or opening) transport.
pub enum Transport {
    /// A WebSocket.
    WebSocket(WebSocketTransport),
    /// Server-Sent Events for receiving, POST for sending.
    ServerSentEvents(EventSourceTransport),
    /// Long polling for receiving, POST for sending.
    LongPolling(LongPollingTransport),
}

impl Transport {
    /// Opens `kind` to `http_url` (which carries the connection id).
    pub fn open(
        kind: TransportKind,
        http_url: &str,
        token: Option<&str>,
        binary: bool,
        options: &HttpOptions,
        events: TransportEvents,
    ) -> Result<Transport, String> {
        let events = Rc::new(events);
        let with_token = |u: &str| match token {
            Some(t) => url::with_query(u, "access_token", t),
            None => u.to_string(),
        };
        Ok(match kind {
            TransportKind::WebSockets => {
                Transport::WebSocket(WebSocketTransport::open(&with_token(&url::websocket(http_url)), events)?)
            }
            TransportKind::ServerSentEvents => {
                let sender = Sender::new(http_url, token, binary, options, events.clone());
                Transport::ServerSentEvents(EventSourceTransport::open(&with_token(http_url), options, sender, events)?)
            }
            TransportKind::LongPolling => {
                let sender = Sender::new(http_url, token, binary, options, events.clone());
                Transport::LongPolling(LongPollingTransport::open(http_url, token, options, sender, events))
            }
        })
    }

    /// Sends `data` (a binary frame when `binary`).
    pub fn send(&self, data: Vec<u8>, binary: bool) -> Result<(), String> {
        match self {
            Transport::WebSocket(t) => t.send(&data, binary),
            Transport::ServerSentEvents(t) => {
                t.sender.send(data);
                Ok(())
            }
            Transport::LongPolling(t) => {
                t.sender.send(data);
                Ok(())
            }
        }
    }
}

/// A WebSocket with its handlers; closed and detached on drop.
pub struct WebSocketTransport {
    socket: WebSocket,
    _handlers: [Closure<dyn FnMut(JsValue)>; 3],
}

impl WebSocketTransport {
    fn open(ws_url: &str, events: Rc<TransportEvents>) -> Result<Self, String> {
        let socket = WebSocket::new(ws_url).map_err(|e| global::error_message(&e))?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let opened = Rc::new(Cell::new(false));
        let on_open = {
            let (events, opened) = (events.clone(), opened.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                opened.set(true);
                (events.on_open)();
            })
        };
        let on_message = {
            let events = events.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let data = e.unchecked_into::<MessageEvent>().data();
                if data.is_string() {
                    (events.on_text)(data.unchecked_into());
                } else if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
                    (events.on_binary)(Uint8Array::new(buffer));
                }
            })
        };
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let e: CloseEvent = e.unchecked_into();
            let reason = if opened.get() {
                let detail = e.reason();
                if detail.is_empty() {
                    format!("WebSocket closed with status code: {}", e.code())
                } else {
                    format!("WebSocket closed with status code: {} ({detail})", e.code())
                }
            } else {
                "WebSocket failed to connect. The connection could not be found on the server, either the endpoint may not be a SignalR endpoint, the connection ID is not present on the server, or there is a proxy blocking WebSockets.".to_string()
            };
            (events.on_close)(reason);
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(WebSocketTransport { socket, _handlers: [on_open, on_message, on_close] })
    }

    fn send(&self, data: &[u8], binary: bool) -> Result<(), String> {
        let result = if binary {
            self.socket.send_with_u8_array(data)
        } else {
            // Our own encoder produced this text, so it is UTF-8.
            self.socket.send_with_str(core::str::from_utf8(data).unwrap_or(""))
        };
        result.map_err(|e| format!("WebSocket send failed: {}", global::error_message(&e)))
    }
}

impl Drop for WebSocketTransport {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close_with_code(1000);
    }
}

/// Sends over HTTP POST in order, one request at a time, batching what queues up meanwhile.
pub struct Sender {
    url: String,
    token: Option<String>,
    binary: bool,
    options: HttpOptions,
    queue: RefCell<Vec<u8>>,
    busy: Cell<bool>,
    closed: Cell<bool>,
    events: Rc<TransportEvents>,
}

impl Sender {
    fn new(url: &str, token: Option<&str>, binary: bool, options: &HttpOptions, events: Rc<TransportEvents>) -> Rc<Self> {
        Rc::new(Sender {
            url: url.to_string(),
            token: token.map(str::to_string),
            binary,
            options: options.clone(),
            queue: RefCell::new(Vec::new()),
            busy: Cell::new(false),
            closed: Cell::new(false),
            events,
        })
    }

    fn send(self: &Rc<Self>, data: Vec<u8>) {
        self.queue.borrow_mut().extend_from_slice(&data);
        if self.busy.replace(true) {
            return;
        }
        let sender = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let batch = core::mem::take(&mut *sender.queue.borrow_mut());
                if batch.is_empty() || sender.closed.get() {
                    break;
                }
                let (body, content_type) = if sender.binary {
                    (Body::Bytes(&batch), "application/octet-stream")
                } else {
                    (Body::Text(core::str::from_utf8(&batch).unwrap_or("")), "text/plain;charset=UTF-8")
                };
                let result =
                    http::request("POST", &sender.url, sender.token.as_deref(), body, Some(content_type), &sender.options).await;
                if sender.closed.get() {
                    break;
                }
                match result {
                    Ok(r) if (200..300).contains(&r.status) => {}
                    Ok(r) => {
                        sender.closed.set(true);
                        (sender.events.on_close)(format!("Sending failed: {}", http::describe_status(&r)));
                    }
                    Err(e) => {
                        sender.closed.set(true);
                        (sender.events.on_close)(format!("Sending failed: {}", e.message()));
                    }
                }
            }
            sender.busy.set(false);
        });
    }
}

/// Server-Sent Events; closed and detached on drop.
pub struct EventSourceTransport {
    source: EventSource,
    sender: Rc<Sender>,
    _handlers: [Closure<dyn FnMut(JsValue)>; 3],
}

impl EventSourceTransport {
    fn open(url: &str, options: &HttpOptions, sender: Rc<Sender>, events: Rc<TransportEvents>) -> Result<Self, String> {
        let init = EventSourceInit::new();
        init.set_with_credentials(options.with_credentials);
        let source = EventSource::new_with_event_source_init_dict(url, &init).map_err(|e| global::error_message(&e))?;
        let opened = Rc::new(Cell::new(false));
        let on_open = {
            let (events, opened) = (events.clone(), opened.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                if !opened.replace(true) {
                    (events.on_open)();
                }
            })
        };
        let on_message = {
            let events = events.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let data = e.unchecked_into::<MessageEvent>().data();
                if data.is_string() {
                    (events.on_text)(data.unchecked_into());
                }
            })
        };
        let on_error = {
            let (source, sender) = (source.clone(), sender.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                // EventSource would retry on its own; SignalR treats any error as the end of the transport.
                source.close();
                sender.closed.set(true);
                (events.on_close)(if opened.get() { "EventSource closed.".into() } else { "EventSource failed to connect.".into() });
            })
        };
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(EventSourceTransport { source, sender, _handlers: [on_open, on_message, on_error] })
    }
}

impl Drop for EventSourceTransport {
    fn drop(&mut self) {
        self.sender.closed.set(true);
        self.source.set_onopen(None);
        self.source.set_onmessage(None);
        self.source.set_onerror(None);
        self.source.close();
    }
}

/// Long polling: a loop of GETs; stopped (and the server told with DELETE) on drop.
pub struct LongPollingTransport {
    sender: Rc<Sender>,
    stopped: Rc<Cell<bool>>,
    url: String,
    token: Option<String>,
    options: HttpOptions,
}

const POLL_TIMEOUT_MS: u64 = 120_000;

impl LongPollingTransport {
    fn open(url: &str, token: Option<&str>, options: &HttpOptions, sender: Rc<Sender>, events: Rc<TransportEvents>) -> Self {
        let stopped = Rc::new(Cell::new(false));
        let poll_options = HttpOptions { timeout_ms: POLL_TIMEOUT_MS, ..options.clone() };
        {
            let (url, token, stopped, sender) = (url.to_string(), token.map(str::to_string), stopped.clone(), sender.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let mut opened = false;
                while !stopped.get() {
                    let poll_url = url::with_query(&url, "_", &global::now().to_string());
                    let result = http::request("GET", &poll_url, token.as_deref(), Body::None, None, &poll_options).await;
                    if stopped.get() {
                        return;
                    }
                    let end = match result {
                        Ok(r) if r.status == 200 => {
                            if !opened {
                                opened = true;
                                (events.on_open)();
                            }
                            if !r.body.is_empty() && !stopped.get() {
                                (events.on_data)(&r.body);
                            }
                            continue;
                        }
                        Ok(r) if r.status == 204 => "The server closed the long polling connection.".to_string(),
                        Ok(r) if r.status == 404 => "Long polling connection not found on the server.".to_string(),
                        Ok(r) => format!("Long polling failed: {}", http::describe_status(&r)),
                        Err(http::HttpFailure::Timeout(_)) if opened => continue,
                        Err(e) => format!("Long polling failed: {}", e.message()),
                    };
                    stopped.set(true);
                    sender.closed.set(true);
                    (events.on_close)(end);
                }
            });
        }
        LongPollingTransport { sender, stopped, url: url.to_string(), token: token.map(str::to_string), options: options.clone() }
    }
}

impl Drop for LongPollingTransport {
    fn drop(&mut self) {
        if self.stopped.replace(true) {
            return;
        }
        self.sender.closed.set(true);
        let (url, token, options) = (self.url.clone(), self.token.clone(), self.options.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let _ = http::request("DELETE", &url, token.as_deref(), Body::None, None, &options).await;
        });
    }
}
