// Every transport x protocol combination with the official client: invoke, send, streams both
// ways (with cancel), client results, groups; negotiate v0/v1, skipNegotiation, auth tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, connect, build, stopAll, newKey, mask, counters, waitFor, nextEvent, signalR, sleep } from './helpers.mjs';

let server;
before(async () => {
  server = await startServer(['--quiet']);
});
after(async () => {
  await stopAll();
  await server?.stop();
});

const COMBOS = [
  { transport: 'WebSockets', msgpack: false },
  { transport: 'WebSockets', msgpack: true },
  { transport: 'ServerSentEvents', msgpack: false },
  { transport: 'LongPolling', msgpack: false },
  { transport: 'LongPolling', msgpack: true },
];

for (const combo of COMBOS) {
  const name = `${combo.transport} + ${combo.msgpack ? 'MessagePack' : 'JSON'}`;
  test(`${name}: invoke, send, streams, cancel, client results, groups`, async () => {
    const key = newKey('tr');
    const hub = `${server.url}/hubs/test`;
    const c = await connect(hub, { ...combo, token: key });
    assert.equal(c.state, signalR.HubConnectionState.Connected);
    assert.ok(c.connectionId, 'negotiated connections have an id');

    // invoke: values survive the round trip
    const value = { text: 'héllo ✓', n: 42, neg: -7, f: 1.5, list: [1, 'two', null, true], nested: { a: { b: [] } } };
    assert.deepEqual(await c.invoke('Echo', value), value);
    assert.equal(await c.invoke('echo', 'case-insensitive'), 'case-insensitive');
    assert.equal(await c.invoke('Add', 2, 3), 5);
    assert.equal(await c.invoke('Add', 1.5, 2), 3.5);
    assert.equal(await c.invoke('Void'), combo.msgpack ? undefined : undefined);
    assert.equal(await c.invoke('GetConnectionId'), c.connectionId);
    assert.equal(await c.invoke('Delay', 30, 'late'), 'late');
    await assert.rejects(c.invoke('Throw', 'boom'), /HubException: boom/);
    await assert.rejects(c.invoke('NoSuchMethod'), /Method does not exist/);
    await assert.rejects(c.invoke('Add', 1), /expects 2/);

    // send (non-blocking) -> the server pushes to the caller
    const pushed = nextEvent(c, 'pushed');
    await c.send('SendToCaller', 'pushed', [1, 'a', { b: 2 }]);
    assert.deepEqual(await pushed, [1, 'a', { b: 2 }]);

    // server-to-client stream
    const items = [];
    await new Promise((resolve, reject) =>
      c.stream('Counter', 5, 2).subscribe({ next: (i) => items.push(i), complete: resolve, error: reject }));
    assert.deepEqual(items, [0, 1, 2, 3, 4]);

    // stream cancel: the server stops and records it
    const got = [];
    const sub = c.stream('Counter', 1000, 15).subscribe({ next: (i) => got.push(i), complete: () => {}, error: () => {} });
    await waitFor(() => got.length >= 3, 'three stream items');
    sub.dispose();
    await waitFor(async () => (await counters(server, key)).streamCancels >= 1, 'streamCancels');
    const n = got.length;
    await sleep(80);
    assert.ok(got.length <= n + 1, 'items stop after cancel');

    // client-to-server stream
    const subject = new signalR.Subject();
    const collected = c.invoke('Collect', subject);
    for (const x of [1, 'two', { three: 3 }]) subject.next(x);
    subject.complete();
    assert.deepEqual(await collected, [1, 'two', { three: 3 }]);

    // client results
    c.on('double', (x) => x * 2);
    c.on('fails', () => {
      throw new Error('nope');
    });
    c.on('asyncOne', async (x) => {
      await sleep(5);
      return { got: x };
    });
    assert.deepEqual(await c.invoke('InvokeClient', 'double', [21]), { result: 42 });
    assert.deepEqual(await c.invoke('InvokeClient', 'asyncOne', ['x']), { result: { got: 'x' } });
    assert.match((await c.invoke('InvokeClient', 'fails', [])).error, /nope/);
    assert.match((await c.invoke('InvokeClient', 'missingHandler', [])).error, /didn't provide a result/);

    // groups: only members get the push
    const c2 = await connect(hub, { ...combo, token: key });
    const c3 = await connect(hub, { ...combo, token: key });
    const group = `g-${Math.random()}`;
    await c.invoke('JoinGroup', group);
    await c2.invoke('JoinGroup', group);
    const seen = { c: [], c2: [], c3: [] };
    c.on('grp', (x) => seen.c.push(x));
    c2.on('grp', (x) => seen.c2.push(x));
    c3.on('grp', (x) => seen.c3.push(x));
    await c3.invoke('SendToGroup', group, 'grp', ['one']);
    await waitFor(() => seen.c.length === 1 && seen.c2.length === 1, 'group push');
    await c2.invoke('LeaveGroup', group);
    await c3.invoke('SendToGroup', group, 'grp', ['two']);
    await waitFor(() => seen.c.length === 2, 'second group push');
    await sleep(50);
    assert.deepEqual(seen, { c: ['one', 'two'], c2: ['one'], c3: [] });

    // the access token of accessTokenFactory arrived
    const k = await counters(server, key);
    assert.ok(k.tokensSeen.includes(mask(key)), 'token recorded (masked)');
    assert.ok(!JSON.stringify(k).includes(key), 'never the full key');
    assert.ok(k.negotiations >= 3);
    const t = { WebSockets: 'webSockets', ServerSentEvents: 'serverSentEvents', LongPolling: 'longPolling' }[combo.transport];
    assert.equal(k.connections.byTransport[t], 3);
    assert.equal(k.invocations.Echo, 1);

    await Promise.all([c.stop(), c2.stop(), c3.stop()]);
    await waitFor(async () => (await counters(server, key)).connections.open === 0, 'connections closed');
  });
}

test('broadcast reaches every connection of the hub', async () => {
  const hub = `${server.url}/hubs/test`;
  const a = await connect(hub, { transport: 'WebSockets' });
  const b = await connect(hub, { transport: 'LongPolling', msgpack: true });
  const pa = nextEvent(a, 'all');
  const pb = nextEvent(b, 'all');
  await a.invoke('Broadcast', 'all', ['hello', 2]);
  assert.deepEqual(await pa, ['hello', 2]);
  assert.deepEqual(await pb, ['hello', 2]);
  await Promise.all([a.stop(), b.stop()]);
});

test('skipNegotiation over WebSockets (JSON and MessagePack)', async () => {
  for (const msgpack of [false, true]) {
    const key = newKey('skip');
    const c = await connect(`${server.url}/hubs/test`, { transport: 'WebSockets', skipNegotiation: true, msgpack, token: key });
    assert.equal(c.connectionId, null);
    assert.equal(await c.invoke('Echo', 'skip'), 'skip');
    const k = await counters(server, key);
    assert.equal(k.negotiations, 0);
    assert.equal(k.connections.byTransport.webSockets, 1);
    assert.ok(k.tokensSeen.includes(mask(key)));
    await c.stop();
  }
});

test('negotiate answers: v0 without connectionToken, v1 with it, stateful only when allowed', async () => {
  const post = async (q) => (await fetch(`${server.url}/hubs/test/negotiate?${q}`, { method: 'POST' })).json();
  const v0 = await post('negotiateVersion=0');
  assert.equal(typeof v0.connectionId, 'string');
  assert.equal(v0.connectionToken, undefined);
  assert.deepEqual(v0.availableTransports.map((t) => t.transport), ['WebSockets', 'ServerSentEvents', 'LongPolling']);
  const v1 = await post('negotiateVersion=1');
  assert.equal(v1.negotiateVersion, 1);
  assert.equal(typeof v1.connectionToken, 'string');
  assert.notEqual(v1.connectionToken, v1.connectionId);
  assert.deepEqual(v1.availableTransports, [
    { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
    { transport: 'ServerSentEvents', transferFormats: ['Text'] },
    { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
  ]);
  assert.equal((await post('negotiateVersion=1&useStatefulReconnect=true')).useStatefulReconnect, undefined);
  assert.equal((await post('negotiateVersion=1&useStatefulReconnect=true&stateful=1')).useStatefulReconnect, true);
  assert.equal((await post('negotiateVersion=1&stateful=1')).useStatefulReconnect, undefined);
  const missing = await fetch(`${server.url}/hubs/nope/negotiate?negotiateVersion=1`, { method: 'POST' });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'not_found');
});

test('a v0 negotiation works end to end (connectionId used as id)', async () => {
  for (const transport of ['WebSockets', 'LongPolling']) {
    const c = await connect(`${server.url}/hubs/test?negotiateVersion=0`, { transport });
    assert.equal(await c.invoke('GetConnectionId'), c.connectionId);
    await c.stop();
  }
});

test('raw WebSocket rules: unknown id 404, second socket for one id 409', async () => {
  const neg = await (await fetch(`${server.url}/hubs/test/negotiate?negotiateVersion=1`, { method: 'POST' })).json();
  const wsUrl = server.url.replace('http', 'ws') + '/hubs/test';
  const status = (url) =>
    new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on('open', () => resolve({ ws, status: 101 }));
      ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
      ws.on('error', () => {});
    });
  assert.equal((await status(`${wsUrl}?id=unknown`)).status, 404);
  const first = await status(`${wsUrl}?id=${neg.connectionToken}`);
  assert.equal(first.status, 101);
  assert.equal((await status(`${wsUrl}?id=${neg.connectionToken}`)).status, 409);
  first.ws.close();
  // Long polling with an unknown id, and without one.
  assert.equal((await fetch(`${server.url}/hubs/test?id=nope&_=1`)).status, 404);
  assert.equal((await fetch(`${server.url}/hubs/test`)).status, 400);
});

