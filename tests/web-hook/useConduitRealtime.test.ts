// The hook's logic with a fake client: StrictMode, cleanup, snapshot stability, latest-options ref, SSR.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { StrictMode, act, createElement, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { useConduitRealtime, type UseConduitRealtimeOptions, type UseConduitRealtimeResult } from 'conduit-realtime/react';
import { record, type FakeClient } from './fake-conduit';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let container: HTMLElement;
let root: Root;
let renders = 0;
let last: UseConduitRealtimeResult;
const results: UseConduitRealtimeResult[] = [];

function Probe({ options }: { options: UseConduitRealtimeOptions }): ReactNode {
  renders++;
  last = useConduitRealtime(options);
  results.push(last);
  return createElement('p', null, last.state);
}

async function render(options: UseConduitRealtimeOptions, strict = true): Promise<void> {
  const el = createElement(Probe, { options });
  await act(async () => root.render(strict ? createElement(StrictMode, null, el) : el));
}

const flush = () => act(async () => { await new Promise((r) => setTimeout(r, 0)); });
const client = (i = 0): FakeClient => record.instances[i]!;
const KEY = 'condt_testkey_123';

beforeEach(() => {
  record.instances.length = 0;
  renders = 0;
  results.length = 0;
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(async () => {
  await act(async () => root.unmount());
  container.remove();
});

describe('useConduitRealtime', () => {
  test('StrictMode mount-unmount-mount creates exactly one client and connects once', async () => {
    await render({ virtualKey: KEY, autoConnect: true, hubType: 'image' });
    await flush();
    expect(renders % 2).toBe(0); // StrictMode (development React) rendered everything twice
    expect(record.instances).toHaveLength(1);
    expect(client().connects).toEqual(['image']);
    expect(client().disconnects).toBe(0);
    expect(last.state).toBe('connected');
    expect(last.isConnected).toBe(true);
    expect(last.client).toBe(client());
    expect(container.textContent).toBe('connected');
  });

  test('nothing is created during render; a client appears only after mount', async () => {
    const Bare = (): ReactNode => {
      const r = useConduitRealtime({ virtualKey: KEY });
      return createElement('p', null, r.client ? 'client' : 'none');
    };
    expect(renderToString(createElement(Bare))).toBe('<p>none</p>');
    expect(record.instances).toHaveLength(0);
  });

  test('server rendering returns the idle snapshot, with the seed\'s fields', () => {
    let seen: UseConduitRealtimeResult | undefined;
    const Server = (): ReactNode => {
      seen = useConduitRealtime({ virtualKey: KEY, autoConnect: true, hubType: 'image' });
      return null;
    };
    renderToString(createElement(Server));
    expect(seen).toMatchObject({ state: 'disconnected', isConnected: false, isConnecting: false, error: null, client: null });
    expect(seen!.tasks).toBeInstanceOf(Map);
    expect(seen!.tasks.size).toBe(0);
    for (const f of ['connect', 'disconnect', 'generateImage', 'generateVideo', 'subscribeToTask', 'cancelTask'] as const) {
      expect(typeof seen![f]).toBe('function');
    }
  });

  test('unmount disconnects, removes every listener and ignores late events', async () => {
    const progress: number[] = [];
    await render({ virtualKey: KEY, autoConnect: true, hubType: 'image', onProgress: (p) => progress.push(p.progress) });
    await flush();
    const c = client();
    c.emit('progress', { taskId: 't', progress: 10 });
    expect(progress).toEqual([10]);
    // Keep a handle on the hook's forwarder, as a late event from an in-flight callback would.
    const forwarders = [...(c.listeners.get('progress') ?? [])];
    await act(async () => root.unmount());
    root = createRoot(container);
    expect(c.disconnects).toBe(1);
    expect(c.changeListeners.size).toBe(0);
    expect(c.listenerCount()).toBe(0);
    for (const f of forwarders) f({ taskId: 't', progress: 50 } as never);
    expect(progress).toEqual([10]);
  });

  test('a notification without a change does not re-render; a change re-renders once', async () => {
    await render({ virtualKey: KEY, autoConnect: true, hubType: 'image' }, false);
    await flush();
    const c = client();
    const before = renders;
    await act(async () => {
      for (let i = 0; i < 50; i++) c.notify();
    });
    expect(renders).toBe(before);
    await act(async () => c.set({ error: new Error('x') }));
    expect(renders).toBe(before + 1);
    expect(last.error?.message).toBe('x');
  });

  test('tasks is a Map cached per snapshot: same snapshot, same Map; new snapshot, new Map', async () => {
    await render({ virtualKey: KEY, autoConnect: true, hubType: 'image' }, false);
    await flush();
    await act(async () => {
      await last.generateImage({ prompt: 'a' });
    });
    const first = last;
    expect(first.tasks.get('task-1')?.status).toBe('pending');
    await render({ virtualKey: KEY, autoConnect: true, hubType: 'image' }, false); // a parent re-render
    expect(last.tasks).toBe(first.tasks);
    expect(last).toBe(first); // the whole result is memoized on the snapshot
    await act(async () => {
      await last.generateImage({ prompt: 'b' });
    });
    expect(last.tasks).not.toBe(first.tasks);
    expect([...last.tasks.keys()]).toEqual(['task-1', 'task-2']);
  });

  test('new callback identities do not reconnect, and the latest callback is called', async () => {
    const calls: string[] = [];
    for (let i = 0; i < 5; i++) {
      await render({
        virtualKey: KEY,
        autoConnect: true,
        hubType: 'image',
        onCompleted: ({ taskId }) => calls.push(`${i}:${taskId}`),
        accessTokenFactory: () => `condt_token_${i}`,
      });
    }
    await flush();
    expect(record.instances).toHaveLength(1);
    expect(client().connects).toEqual(['image']);
    client().emit('completed', { taskId: 'x', status: 'completed' });
    expect(calls).toEqual(['4:x']);
    const factory = client().options.accessTokenFactory!;
    expect(factory()).toBe('condt_token_4');
  });

  test('changing the key replaces the client and disconnects the old one', async () => {
    await render({ virtualKey: KEY, autoConnect: true, hubType: 'image' });
    await flush();
    await render({ virtualKey: 'condt_otherkey_456', autoConnect: true, hubType: 'image' });
    await flush();
    expect(record.instances).toHaveLength(2);
    expect(client(0).disconnects).toBe(1);
    expect(client(1).options.virtualKey).toBe('condt_otherkey_456');
    expect(last.client).toBe(client(1));
  });

  test('actions wait for the client; disconnect() disposes it and connect() makes a new one', async () => {
    await render({ virtualKey: KEY }, false);
    let id = '';
    await act(async () => {
      id = await last.generateImage({ prompt: 'early' });
    });
    expect(id).toBe('task-1');
    expect(record.instances).toHaveLength(1);
    await act(async () => last.disconnect());
    expect(last.snapshot.disposed).toBe(true);
    expect(last.state).toBe('disconnected');
    await act(async () => last.connect('video'));
    expect(record.instances).toHaveLength(2);
    expect(client(1).connects).toEqual(['video']);
    expect(last.isConnected).toBe(true);
  });

  test('the wasm is initialized once for every hook on the page', async () => {
    const before = record.initCalls;
    const Two = (): ReactNode => {
      useConduitRealtime({ virtualKey: KEY });
      useConduitRealtime({ virtualKey: KEY });
      return null;
    };
    await act(async () => root.render(createElement(Two)));
    await flush();
    expect(record.instances).toHaveLength(2);
    expect(record.initCalls - before).toBeLessThanOrEqual(1);
  });

  test('a client that cannot be created shows its error instead of throwing', async () => {
    const original = record.instances.push;
    record.instances.push = () => {
      throw new Error('options.virtualKey (or options.accessTokenFactory) is required.');
    };
    try {
      await render({}, false);
      await flush();
    } finally {
      record.instances.push = original;
    }
    expect(last.error?.message).toMatch(/virtualKey/);
    expect(last.client).toBeNull();
  });
});
