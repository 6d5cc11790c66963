//! `ConduitRealtimeClient`: the seed's client (connect, generate, subscribe, progress/completed/failed events)
//! over our own SignalR connection, speaking both Conduit dialects, with one task registry that delivers every
//! outcome exactly once, even one that happened while the socket was down.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::calls::Calls;
use super::conduit_options::{self, ClientOptions};
use super::js;
use super::string_cache::{self, StringCache};
use super::task_list::TaskList;
use crate::browser::driver::{Driver, Hooks};
use crate::browser::global;
use crate::browser::http::{self, Body, HttpFailure, HttpOptions};
use crate::browser::timer::Timeout;
use crate::conduit::api::{self, ApiError};
use crate::conduit::dialect;
use crate::conduit::redact::Redactor;
use crate::conduit::registry::{Delivery, Registry};
use crate::conduit::task::{TaskEvent, TaskKind};
use crate::connection::{frame_limit, Config, Connection, Event, InvokeKind, LogLevel, RetryPolicy, State};

#[wasm_bindgen(module = "/src/bindings/values.js")]
extern "C" {
    #[wasm_bindgen(js_name = progressEvent)]
    #[allow(clippy::too_many_arguments)]
    fn progress_event(
        task_id: &JsValue,
        task_type: &JsValue,
        progress: f64,
        status: &JsValue,
        message: &JsValue,
        images_completed: Option<f64>,
        total_images: Option<f64>,
        frames_completed: Option<f64>,
        total_frames: Option<f64>,
        estimated_seconds_remaining: Option<f64>,
    ) -> JsValue;
}

struct Hub {
    kind: TaskKind,
    driver: Driver,
    calls: Rc<Calls>,
    start: RefCell<Option<Promise>>,
    start_waiters: RefCell<Vec<(Function, Function)>>,
    retry_timer: RefCell<Option<Timeout>>,
    stopping: Cell<bool>,
}

#[derive(Clone)]
struct Listener {
    event: String,
    callback: Function,
    once: bool,
}

struct Client {
    options: ClientOptions,
    redactor: Redactor,
    hubs: RefCell<Vec<Rc<Hub>>>,
    registry: RefCell<Registry>,
    /// Shared with the emit in progress, if any: changed copy-on-write, so an emit neither copies nor allocates.
    listeners: RefCell<Rc<Vec<Listener>>>,
    change_listeners: RefCell<Vec<Function>>,
    request_method_missing: Cell<bool>,
    disposed: Cell<bool>,
    last_error: RefCell<JsValue>,
    snapshot: RefCell<Option<(u64, JsValue)>>,
    /// The snapshot's task array, updated with what changed.
    task_list: RefCell<TaskList>,
    changes: Cell<u64>,
    /// Changes the change listeners have not heard of yet.
    change_pending: Cell<bool>,
    /// Task types and status words as JavaScript strings (a handful of values).
    words: StringCache,
    /// The last task id as a JavaScript string: a task's progress events tend to come in a row, and with many
    /// tasks interleaved a larger cache would miss anyway.
    last_task_id: StringCache,
}

/// A client for Conduit's real-time image and video generation.
#[wasm_bindgen]
pub struct ConduitRealtimeClient {
    client: Rc<Client>,
}

