//! TypeScript declarations for the option and callback types of the public API (the classes' own
//! declarations are generated from their Rust signatures).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** The states of a connection. */
export type HubConnectionState = "Disconnected" | "Connecting" | "Connected" | "Disconnecting" | "Reconnecting";
/** A transport name. */
export type TransportName = "WebSockets" | "ServerSentEvents" | "LongPolling";
/** A hub protocol name. */
export type HubProtocolName = "json" | "messagepack";
/** A log level name. */
export type LogLevelName = "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";
/** A logger receiving every line at or above its level. */
export interface Logger { log(level: LogLevel, message: string): void; }
/** What a reconnect policy is told before each attempt. */
export interface RetryContext {
    readonly previousRetryCount: number;
    readonly elapsedMilliseconds: number;
    readonly retryReason: Error;
}
/** A reconnect policy: the delay before the next attempt in ms, or null to give up. */
export interface RetryPolicy { nextRetryDelayInMilliseconds(retryContext: RetryContext): number | null; }
/** Exponential backoff: min(initialDelayMs * 2^n, maxDelayMs) plus up to jitterMs, for at most maxAttempts tries. */
export interface BackoffOptions {
    initialDelayMs?: number;
    maxDelayMs?: number;
    maxAttempts?: number;
    jitterMs?: number;
}
/** Options of a HubConnection; every field is optional. */
export interface HubConnectionOptions {
    /** Allowed transports (default: all, in the server's order). */
    transport?: TransportName | TransportName[] | HttpTransportType;
    /** Connect the WebSocket directly without negotiate (WebSockets only). */
    skipNegotiation?: boolean;
    /** Returns the access token; called before every connect and reconnect. */
    accessTokenFactory?: () => string | null | undefined | Promise<string | null | undefined>;
    /** Extra HTTP headers for negotiate and HTTP transports. */
    headers?: Record<string, string>;
    /** Send cookies with cross-origin requests (default true, like @microsoft/signalr). */
    withCredentials?: boolean;
    /** HTTP request timeout in ms (default 100000). */
    timeout?: number;
    /** Hub protocol (default "json"). */
    protocol?: HubProtocolName | { readonly name: HubProtocolName };
    /** Automatic reconnect: true (default delays 0, 2, 10, 30 s), delays, backoff options or a policy. */
    automaticReconnect?: boolean | number[] | RetryPolicy | BackoffOptions;
    /** Retry a failed initial start() with the reconnect policy. */
    retryStart?: boolean;
    /** Close after this long without a message from the server (default 30000). */
    serverTimeoutInMilliseconds?: number;
    /** Ping after this long without sending (default 15000). */
    keepAliveIntervalInMilliseconds?: number;
    /** Give the handshake up after this long (default 15000). */
    handshakeTimeoutInMilliseconds?: number;
    /** Stateful reconnect (WebSockets): replays unacknowledged messages after a short drop. */
    statefulReconnect?: boolean | { bufferSize?: number };
    /** Log level or logger (default: warnings and errors to the console). */
    logLevel?: LogLevel | LogLevelName | Logger;
    /** Skip incoming messages larger than this many bytes (default 16 MiB); a frame above four times this (at least 64 KiB) is refused and the connection reconnects. */
    maxMessageSize?: number;
    /** Allow plain http/ws to hosts other than this machine (tokens would travel unencrypted). */
    allowInsecure?: boolean;
}
/** Receives the items of a stream. */
export interface StreamSubscriber<T> {
    next(value: T): void;
    error(err: Error): void;
    complete(): void;
}
"#;

