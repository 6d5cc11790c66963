// A stand-in for the wasm module with the same small surface the hook uses (init, ConduitRealtimeClient:
// getSnapshot/onChange/on/off/connect/disconnect/generate*), recording what the hook does to it.
import type { ConduitClientOptions, ConduitSnapshot, TaskState, TaskType } from 'conduit-realtime';

export const record = { initCalls: 0, instances: [] as FakeClient[] };

export default async function init(): Promise<void> {
  record.initCalls++;
}

type Listener = (payload: never) => void;

export class FakeClient {
  snapshot: ConduitSnapshot = Object.freeze({
    state: 'disconnected',
    isConnected: false,
    isConnecting: false,
    error: null,
    tasks: Object.freeze([]),
    disposed: false,
  });
  readonly changeListeners = new Set<() => void>();
  readonly listeners = new Map<string, Set<Listener>>();
  readonly connects: TaskType[] = [];
  disconnects = 0;
  private nextId = 1;

  constructor(readonly options: ConduitClientOptions) {
    record.instances.push(this);
  }

  getSnapshot(): ConduitSnapshot {
    return this.snapshot;
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  on(event: string, listener: Listener): this {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event)!.add(listener);
    return this;
  }

  off(event: string, listener?: Listener): this {
    if (listener) this.listeners.get(event)?.delete(listener);
    else this.listeners.delete(event);
    return this;
  }

  async connect(hubType: TaskType): Promise<void> {
    if (this.snapshot.disposed) throw new Error('disposed');
    this.connects.push(hubType);
    this.set({ state: 'connected', isConnected: true, isConnecting: false });
  }

  async disconnect(): Promise<void> {
    this.disconnects++;
    this.set({ state: 'disconnected', isConnected: false, isConnecting: false, disposed: true });
    this.changeListeners.clear();
    this.listeners.clear();
  }

  async generateImage(): Promise<string> {
    const id = `task-${this.nextId++}`;
    const task: TaskState = Object.freeze({
      id, taskId: id, taskType: 'image', status: 'pending', progress: 0, subscribed: true, createdAt: 1, updatedAt: 1,
    });
    this.set({ tasks: Object.freeze([...this.snapshot.tasks, task]) });
    return id;
  }

  // Test helpers.
  set(patch: Partial<ConduitSnapshot>): void {
    this.snapshot = Object.freeze({ ...this.snapshot, ...patch });
    this.notify();
  }

  notify(): void {
    for (const l of [...this.changeListeners]) l();
  }

  emit(event: string, payload: unknown): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) l(payload as never);
  }

  listenerCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}

export { FakeClient as ConduitRealtimeClient };
