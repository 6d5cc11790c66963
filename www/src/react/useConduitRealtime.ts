/**
 * useConduitRealtime: a thin React hook over `ConduitRealtimeClient`.
 *
 * The wasm client owns every piece of state (connection, tasks, errors) and publishes it as an immutable
 * snapshot; this hook only reads that snapshot with `useSyncExternalStore` and ties the client's life to the
 * component's:
 * - nothing happens at import time or during render (safe to import and render on the server);
 * - the wasm is loaded and initialized once per page, then the client is created in an effect;
 * - React StrictMode's mount-unmount-mount leaves exactly one client and one connection per hub;
 * - callbacks are read through a latest-options ref: new callback identities never reconnect;
 * - after unmount the client is disconnected and its late events are ignored.
 */
import { useEffect, useInsertionEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import init, { ConduitRealtimeClient } from 'conduit-realtime';
import type {
  ConduitClientOptions,
  ConduitEventMap,
  ConduitSnapshot,
  ImageGenerationParams,
  Logger,
  TaskState,
  TaskType,
  VideoGenerationParams,
} from 'conduit-realtime';

/** Event callbacks: `onProgress`, `onCompleted`, `onFailed`, ... one per `ConduitEventMap` event. */
export type ConduitEventCallbacks = {
  [K in keyof ConduitEventMap as `on${Capitalize<K>}`]?: (payload: ConduitEventMap[K]) => void;
};

/** Options of `useConduitRealtime`: the client's options, the seed's `autoConnect`/`hubType`, callbacks. */
export interface UseConduitRealtimeOptions extends ConduitClientOptions, ConduitEventCallbacks {
  /** Connect once mounted (needs `hubType`). */
  autoConnect?: boolean;
  /** The hub (or hubs) `autoConnect` connects to. */
  hubType?: TaskType | readonly TaskType[];
  /** Where the `.wasm` file is, when the bundler cannot find it (used by the first load on the page). */
  wasmUrl?: string | URL;
}

/** What `useConduitRealtime` returns: the seed's fields plus `state`, `cancelTask`, `snapshot` and `client`. */
export interface UseConduitRealtimeResult {
  /** `disconnected`, `connecting`, `connected` or `reconnecting` (over all hubs). */
  readonly state: ConduitSnapshot['state'];
  readonly isConnected: boolean;
  /** Connecting or reconnecting. */
  readonly isConnecting: boolean;
  readonly error: Error | null;
  /** The tasks by id; a new Map only when the snapshot changed. */
  readonly tasks: ReadonlyMap<string, TaskState>;
  /** The client's immutable snapshot this render was made from. */
  readonly snapshot: ConduitSnapshot;
  /** The client, once the wasm is loaded and the component mounted (null before, and on the server). */
  readonly client: ConduitRealtimeClient | null;
  /** Connects to a hub (after `disconnect()`, with a new client). */
  connect(hubType: TaskType): Promise<void>;
  /** Disconnects and disposes the client. */
  disconnect(): Promise<void>;
  generateImage(params: ImageGenerationParams): Promise<string>;
  generateVideo(params: VideoGenerationParams): Promise<string>;
  subscribeToTask(taskId: string, taskType: TaskType): Promise<void>;
  cancelTask(taskId: string, taskType?: TaskType): Promise<void>;
}

let wasmReady: Promise<void> | null = null;

/** Loads and initializes the wasm once per page (the hook calls it; call it yourself to preload). */
export function loadConduitRealtime(wasmUrl?: string | URL): Promise<void> {
  if (!wasmReady) {
    const loading = wasmUrl === undefined ? init() : init({ module_or_path: wasmUrl });
    wasmReady = loading.then(
      () => undefined,
      (e: unknown) => {
        wasmReady = null;
        throw e;
      },
    );
  }
  return wasmReady;
}

type Callback = keyof ConduitEventCallbacks;
const EVENTS = [
  'connected', 'disconnected', 'reconnecting', 'reconnected', 'started', 'progress',
  'completed', 'failed', 'cancelled', 'subscribed', 'unsubscribed', 'error',
] as const satisfies ReadonlyArray<keyof ConduitEventMap>;
const HOOK_ONLY = new Set<string>(['autoConnect', 'hubType', 'wasmUrl', ...EVENTS.map(callbackName)]);

function callbackName(event: keyof ConduitEventMap): Callback {
  return `on${event.charAt(0).toUpperCase()}${event.slice(1)}` as Callback;
}

const IDLE: ConduitSnapshot = Object.freeze({
  state: 'disconnected',
  isConnected: false,
  isConnecting: false,
  error: null,
  tasks: Object.freeze([]),
  disposed: false,
});
const STARTING: ConduitSnapshot = Object.freeze({ ...IDLE, state: 'connecting', isConnecting: true });
const getServerSnapshot = (): ConduitSnapshot => IDLE;

const taskMaps = new WeakMap<ConduitSnapshot, ReadonlyMap<string, TaskState>>();
function tasksOf(snapshot: ConduitSnapshot): ReadonlyMap<string, TaskState> {
  let map = taskMaps.get(snapshot);
  if (!map) {
    map = new Map(snapshot.tasks.map((t) => [t.id, t]));
    taskMaps.set(snapshot, map);
  }
  return map;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

function hubList(hubType: UseConduitRealtimeOptions['hubType']): TaskType[] {
  if (hubType === undefined) return [];
  return typeof hubType === 'string' ? [hubType] : [...hubType];
}

/** What identifies a client: every client option (functions and loggers by kind only: they are read live). */
function clientKey(options: UseConduitRealtimeOptions): string {
  const entries = Object.entries(options)
    .filter(([k, v]) => !HOOK_ONLY.has(k) && v !== undefined)
    .map(([k, v]): [string, unknown] => [k, typeof v === 'function' ? 'function' : typeof v === 'object' && v !== null ? 'object' : v])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

interface Latest {
  current: UseConduitRealtimeOptions;
}

/** The client options, with functions and the logger reading the latest options at call time. */
function clientOptions(latest: Latest): ConduitClientOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(latest.current)) {
    if (!HOOK_ONLY.has(k) && v !== undefined) out[k] = v;
  }
  if (typeof latest.current.accessTokenFactory === 'function') {
    out.accessTokenFactory = () => {
      const f = latest.current.accessTokenFactory;
      if (!f) throw new Error('accessTokenFactory was removed');
      return f();
    };
  }
  if (typeof latest.current.logLevel === 'object' && latest.current.logLevel !== null) {
    const logger: Logger = {
      log: (level, message) => {
        const l = latest.current.logLevel;
        if (typeof l === 'object' && l !== null) l.log(level, message);
      },
    };
    out.logLevel = logger;
  }
  return out as ConduitClientOptions;
}

interface Waiter {
  resolve(client: ConduitRealtimeClient): void;
  reject(error: Error): void;
}

/** Owns one component's client: created on attach (after the wasm loaded), disposed on detach. */
class ClientStore {
  private client: ConduitRealtimeClient | null = null;
  private generation = 0;
  private attached = false;
  private placeholder: ConduitSnapshot = IDLE;
  private hubs: TaskType[] = [];
  private readonly listeners = new Set<() => void>();
  private release: Array<() => void> = [];
  private waiters: Waiter[] = [];

  constructor(private readonly latest: Latest) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  readonly getSnapshot = (): ConduitSnapshot => (this.client ? this.client.getSnapshot() : this.placeholder);

  getClient(): ConduitRealtimeClient | null {
    return this.client;
  }

  private readonly emit = (): void => {
    for (const l of [...this.listeners]) l();
  };

  /** Mounted: load the wasm, then create the client (unless detached meanwhile). */
  attach(): void {
    const generation = ++this.generation;
    this.attached = true;
    this.placeholder = this.hubs.length > 0 ? STARTING : IDLE;
    loadConduitRealtime(this.latest.current.wasmUrl).then(
      () => {
        if (generation === this.generation) this.create();
      },
      (e: unknown) => {
        if (generation === this.generation) this.fail(toError(e));
      },
    );
  }

  /** Unmounted (or the client options changed): forget the client and disconnect it. */
  detach(): void {
    this.generation++;
    this.attached = false;
    const client = this.drop();
    this.placeholder = IDLE;
    if (client) client.disconnect().catch(() => undefined);
    // StrictMode re-attaches synchronously; a caller still waiting after that is told the truth.
    queueMicrotask(() => {
      if (!this.attached) this.rejectWaiters(new Error('useConduitRealtime: the component unmounted'));
    });
    this.emit();
  }

  /** The hubs to keep connected (autoConnect). */
  autoConnect(hubs: TaskType[]): void {
    this.hubs = hubs;
    const client = this.client;
    if (!client && this.attached && hubs.length > 0 && this.placeholder === IDLE) {
      this.placeholder = STARTING;
      this.emit();
    }
    if (client && !client.getSnapshot().disposed) for (const h of hubs) client.connect(h).catch(() => undefined);
  }

  /** The live client; waits for the wasm, and replaces a client disposed by `disconnect()`. */
  ready(): Promise<ConduitRealtimeClient> {
    const client = this.client;
    if (client && !client.getSnapshot().disposed) return Promise.resolve(client);
    if (client && this.attached) {
      this.create([]);
      if (this.client) return Promise.resolve(this.client);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private create(hubs: TaskType[] = this.hubs): void {
    this.drop()?.disconnect().catch(() => undefined);
    let client: ConduitRealtimeClient;
    try {
      client = new ConduitRealtimeClient(clientOptions(this.latest));
    } catch (e) {
      this.fail(toError(e));
      return;
    }
    for (const event of EVENTS) this.listen(client, event);
    this.release.push(client.onChange(this.emit));
    this.client = client;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(client);
    this.emit();
    for (const h of hubs) client.connect(h).catch(() => undefined); // the error is in the snapshot
  }

  /** Forwards one event to the latest callback, while this client is still the component's. */
  private listen<K extends keyof ConduitEventMap>(client: ConduitRealtimeClient, event: K): void {
    const name = callbackName(event);
    const listener = (payload: ConduitEventMap[K]): void => {
      if (this.client !== client) return; // a late event from a client this component let go of
      const callback = this.latest.current[name] as ((p: ConduitEventMap[K]) => void) | undefined;
      callback?.(payload);
    };
    client.on(event, listener);
    this.release.push(() => {
      client.off(event, listener);
    });
  }

  private drop(): ConduitRealtimeClient | null {
    const client = this.client;
    this.client = null;
    const release = this.release;
    this.release = [];
    for (const r of release) r();
    return client;
  }

  private fail(error: Error): void {
    this.placeholder = Object.freeze({ ...IDLE, error });
    this.rejectWaiters(error);
    this.emit();
  }

  private rejectWaiters(error: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }
}

/**
 * Connects a component to Conduit's real-time hubs.
 *
 * ```tsx
 * const { isConnected, generateImage, tasks } = useConduitRealtime({ virtualKey, autoConnect: true, hubType: 'image' });
 * ```
 */
export function useConduitRealtime(options: UseConduitRealtimeOptions): UseConduitRealtimeResult {
  const latest = useRef(options);
  useInsertionEffect(() => {
    latest.current = options;
  });
  const [store] = useState(() => new ClientStore(latest));
  const key = clientKey(options);
  const hubs = options.autoConnect ? hubList(options.hubType) : [];
  const hubsKey = hubs.join(',');

  useEffect(() => {
    store.attach();
    return () => store.detach();
  }, [store, key]);

  useEffect(() => {
    store.autoConnect(hubsKey ? (hubsKey.split(',') as TaskType[]) : []);
  }, [store, key, hubsKey]);

  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, getServerSnapshot);
  const client = store.getClient();

  const actions = useMemo(
    () => ({
      connect: (hubType: TaskType) => store.ready().then((c) => c.connect(hubType)),
      disconnect: async () => {
        await store.getClient()?.disconnect();
      },
      generateImage: (params: ImageGenerationParams) => store.ready().then((c) => c.generateImage(params)),
      generateVideo: (params: VideoGenerationParams) => store.ready().then((c) => c.generateVideo(params)),
      subscribeToTask: (taskId: string, taskType: TaskType) =>
        store.ready().then((c) => c.subscribeToTask(taskId, taskType)),
      cancelTask: (taskId: string, taskType?: TaskType) => store.ready().then((c) => c.cancelTask(taskId, taskType)),
    }),
    [store],
  );

  return useMemo(
    () => ({
      state: snapshot.state,
      isConnected: snapshot.isConnected,
      isConnecting: snapshot.isConnecting,
      error: snapshot.error,
      tasks: tasksOf(snapshot),
      snapshot,
      client,
      ...actions,
    }),
    [snapshot, client, actions],
  );
}

export default useConduitRealtime;