#[wasm_bindgen(typescript_custom_section)]
const CONDUIT_TYPES: &'static str = r#"
/** The kind of a Conduit task, and the hub that reports it. */
export type TaskType = "image" | "video";
/** Options of a ConduitRealtimeClient. */
export interface ConduitClientOptions {
    /** The virtual key (condt_...). Sent as a Bearer token and as the hub's access_token. */
    virtualKey?: string;
    /** Returns a (short-lived, e.g. ephemeral ek_...) key for every connect and HTTP call, instead of virtualKey. */
    accessTokenFactory?: () => string | Promise<string>;
    /** Conduit's base URL (default https://api.conduit.im). */
    baseUrl?: string;
    /** Automatic reconnect attempts before giving up (default 5). */
    maxReconnectAttempts?: number;
    /** Log lifecycle information to the console. */
    enableLogging?: boolean;
    /** Log level or logger (overrides enableLogging). */
    logLevel?: LogLevel | LogLevelName | Logger;
    /** Hub protocol (default "json"; the deployed server registers only JSON). */
    protocol?: HubProtocolName;
    /** Transport (default WebSockets without negotiate, like the seed); "auto" negotiates and falls back. */
    transport?: TransportName | "auto";
    /** Connect WebSockets without negotiate (default true with the default transport). */
    skipNegotiation?: boolean;
    /** Close after this long without a message from the server (default 60000: the server pings every 30 s). */
    serverTimeoutInMilliseconds?: number;
    /** Ping after this long without sending (default 15000). */
    keepAliveIntervalInMilliseconds?: number;
    /** HTTP request timeout (default 30000). */
    requestTimeoutInMilliseconds?: number;
    /** Send cookies with requests (default false: Conduit allows credentials only for localhost origins). */
    withCredentials?: boolean;
    /** Finished tasks kept for getSnapshot() (default 500). */
    maxFinishedTasks?: number;
    /** Skip server messages larger than this many bytes (default 16 MiB); a frame above four times this (at least 64 KiB) is refused and the connection reconnects; an API response above that fails its call. */
    maxMessageSize?: number;
    /** Allow plain http to hosts other than this machine (the key would travel unencrypted). */
    allowInsecure?: boolean;
}
/** Parameters of an image generation (passed through to Conduit). */
export interface ImageGenerationParams {
    model?: string;
    prompt: string;
    size?: string;
    n?: number;
    [key: string]: unknown;
}
/** Parameters of a video generation (passed through to Conduit). */
export interface VideoGenerationParams {
    model?: string;
    prompt: string;
    duration?: number;
    size?: string;
    fps?: number;
    style?: string;
    [key: string]: unknown;
}
/** A task's lifecycle status. */
export type TaskStatus = "pending" | "in_progress" | "completed" | "failed" | "cancelled";
/** A task's progress. */
export interface ProgressUpdate {
    taskId: string;
    taskType?: TaskType;
    /** 0 to 100; never goes backwards. */
    progress: number;
    status?: string;
    message?: string;
    imagesCompleted?: number;
    totalImages?: number;
    framesCompleted?: number;
    totalFrames?: number;
    /** Seconds left, from the observed rate or the server's estimate. */
    estimatedSecondsRemaining?: number;
}
/** A task's final outcome; delivered exactly once. */
export interface TaskResult {
    taskId: string;
    taskType?: TaskType;
    status: "completed" | "failed" | "cancelled";
    imageUrl?: string;
    imageUrls?: string[];
    videoUrl?: string;
    previewUrl?: string;
    cost?: number;
    durationSeconds?: number;
    error?: string;
    isRetryable?: boolean;
    reason?: string;
    metadata?: Record<string, unknown>;
}
/** A task started on the server. */
export interface TaskStarted { taskId: string; taskType?: TaskType; estimatedSeconds?: number; }
/** What a task status request returned. */
export interface TaskStatusReport {
    taskId: string;
    taskType: TaskType;
    status: TaskStatus;
    serverStatus: string;
    progress: number;
    error?: string;
    imageUrl?: string;
    imageUrls?: string[];
    videoUrl?: string;
    previewUrl?: string;
    cost?: number;
    durationSeconds?: number;
}
/** A task as the registry knows it. */
export interface TaskState {
    readonly id: string;
    readonly taskId: string;
    readonly taskType?: TaskType;
    readonly status: TaskStatus;
    readonly progress: number;
    readonly message?: string;
    readonly statusText?: string;
    readonly estimatedSecondsRemaining?: number;
    readonly result?: Readonly<TaskResult>;
    readonly error?: string;
    readonly isRetryable?: boolean;
    readonly reason?: string;
    readonly subscribed: boolean;
    readonly createdAt: number;
    readonly updatedAt: number;
}
/** The client's state for rendering: a new object only when something changed. */
export interface ConduitSnapshot {
    readonly state: "disconnected" | "connecting" | "connected" | "reconnecting";
    readonly isConnected: boolean;
    readonly isConnecting: boolean;
    readonly error: Error | null;
    readonly tasks: ReadonlyArray<TaskState>;
    readonly disposed: boolean;
}
/** An error from an HTTP call. */
export interface ConduitHttpError extends Error {
    readonly name: "ConduitHttpError" | "ConduitNetworkError" | "ConduitTimeoutError";
    readonly status: number | null;
    readonly code: string | null;
    readonly retryable: boolean;
    readonly retryAfter: number | null;
}
/** Every event of a ConduitRealtimeClient and its payload. */
export interface ConduitEventMap {
    connected: { hubType: TaskType };
    disconnected: { hubType: TaskType; error?: Error };
    reconnecting: { hubType: TaskType; error?: Error };
    reconnected: { hubType: TaskType; connectionId?: string };
    started: TaskStarted;
    progress: ProgressUpdate;
    completed: TaskResult;
    failed: TaskResult;
    cancelled: TaskResult;
    subscribed: { taskId: string; taskType: TaskType };
    unsubscribed: { taskId: string };
    error: { type: string; taskId?: string; error: Error };
}
"#;
