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
    /** Skip incoming messages larger than this many bytes (default 16 MiB). */
    maxMessageSize?: number;
}
/** Receives the items of a stream. */
export interface StreamSubscriber<T> {
    next(value: T): void;
    error(err: Error): void;
    complete(): void;
}
"#;