test('handshake errors: unknown protocol and MessagePack over SSE are refused', async () => {
  const wsUrl = server.url.replace('http', 'ws') + '/hubs/test';
  const ws = new WebSocket(wsUrl);
  await new Promise((r) => ws.on('open', r));
  const answer = new Promise((r) => ws.once('message', (d) => r(d.toString())));
  ws.send('{"protocol":"xml","version":1}\x1e');
  assert.equal(await answer, '{"error":"The protocol \'xml\' is not supported."}\x1e');
  await new Promise((r) => ws.on('close', r));
  const sse = build(`${server.url}/hubs/test`, { transport: 'ServerSentEvents', msgpack: true });
  await assert.rejects(sse.start());
});

test('Conduit hubs refuse connections without a valid key (401)', async () => {
  for (const hub of ['image-generation', 'video-generation', 'tasks']) {
    await assert.rejects(build(`${server.url}/hubs/${hub}`).start(), /401/);
    await assert.rejects(build(`${server.url}/hubs/${hub}`, { token: 'not-a-key' }).start(), /401/);
    await assert.rejects(build(`${server.url}/hubs/${hub}`, { transport: 'WebSockets', skipNegotiation: true }).start());
    const c = await connect(`${server.url}/hubs/${hub}`, { token: newKey('auth') });
    await c.stop();
  }
  const r = await fetch(`${server.url}/hubs/image-generation/negotiate?negotiateVersion=1`, { method: 'POST' });
  assert.equal(r.status, 401);
  assert.deepEqual(Object.keys((await r.json()).error).sort(), ['code', 'message', 'type']);
});
