// The page-side measurements that bench/suites/*.mjs drive through page.evaluate(() => bench.<name>(options)).

// kind "flood": the test hub's Flood(count, perFrame, "f", PAYLOAD) to the invoking connection.
// kind "conduit": POST /_dev/flood: deployed-shape ImageGenerationProgress events to the key's image-hub socket.
const PAYLOAD = { taskId: '5b9d5e2a-6f0c-4a51-9d0e-bench0000001', progress: 42, status: 'processing', message: 'Generating: 42%' };
const ECHO = { taskId: '5b9d5e2a-6f0c-4a51-9d0e-bench0000001', n: 1 };
const HUB = { flood: '/hubs/test', conduit: '/hubs/image-generation' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const newKey = () => `condt_bench_${Math.random().toString(36).slice(2, 12)}`;
const eventName = (kind, client) => (kind === 'flood' ? 'f' : client === 'conduit' ? 'progress' : 'ImageGenerationProgress');

/** Full GCs with pauses, so FinalizationRegistry callbacks (wasm-bindgen frees) run too. */
async function settle() {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(30);
  }
}

/** Resolves with performance.now() when `fn` was called `count` times, or NaN after `timeoutMs`. */
function counter(count, timeoutMs, every, onEvery) {
  let n = 0;
  let done;
  const finished = new Promise((resolve) => {
    done = resolve;
    setTimeout(() => resolve(NaN), timeoutMs);
  });
  const fn = () => {
    if (++n % every === 0) onEvery?.();
    if (n === count) done(performance.now());
  };
  return { fn, finished, get n() { return n; } };
}

/**
 * When a WebSocket of the page last sent and last had a message event, so a round trip splits into the client's own
 * time (invoke() to send(), message event to the awaiting code) and the network's and server's (send to message),
 * which is the same for every client and carries most of the spread. Every client under test sets `onmessage`.
 * Installed by the first latency measurement, so the other measurements run on unwrapped sockets.
 */
const socketMarks = { sent: 0, received: 0, installed: false };

function markSockets() {
  if (socketMarks.installed) return;
  socketMarks.installed = true;
  const proto = WebSocket.prototype;
  const send = proto.send;
  proto.send = function (data) {
    socketMarks.sent = performance.now();
    return send.call(this, data);
  };
  const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage');
  Object.defineProperty(proto, 'onmessage', {
    ...onmessage,
    set(handler) {
      const marked = handler && function (event) {
        socketMarks.received = performance.now();
        return handler.call(this, event);
      };
      onmessage.set.call(this, marked);
    },
  });
}