#[wasm_bindgen]
impl ConduitRealtimeClient {
    /// Creates a client; nothing connects until `connect()`.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "ConduitClientOptions")] options: JsValue) -> Result<ConduitRealtimeClient, JsValue> {
        let options = conduit_options::parse(&options)?;
        let mut redactor = Redactor::default();
        if let Some(key) = &options.virtual_key {
            redactor.add(key);
        }
        let registry = Registry::new(options.max_finished_tasks, global::random_seed());
        Ok(ConduitRealtimeClient {
            client: Rc::new(Client {
                options,
                redactor,
                hubs: RefCell::new(Vec::new()),
                registry: RefCell::new(registry),
                listeners: RefCell::new(Rc::new(Vec::new())),
                change_listeners: RefCell::new(Vec::new()),
                request_method_missing: Cell::new(false),
                disposed: Cell::new(false),
                last_error: RefCell::new(JsValue::NULL),
                snapshot: RefCell::new(None),
                task_list: RefCell::new(TaskList::default()),
                changes: Cell::new(0),
                change_pending: Cell::new(false),
                words: StringCache::new(16),
                last_task_id: StringCache::new(1),
            }),
        })
    }

    /// Connects to the `image` or `video` hub; resolves once connected (at once if already connected).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn connect(&self, #[wasm_bindgen(js_name = hubType, unchecked_param_type = "TaskType")] hub_type: JsValue) -> Promise {
        let client = self.client.clone();
        if client.disposed.get() {
            return Promise::reject(&js::error("Client has been disposed"));
        }
        let Some(kind) = hub_type.as_string().and_then(|t| TaskKind::from_name(&t)) else {
            return Promise::reject(&js::type_error("hubType must be 'image' or 'video'."));
        };
        client.connect(kind)
    }

    /// Subscribes to a task's events on its hub (which must be connected).
    #[wasm_bindgen(js_name = subscribeToTask, unchecked_return_type = "Promise<void>")]
    pub fn subscribe_to_task(
        &self,
        #[wasm_bindgen(js_name = taskId)] task_id: JsValue,
        #[wasm_bindgen(js_name = taskType, unchecked_param_type = "TaskType")] task_type: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        let (id, kind) = match (non_empty(&task_id), task_type.as_string().and_then(|t| TaskKind::from_name(&t))) {
            (Some(id), Some(kind)) => (id, kind),
            (None, _) => return Promise::reject(&js::type_error("taskId must be a non-empty string.")),
            (_, None) => return Promise::reject(&js::type_error("taskType must be 'image' or 'video'.")),
        };
        future_to_promise(async move { client.subscribe(&id, kind, false).await.map(|_| JsValue::UNDEFINED) })
    }

    /// Stops receiving a task's events.
    #[wasm_bindgen(js_name = unsubscribeFromTask, unchecked_return_type = "Promise<void>")]
    pub fn unsubscribe_from_task(&self, #[wasm_bindgen(js_name = taskId)] task_id: JsValue) -> Promise {
        let client = self.client.clone();
        let Some(id) = non_empty(&task_id) else {
            return Promise::reject(&js::type_error("taskId must be a non-empty string."));
        };
        future_to_promise(async move {
            client.unsubscribe(&id).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Starts an image generation and subscribes to it when the image hub is connected; resolves with the task id.
    #[wasm_bindgen(js_name = generateImage, unchecked_return_type = "Promise<string>")]
    pub fn generate_image(&self, #[wasm_bindgen(unchecked_param_type = "ImageGenerationParams")] params: JsValue) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move { client.generate(TaskKind::Image, params).await })
    }

    /// Starts a video generation and subscribes to it when the video hub is connected; resolves with the task id.
    #[wasm_bindgen(js_name = generateVideo, unchecked_return_type = "Promise<string>")]
    pub fn generate_video(&self, #[wasm_bindgen(unchecked_param_type = "VideoGenerationParams")] params: JsValue) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move { client.generate(TaskKind::Video, params).await })
    }

    /// Cancels a task over HTTP; `cancelled` follows once.
    #[wasm_bindgen(js_name = cancelTask, unchecked_return_type = "Promise<void>")]
    pub fn cancel_task(
        &self,
        #[wasm_bindgen(js_name = taskId)] task_id: JsValue,
        #[wasm_bindgen(js_name = taskType, unchecked_param_type = "TaskType | undefined")] task_type: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            let (id, kind) = client.task_and_kind(&task_id, &task_type)?;
            let url = api::cancel_url(&client.options.base_url, kind, &id);
            let response = client.http("DELETE", &url, Body::None, "Cancel").await?;
            if !(200..300).contains(&response.status) && response.status != 404 {
                return Err(client.api_error(&ApiError::from_response("Cancel", response.status, &response.body, retry_after(&response))));
            }
            let event = TaskEvent::Cancelled { task_id: id, reason: Some("Cancelled by the client.".into()) };
            client.apply(event, Some(kind), global::now());
            client.notify_change();
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Reads a task's status over HTTP (and delivers its outcome if it was missed).
    #[wasm_bindgen(js_name = getTaskStatus, unchecked_return_type = "Promise<TaskStatusReport>")]
    pub fn get_task_status(
        &self,
        #[wasm_bindgen(js_name = taskId)] task_id: JsValue,
        #[wasm_bindgen(js_name = taskType, unchecked_param_type = "TaskType | undefined")] task_type: JsValue,
    ) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            let (id, kind) = client.task_and_kind(&task_id, &task_type)?;
            client.fetch_status(&id, kind, false).await
        })
    }

    /// Unsubscribes from every task, closes every connection and disposes the client.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn disconnect(&self) -> Promise {
        let client = self.client.clone();
        future_to_promise(async move {
            client.disposed.set(true);
            let subscribed: Vec<String> = {
                let registry = client.registry.borrow();
                registry.unfinished(None).into_iter().map(|(id, _)| id).filter(|id| registry.get(id).is_some_and(|t| t.subscribed)).collect()
            };
            for id in subscribed {
                client.clone().unsubscribe(&id).await;
            }
            let hubs = core::mem::take(&mut *client.hubs.borrow_mut());
            for hub in hubs {
                hub.stopping.set(true);
                hub.retry_timer.borrow_mut().take();
                hub.driver.dispose();
            }
            *client.listeners.borrow_mut() = Rc::new(Vec::new());
            client.notify_change();
            client.change_listeners.borrow_mut().clear();
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Adds a listener for an event.
    pub fn on(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(payload: never) => void")] listener: JsValue,
    ) -> Result<ConduitRealtimeClient, JsValue> {
        self.add_listener(event, listener, false)
    }

    /// Adds a listener called at most once.
    pub fn once(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(payload: never) => void")] listener: JsValue,
    ) -> Result<ConduitRealtimeClient, JsValue> {
        self.add_listener(event, listener, true)
    }

    /// Removes a listener, or every listener of the event when none is given.
    pub fn off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue,
        #[wasm_bindgen(unchecked_param_type = "(payload: never) => void")] listener: JsValue,
    ) -> Result<ConduitRealtimeClient, JsValue> {
        let event = js::string_arg(&event, "event")?;
        let listener = (!listener.is_undefined() && !listener.is_null()).then_some(listener);
        Rc::make_mut(&mut self.client.listeners.borrow_mut()).retain(|l| l.event != event || listener.as_ref().is_some_and(|f| f != AsRef::<JsValue>::as_ref(&l.callback)));
        Ok(ConduitRealtimeClient { client: self.client.clone() })
    }

    /// Removes every listener (of one event, when given).
    #[wasm_bindgen(js_name = removeAllListeners)]
    pub fn remove_all_listeners(&self, #[wasm_bindgen(unchecked_param_type = "string")] event: JsValue) -> Result<ConduitRealtimeClient, JsValue> {
        let event = js::optional_string_arg(&event, "event")?;
        Rc::make_mut(&mut self.client.listeners.borrow_mut()).retain(|l| event.as_ref().is_some_and(|e| *e != l.event));
        Ok(ConduitRealtimeClient { client: self.client.clone() })
    }

    /// The current state and tasks, as an immutable object that changes identity only when something changed.
    #[wasm_bindgen(js_name = getSnapshot, unchecked_return_type = "ConduitSnapshot")]
    pub fn get_snapshot(&self) -> JsValue {
        self.client.snapshot()
    }

    /// Calls `listener` after the snapshot changed: once per batch of server messages (one socket frame) or call, however
    /// many changes it made; returns a function that stops it.
    #[wasm_bindgen(js_name = onChange, unchecked_return_type = "() => void")]
    pub fn on_change(&self, #[wasm_bindgen(unchecked_param_type = "() => void")] listener: JsValue) -> Result<JsValue, JsValue> {
        let listener = js::function_arg(listener, "listener")?;
        self.client.change_listeners.borrow_mut().push(listener.clone());
        let weak = Rc::downgrade(&self.client);
        Ok(Closure::once_into_js(move || {
            if let Some(client) = weak.upgrade() {
                client.change_listeners.borrow_mut().retain(|f| f != &listener);
            }
        }))
    }

    /// Whether a hub is connected (`image` or `video`; either when omitted).
    #[wasm_bindgen(js_name = isConnected)]
    pub fn is_connected(&self, #[wasm_bindgen(js_name = hubType, unchecked_param_type = "TaskType | undefined")] hub_type: JsValue) -> bool {
        let kind = hub_type.as_string().and_then(|t| TaskKind::from_name(&t));
        self.client.hubs.borrow().iter().any(|h| kind.is_none_or(|k| h.kind == k) && h.driver.state() == State::Connected)
    }

    /// Forgets finished tasks (the registry keeps the newest `maxFinishedTasks` on its own).
    #[wasm_bindgen(js_name = clearFinishedTasks)]
    pub fn clear_finished_tasks(&self) {
        self.client.registry.borrow_mut().clear_finished();
        self.client.notify_change();
    }
}

impl ConduitRealtimeClient {
    fn add_listener(&self, event: JsValue, listener: JsValue, once: bool) -> Result<ConduitRealtimeClient, JsValue> {
        let event = js::string_arg(&event, "event")?;
        let callback = js::function_arg(listener, "listener")?;
        Rc::make_mut(&mut self.client.listeners.borrow_mut()).push(Listener { event, callback, once });
        Ok(ConduitRealtimeClient { client: self.client.clone() })
    }
}

fn non_empty(value: &JsValue) -> Option<String> {
    value.as_string().filter(|s| !s.is_empty())
}

fn retry_after(response: &http::HttpResponse) -> Option<f64> {
    let value = response.retry_after.as_deref()?;
    api::retry_after_seconds(value).or_else(|| {
        let at = js_sys::Date::parse(value);
        at.is_finite().then(|| ((at - js_sys::Date::now()) / 1000.0).max(0.0).ceil())
    })
}

impl Client {
    fn log(&self, level: LogLevel, message: &str) {
        self.options.logger.log(level, &self.redactor.scrub(message));
    }

    fn hub(&self, kind: TaskKind) -> Option<Rc<Hub>> {
        self.hubs.borrow().iter().find(|h| h.kind == kind).cloned()
    }

    fn connected_hub(&self, kind: TaskKind) -> Option<Rc<Hub>> {
        self.hub(kind).filter(|h| h.driver.state() == State::Connected)
    }

    /// An Error with a name and fields; every string in it is scrubbed of secrets.
    fn api_error(&self, e: &ApiError) -> JsValue {
        let error = js_sys::Error::new(&self.redactor.scrub(&e.message));
        error.set_name(e.name);
        js::set(&error, "status", &e.status.map_or(JsValue::NULL, JsValue::from));
        js::set(&error, "code", &e.code.as_deref().map_or(JsValue::NULL, |c| JsValue::from_str(&self.redactor.scrub(c))));
        js::set(&error, "retryable", &JsValue::from_bool(e.retryable));
        js::set(&error, "retryAfter", &e.retry_after.map_or(JsValue::NULL, JsValue::from));
        error.into()
    }

    fn error(&self, message: &str) -> JsValue {
        js::error(&self.redactor.scrub(message))
    }

    fn emit(&self, name: &str, payload: &JsValue) {
        let listeners = self.listeners.borrow().clone();
        if listeners.iter().any(|l| l.once && l.event == name) {
            Rc::make_mut(&mut self.listeners.borrow_mut()).retain(|l| !(l.once && l.event == name));
        }
        for l in listeners.iter().filter(|l| l.event == name) {
            js::call1_safely(&l.callback, payload);
        }
    }

    fn emit_error(&self, kind: &str, task_id: Option<&str>, error: JsValue) {
        let payload = Object::new();
        js::set(&payload, "type", &JsValue::from_str(kind));
        if let Some(id) = task_id {
            js::set(&payload, "taskId", &JsValue::from_str(id));
        }
        js::set(&payload, "error", &error);
        *self.last_error.borrow_mut() = error;
        self.emit("error", &payload);
        self.notify_change();
    }

    fn emit_hub(&self, name: &str, kind: TaskKind, extra: Option<(&str, JsValue)>) {
        let payload = Object::new();
        js::set(&payload, "hubType", &JsValue::from_str(kind.name()));
        if let Some((k, v)) = extra {
            js::set(&payload, k, &v);
        }
        self.emit(name, &payload);
    }

    fn deliver(&self, delivery: Delivery) {
        let payload = match &delivery.json {
            Some(json) => JSON::parse(json),
            None => self.progress_event(&delivery.task_id).ok_or_else(|| JsValue::from_str("conduit-realtime: progress of an unknown task")),
        };
        match payload {
            Ok(payload) => self.emit(delivery.name, &payload),
            Err(e) => self.log(LogLevel::Error, &global::error_message(&e)),
        }
    }

    /// The `progress` event of a task, from its current progress (numbers as JSON would carry them).
    fn progress_event(&self, task_id: &str) -> Option<JsValue> {
        let registry = self.registry.borrow();
        let task = registry.get(task_id)?;
        let p = &task.progress;
        // Like the JSON events: no NaN or infinities, and no negative zero.
        let finite = |n: Option<f64>| n.filter(|n| n.is_finite()).map(|n| n + 0.0);
        let cached = |s: Option<&str>| s.map_or(JsValue::UNDEFINED, |s| self.words.get(s));
        Some(progress_event(
            &self.last_task_id.get(&task.id),
            &cached(task.kind.map(TaskKind::name)),
            finite(Some(p.percent)).unwrap_or(0.0),
            &cached(p.status.as_deref()),
            &p.message.as_deref().map_or(JsValue::UNDEFINED, string_cache::js_string),
            finite(p.images_completed),
            finite(p.total_images),
            finite(p.frames_completed),
            finite(p.total_frames),
            finite(task.eta_seconds),
        ))
    }

    /// Applies a server report to the registry and delivers the resulting event (the caller notifies changes).
    fn apply(&self, event: TaskEvent, kind: Option<TaskKind>, now: u64) {
        let delivery = self.registry.borrow_mut().apply(event, kind, now);
        if let Some(d) = delivery {
            self.deliver(d);
        }
    }

    fn notify_change(&self) {
        self.mark_changed();
        self.flush_changes();
    }

    /// Records a change: the next snapshot is new, and the change listeners hear of it at the next flush.
    fn mark_changed(&self) {
        self.changes.set(self.changes.get() + 1);
        self.change_pending.set(true);
    }

    /// Calls the change listeners once for every change marked since the last flush.
    fn flush_changes(&self) {
        if !self.change_pending.replace(false) {
            return;
        }
        let listeners = self.change_listeners.borrow().clone();
        for f in &listeners {
            js::call1_safely(f, &JsValue::UNDEFINED);
        }
    }

    fn snapshot(&self) -> JsValue {
        let version = self.changes.get();
        if let Some((v, snap)) = &*self.snapshot.borrow() {
            if *v == version {
                return snap.clone();
            }
        }
        let states: Vec<State> = self.hubs.borrow().iter().map(|h| h.driver.state()).collect();
        let any = |s: State| states.contains(&s);
        let state = if any(State::Connected) {
            "connected"
        } else if any(State::Reconnecting) {
            "reconnecting"
        } else if any(State::Connecting) {
            "connecting"
        } else {
            "disconnected"
        };
        let tasks = self.task_list.borrow_mut().update(&mut self.registry.borrow_mut(), &self.words);
        let snap = Object::new();
        js::set(&snap, "state", &JsValue::from_str(state));
        js::set(&snap, "isConnected", &JsValue::from_bool(state == "connected"));
        js::set(&snap, "isConnecting", &JsValue::from_bool(state == "connecting" || state == "reconnecting"));
        js::set(&snap, "error", &self.last_error.borrow());
        js::set(&snap, "tasks", &tasks);
        js::set(&snap, "disposed", &JsValue::from_bool(self.disposed.get()));
        let snap: JsValue = Object::freeze(&snap).into();
        *self.snapshot.borrow_mut() = Some((version, snap.clone()));
        snap
    }

    fn task_and_kind(&self, task_id: &JsValue, task_type: &JsValue) -> Result<(String, TaskKind), JsValue> {
        let id = non_empty(task_id).ok_or_else(|| js::type_error("taskId must be a non-empty string."))?;
        let kind = match task_type.as_string() {
            Some(t) => TaskKind::from_name(&t).ok_or_else(|| js::type_error("taskType must be 'image' or 'video'."))?,
            None => self.registry.borrow().get(&id).and_then(|t| t.kind).ok_or_else(|| {
                js::type_error("Unknown task: pass its taskType ('image' or 'video').")
            })?,
        };
        Ok((id, kind))
    }

    async fn bearer(&self) -> Result<Option<String>, JsValue> {
        if let Some(f) = &self.options.access_token_factory {
            let failed = |e: JsValue| self.error(&format!("The access token factory failed: {}", global::error_message(&e)));
            let value = f.call0(&JsValue::NULL).map_err(failed)?;
            let value = match value.dyn_into::<Promise>() {
                Ok(promise) => JsFuture::from(promise).await.map_err(failed)?,
                Err(value) => value,
            };
            if value.is_undefined() || value.is_null() {
                return Ok(None);
            }
            return value.as_string().map(Some).ok_or_else(|| self.error("The access token factory must return a string."));
        }
        Ok(self.options.virtual_key.clone())
    }

    async fn http(&self, method: &str, url: &str, body: Body<'_>, action: &str) -> Result<http::HttpResponse, JsValue> {
        let token = self.bearer().await?;
        let options = HttpOptions {
            with_credentials: self.options.with_credentials,
            timeout_ms: self.options.request_timeout_ms,
            max_body_bytes: frame_limit(self.options.max_message_bytes),
            ..HttpOptions::default()
        };
        let content_type = matches!(body, Body::Text(_)).then_some("application/json");
        http::request(method, url, token.as_deref(), body, content_type, &options).await.map_err(|e| {
            let error = match e {
                HttpFailure::Network(detail) | HttpFailure::Body(detail) => ApiError::network(action, &detail),
                HttpFailure::Timeout(ms) => ApiError::timeout(action, ms),
            };
            self.api_error(&error)
        })
    }

    async fn generate(self: Rc<Self>, kind: TaskKind, params: JsValue) -> Result<JsValue, JsValue> {
        if self.disposed.get() {
            return Err(js::error("Client has been disposed"));
        }
        if !params.is_object() || Array::is_array(&params) {
            return Err(js::type_error("Generation parameters must be an object with a prompt."));
        }
        match js::get(&params, "prompt").and_then(|p| p.as_string()) {
            Some(p) if !p.trim().is_empty() => {}
            _ => return Err(js::type_error("params.prompt must be a non-empty string.")),
        }
        if js::get(&params, "model").is_some_and(|m| !m.is_string()) {
            return Err(js::type_error("params.model must be a string."));
        }
        let body = JSON::stringify(&params).map(String::from).map_err(|_| js::type_error("Generation parameters must be JSON-serializable."))?;
        let action = match kind {
            TaskKind::Image => "Image generation",
            TaskKind::Video => "Video generation",
        };
        let response = self.http("POST", &api::generation_url(&self.options.base_url, kind), Body::Text(&body), action).await?;
        if !(200..300).contains(&response.status) {
            return Err(self.api_error(&ApiError::from_response(action, response.status, &response.body, retry_after(&response))));
        }
        let id = api::parse_created(&response.body).map_err(|e| self.error(&format!("{action}: {e}")))?;
        self.registry.borrow_mut().track(&id, Some(kind), global::now());
        self.registry.borrow_mut().set_followed(&id, true);
        self.notify_change();
        if self.connected_hub(kind).is_some() {
            self.clone().subscribe(&id, kind, false).await?;
        }
        Ok(JsValue::from_str(&id))
    }

    async fn subscribe(self: Rc<Self>, id: &str, kind: TaskKind, quiet: bool) -> Result<(), JsValue> {
        let hub = self.connected_hub(kind).ok_or_else(|| {
            js::error(&format!("Not connected to the {0} hub. Call connect('{0}') first.", kind.name()))
        })?;
        self.registry.borrow_mut().track(id, Some(kind), global::now());
        let result = self.invoke_task_method(&hub, dialect::subscribe_methods(kind), id).await;
        match result {
            Ok(_) => {
                self.registry.borrow_mut().set_subscribed(id, true);
                self.registry.borrow_mut().set_followed(id, true);
                if !quiet {
                    let payload = Object::new();
                    js::set(&payload, "taskId", &JsValue::from_str(id));
                    js::set(&payload, "taskType", &JsValue::from_str(kind.name()));
                    self.emit("subscribed", &payload);
                }
                self.notify_change();
                Ok(())
            }
            Err(e) if global::error_message(&e).to_ascii_lowercase().contains("already subscribed") => Ok(()),
            Err(e) => {
                let error = self.error(&global::error_message(&e));
                self.emit_error("subscription", Some(id), error.clone());
                Err(error)
            }
        }
    }

    async fn unsubscribe(self: Rc<Self>, id: &str) {
        self.registry.borrow_mut().set_followed(id, false);
        let kind = match self.registry.borrow().get(id) {
            Some(t) if t.subscribed => t.kind,
            _ => return,
        };
        let Some(hub) = kind.and_then(|k| self.connected_hub(k)) else { return };
        let result = self.invoke_task_method(&hub, dialect::unsubscribe_methods(hub.kind), id).await;
        self.registry.borrow_mut().set_subscribed(id, false);
        match result {
            Ok(_) => {
                let payload = Object::new();
                js::set(&payload, "taskId", &JsValue::from_str(id));
                self.emit("unsubscribed", &payload);
            }
            Err(e) => self.log(LogLevel::Warning, &format!("Failed to unsubscribe from {id}: {}", global::error_message(&e))),
        }
        self.notify_change();
    }

    /// Invokes a (un)subscribe method with the task id; on a server where the documented `*Request` method does
    /// not exist, uses the `*Task` fallback from then on.
    async fn invoke_task_method(&self, hub: &Hub, (first, fallback): (&'static str, Option<&'static str>), id: &str) -> Result<JsValue, JsValue> {
        let mut args = b"[".to_vec();
        crate::protocol::json::write_string(&mut args, id);
        args.push(b']');
        let args = String::from_utf8(args).unwrap_or_default();
        let call = |method: &str| JsFuture::from(hub.calls.invoke(&hub.driver, InvokeKind::Invoke, method, &args));
        let Some(fallback) = fallback else { return call(first).await };
        if self.request_method_missing.get() {
            return call(fallback).await;
        }
        let result = call(first).await;
        match &result {
            Err(e) if dialect::is_missing_method(&global::error_message(e)) => {
                self.log(LogLevel::Information, &format!("{first} does not exist on this server; using {fallback}."));
                self.request_method_missing.set(true);
                call(fallback).await
            }
            _ => result,
        }
    }

    /// Reads a task's status and applies it. With `end_if_gone`, a task the server no longer knows (404) fails
    /// for the user, once, instead of staying in progress forever.
    async fn fetch_status(&self, id: &str, kind: TaskKind, end_if_gone: bool) -> Result<JsValue, JsValue> {
        let url = api::status_url(&self.options.base_url, kind, id);
        let response = self.http("GET", &url, Body::None, "Status").await?;
        if response.status == 404 && end_if_gone {
            let error = "The task no longer exists on the server.".to_string();
            self.apply(TaskEvent::Failed { task_id: id.to_string(), error, is_retryable: Some(false) }, Some(kind), global::now());
            self.notify_change();
            return Ok(JsValue::UNDEFINED);
        }
        if !(200..300).contains(&response.status) {
            return Err(self.api_error(&ApiError::from_response("Status", response.status, &response.body, retry_after(&response))));
        }
        let report = api::parse_status(&response.body, kind, id).map_err(|e| self.error(&e))?;
        self.apply(report.event, Some(kind), global::now());
        self.notify_change();
        JSON::parse(&report.json)
    }

    fn connect(self: &Rc<Self>, kind: TaskKind) -> Promise {
        if let Some(hub) = self.hub(kind) {
            if hub.driver.state() == State::Connected {
                return Promise::resolve(&JsValue::UNDEFINED);
            }
            if let Some(p) = hub.start.borrow().clone() {
                return p;
            }
            return self.start_hub(&hub);
        }
        let hub = match self.create_hub(kind) {
            Ok(h) => h,
            Err(e) => return Promise::reject(&e),
        };
        self.hubs.borrow_mut().push(hub.clone());
        self.start_hub(&hub)
    }

    fn create_hub(self: &Rc<Self>, kind: TaskKind) -> Result<Rc<Hub>, JsValue> {
        let o = &self.options;
        let mut config = Config::new(format!("{}{}", o.base_url, kind.hub_path()));
        config.protocol = o.protocol;
        config.transports = o.transports;
        config.skip_negotiation = o.skip_negotiation;
        config.uses_access_token = true;
        config.server_timeout_ms = o.server_timeout_ms;
        config.keep_alive_ms = o.keep_alive_ms.min(o.server_timeout_ms);
        config.reconnect = RetryPolicy::Exponential {
            initial_ms: 1_000,
            max_ms: 30_000,
            max_attempts: Some(o.max_reconnect_attempts),
            jitter_ms: 1_000,
        };
        config.max_message_bytes = o.max_message_bytes;
        config.allow_insecure = o.allow_insecure;
        config.validate().map_err(|e| js::type_error(&e))?;
        let token_factory = match (&o.access_token_factory, &o.virtual_key) {
            (Some(f), _) => f.clone(),
            (None, Some(key)) => {
                let key = JsValue::from_str(key);
                Closure::<dyn Fn() -> JsValue>::new(move || key.clone()).into_js_value().unchecked_into()
            }
            (None, None) => return Err(js::type_error("options.virtualKey (or options.accessTokenFactory) is required.")),
        };
        let hooks = Hooks {
            token_factory: Some(token_factory),
            retry_policy: None,
            http: HttpOptions { with_credentials: o.with_credentials, timeout_ms: o.request_timeout_ms, ..HttpOptions::default() },
        };
        let driver = Driver::new(Connection::new(config, global::random_seed()), hooks);
        let hub = Rc::new(Hub {
            kind,
            driver,
            calls: Rc::new(Calls::default()),
            start: RefCell::new(None),
            start_waiters: RefCell::new(Vec::new()),
            retry_timer: RefCell::new(None),
            stopping: Cell::new(false),
        });
        let (weak_client, weak_hub): (Weak<Client>, Weak<Hub>) = (Rc::downgrade(self), Rc::downgrade(&hub));
        hub.driver.set_sink(Box::new(move |driver, event| {
            if let (Some(client), Some(hub)) = (weak_client.upgrade(), weak_hub.upgrade()) {
                client.on_hub_event(&hub, driver, event);
            }
        }));
        let weak_client = Rc::downgrade(self);
        hub.driver.set_settled(Box::new(move || {
            if let Some(client) = weak_client.upgrade() {
                client.flush_changes();
            }
        }));
        Ok(hub)
    }

    fn start_hub(self: &Rc<Self>, hub: &Rc<Hub>) -> Promise {
        let started = self.start_hub_quietly(hub);
        *hub.start.borrow_mut() = Some(started.clone());
        let (client, hub) = (self.clone(), hub.clone());
        future_to_promise(async move {
            let result = JsFuture::from(started).await;
            hub.start.borrow_mut().take();
            match result {
                Ok(_) => {
                    client.emit_hub("connected", hub.kind, None);
                    client.notify_change();
                    client.resync(hub.kind);
                    Ok(JsValue::UNDEFINED)
                }
                Err(e) => {
                    let error = client.error(&global::error_message(&e));
                    client.emit_error("connection", None, error.clone());
                    Err(error)
                }
            }
        })
    }

    fn settle_start(&self, hub: &Hub, result: Result<(), String>) {
        let waiters = core::mem::take(&mut *hub.start_waiters.borrow_mut());
        for (resolve, reject) in waiters {
            let _ = match &result {
                Ok(()) => resolve.call0(&JsValue::UNDEFINED),
                Err(e) => reject.call1(&JsValue::UNDEFINED, &self.error(e)),
            };
        }
    }

    fn on_hub_event(self: &Rc<Self>, hub: &Rc<Hub>, driver: &Driver, event: Event) {
        match event {
            Event::Invocation { target, arguments, invocation_id } => {
                if let Some(id) = invocation_id {
                    driver.with_connection(|c| c.client_result(driver.batch_time(), &id, Err("Client didn't provide a result.")));
                }
                let mapped = driver.with_text(&arguments, |text| dialect::map_invocation(&target, text, Some(hub.kind)));
                match mapped.unwrap_or_else(|e| Err(global::error_message(&e))) {
                    Ok(Some(mapped)) => {
                        for problem in &mapped.problems {
                            self.emit_error("data", Some(mapped.event.task_id()), self.error(problem));
                        }
                        self.apply(mapped.event, Some(hub.kind), driver.batch_time());
                    }
                    Ok(None) => self.log(LogLevel::Debug, &format!("Ignored server event '{target}'.")),
                    Err(e) => self.emit_error("data", None, self.error(&e)),
                }
            }
            Event::Completion { id, outcome } => hub.calls.complete(driver, id, outcome),
            Event::StreamItem { id, item } => {
                let _ = hub.calls.stream_item(id, &item);
            }
            Event::Started => self.settle_start(hub, Ok(())),
            Event::StartFailed(e) => self.settle_start(hub, Err(e)),
            Event::Reconnecting(error) => {
                let error = error.map_or(JsValue::UNDEFINED, |e| self.error(&e));
                self.emit_hub("reconnecting", hub.kind, Some(("error", error)));
            }
            Event::Reconnected(connection_id) => {
                self.settle_start(hub, Ok(()));
                let id = connection_id.map_or(JsValue::UNDEFINED, |i| JsValue::from_str(&i));
                self.emit_hub("reconnected", hub.kind, Some(("connectionId", id)));
                self.resync(hub.kind);
            }
            Event::Closed(error) => {
                let reason = error.clone().unwrap_or_else(|| "The connection was closed before it was established.".into());
                self.settle_start(hub, Err(reason));
                let failed = error.is_some();
                let payload = error.map_or(JsValue::UNDEFINED, |e| self.error(&e));
                self.emit_hub("disconnected", hub.kind, Some(("error", payload)));
                if failed && !self.disposed.get() && !hub.stopping.get() {
                    self.schedule_restart(hub, 5_000);
                }
            }
            Event::ProtocolError(message) => self.emit_error("protocol", None, self.error(&message)),
            Event::Log(level, message) => self.log(level, &message),
            Event::StateChanged(_) => {}
        }
        self.mark_changed();
    }

    /// After a (re)connect: join every unfinished task the user follows and read its status, so an outcome that
    /// happened while the socket was down is delivered (once: the registry drops repeats), and a task the server
    /// forgot ends.
    fn resync(self: &Rc<Self>, kind: TaskKind) {
        let tasks = self.registry.borrow().followed(kind);
        for id in tasks {
            let client = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let joined = client.clone().subscribe(&id, kind, true).await;
                if joined.is_err() && client.connected_hub(kind).is_none() {
                    // Cut off by a drop: the next reconnect joins it again.
                    return;
                }
                if let Err(e) = client.fetch_status(&id, kind, true).await {
                    client.emit_error("resync", Some(&id), e);
                }
            });
        }
    }

    /// The seed's manual reconnect after automatic reconnect gave up: try again after 5 s, then every 10 s.
    fn schedule_restart(self: &Rc<Self>, hub: &Rc<Hub>, delay_ms: u64) {
        let (weak_client, weak_hub) = (Rc::downgrade(self), Rc::downgrade(hub));
        let timer = Timeout::new(delay_ms, move || {
            let (Some(client), Some(hub)) = (weak_client.upgrade(), weak_hub.upgrade()) else { return };
            hub.retry_timer.borrow_mut().take();
            if client.disposed.get() || hub.stopping.get() || hub.driver.state() != State::Disconnected {
                return;
            }
            let started = client.start_hub_quietly(&hub);
            wasm_bindgen_futures::spawn_local(async move {
                match JsFuture::from(started).await {
                    Ok(_) => {
                        client.emit_hub("reconnected", hub.kind, Some(("connectionId", hub.driver.connection_id().map_or(JsValue::UNDEFINED, |i| JsValue::from_str(&i)))));
                        client.resync(hub.kind);
                    }
                    Err(e) => {
                        client.emit_error("reconnection", None, client.error(&global::error_message(&e)));
                        client.schedule_restart(&hub, 10_000);
                    }
                }
            });
        });
        *hub.retry_timer.borrow_mut() = Some(timer);
    }

    /// Starts the hub's connection, or joins the start or reconnect under way; the Promise settles when it
    /// connects or gives up (no events).
    fn start_hub_quietly(&self, hub: &Rc<Hub>) -> Promise {
        let mut waiter = None;
        let started = Promise::new(&mut |resolve, reject| waiter = Some((resolve, reject)));
        let Some((resolve, reject)) = waiter else { return started };
        hub.start_waiters.borrow_mut().push((resolve, reject.clone()));
        if hub.driver.state() == State::Disconnected {
            if let Err(e) = hub.driver.start() {
                hub.start_waiters.borrow_mut().retain(|(_, r)| r != &reject);
                let _ = reject.call1(&JsValue::UNDEFINED, &self.error(&e));
            }
        }
        started
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        for hub in self.hubs.borrow().iter() {
            hub.retry_timer.borrow_mut().take();
            hub.driver.dispose();
        }
    }
}