export function measurements({ server, clients, wasmMemory }) {
  const mem = () => ({ heap: performance.memory.usedJSHeapSize, wasm: wasmMemory?.buffer.byteLength ?? 0 });

  async function devFlood(key, query, ids) {
    const r = await fetch(`${server}/_dev/flood?key=${key}&hub=image-generation&${new URLSearchParams(query)}`, {
      method: 'POST',
      body: ids ? JSON.stringify(ids) : undefined,
    });
    const { sent } = await r.json();
    if (sent !== 1) throw new Error(`/_dev/flood reached ${sent} sockets`);
  }

  // A new task id per flood: the client drops progress that goes backwards.
  function trigger(kind, conn, key, count, perFrame, task = 1) {
    if (kind === 'flood') return conn.invoke('Flood', count, perFrame, 'f', PAYLOAD);
    return devFlood(key, { count, perFrame, task: `bench-task-${String(task).padStart(4, '0')}` });
  }

  /** Events/s from the flood request until the handler saw the last event. */
  async function throughput({ client, kind, protocol, perFrame, count }) {
    const key = newKey();
    const conn = await clients[client]({ hub: HUB[kind], protocol, key });
    const c = counter(count, Math.max(30_000, count / 5));
    conn.on(eventName(kind, client), c.fn);
    await settle();
    const t0 = performance.now();
    const sent = trigger(kind, conn, key, count, perFrame).catch((e) => e);
    const t1 = await c.finished;
    const failure = await sent;
    await sleep(20); // anything beyond `count` would be a duplicate
    await conn.stop();
    if (failure instanceof Error) throw failure;
    return { delivered: c.n, ms: t1 - t0, rate: (count * 1000) / (t1 - t0) };
  }

  /** Sequential Echo invocations after a warm-up; per-call times in µs. */
  async function latency({ client, protocol, count, warmup }) {
    markSockets();
    const conn = await clients[client]({ hub: '/hubs/test', protocol });
    for (let i = 0; i < warmup; i++) await conn.invoke('Echo', ECHO);
    const t = new Float64Array(count);
    const own = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await conn.invoke('Echo', ECHO);
      const t1 = performance.now();
      t[i] = (t1 - t0) * 1000;
      own[i] = (socketMarks.sent - t0 + (t1 - socketMarks.received)) * 1000;
    }
    await conn.stop();
    const at = (a, q) => a.sort()[Math.min(count - 1, Math.floor(q * count))];
    return { p50: at(t, 0.5), p99: at(t, 0.99), ownP50: at(own, 0.5), isolated: crossOriginIsolated };
  }

  /** Memory around `runs` floods of `count` events: baseline, peak, and after each run (GC'd). */
  async function memoryFlood({ client, kind, count, perFrame, runs }) {
    const key = newKey();
    const conn = await clients[client]({ hub: HUB[kind], protocol: 'json', key });
    await settle();
    const out = { baseline: mem(), peak: mem(), after: [], delivered: [] };
    const sample = () => {
      const m = mem();
      out.peak = { heap: Math.max(out.peak.heap, m.heap), wasm: Math.max(out.peak.wasm, m.wasm) };
    };
    let c;
    conn.on(eventName(kind, client), () => c.fn());
    for (let r = 0; r < runs; r++) {
      c = counter(count, Math.max(30_000, count / 5), 10_000, sample);
      await trigger(kind, conn, key, count, perFrame, r + 1);
      await c.finished;
      sample();
      await settle();
      out.after.push(mem());
      out.delivered.push(c.n);
    }
    await conn.stop();
    return out;
  }

  /** Runs `fn(i)` for i < n, `concurrency` at a time. */
  async function pool(n, concurrency, fn) {
    let next = 0;
    const worker = async () => {
      while (next < n) await fn(next++);
    };
    await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  }

  const generate = (client, n, prompt, every, onEvery) => {
    const ids = [];
    return pool(n, 32, async (i) => {
      ids.push(await client.generateImage({ model: 'dall-e-3', prompt }));
      if (i % every === 0) onEvery?.();
    }).then(() => ids);
  };

  /**
   * Memory of a ConduitRealtimeClient tracking `tasks` real tasks (created over HTTP and subscribed while the
   * server holds every timeline), then finishing them (hold released: started, 2 progress, completed each).
   */
  async function memoryTasks({ tasks, runs }) {
    const key = newKey();
    const { client, stop } = await clients.conduit({ protocol: 'json', key });
    await settle();
    const out = { baseline: mem(), peak: mem(), tracked: [], after: [], completed: [] };
    const sample = () => {
      const m = mem();
      out.peak = { heap: Math.max(out.peak.heap, m.heap), wasm: Math.max(out.peak.wasm, m.wasm) };
    };
    const hold = (on) => fetch(`${server}/_dev/hold?on=${on}`, { method: 'POST' });
    try {
      for (let r = 0; r < runs; r++) {
        await hold(1);
        const c = counter(tasks, 120_000, 1000, sample);
        let subscribed = 0;
        const onSubscribed = () => subscribed++;
        client.on('completed', c.fn).on('subscribed', onSubscribed);
        await generate(client, tasks, 'bench ms=2000 steps=2', 200, sample);
        sample();
        out.tracked.push(subscribed); // no getSnapshot(): it would serialize every task (see the scale benchmark)
        await hold(0);
        await c.finished;
        sample();
        client.off('completed').off('subscribed', onSubscribed);
        await settle();
        out.after.push(mem());
        out.completed.push(c.n);
      }
    } finally {
      await hold(0);
    }
    await stop();
    return out;
  }

  const tiers = new Map();

  /** One ConduitRealtimeClient per tier with `n` subscribed, unfinished tasks (they run for an hour). */
  async function scaleSetup({ sizes }) {
    for (const n of sizes) {
      const key = newKey();
      const { client } = await clients.conduit({ protocol: 'json', key });
      const ids = await generate(client, n, 'bench scale ms=3600000 steps=1');
      await sleep(400); // the tasks' `started` events
      const active = client.getSnapshot().tasks.filter((t) => t.subscribed && !['completed', 'failed', 'cancelled'].includes(t.status)).length;
      tiers.set(n, { key, client, ids, active });
    }
    return [...tiers.values()].map((t) => ({ key: t.key, active: t.active }));
  }

  /**
   * ns per progress event, round-robin over the tier's tasks (progress held at 50%, so every event is delivered).
   * `snapshot`: also an onChange listener reading getSnapshot(), as useConduitRealtime's useSyncExternalStore does.
   */
  async function scaleRun({ size, count, perFrame, snapshot = false }) {
    const { key, client, ids } = tiers.get(size);
    const c = counter(count, Math.max(60_000, count / 5));
    client.on('progress', c.fn);
    const unsubscribe = snapshot ? client.onChange(() => client.getSnapshot()) : () => {};
    await settle();
    if (snapshot) client.getSnapshot(); // catch up with what the setup changed: measure the steady state
    const t0 = performance.now();
    await devFlood(key, { count, perFrame, pct: 50 }, ids);
    const t1 = await c.finished;
    await sleep(20);
    client.off('progress', c.fn);
    unsubscribe();
    return { delivered: c.n, nsPerEvent: ((t1 - t0) * 1e6) / count };
  }

  return { throughput, latency, memoryFlood, memoryTasks, scaleSetup, scaleRun };
}
