// Closing and reconnecting with the official client: Close with/without allowReconnect,
// /_dev/drop on every transport, stateful reconnect with no loss or duplicates, keep-alive,
// timeouts, silence, and a clean shutdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer, connect, stopAll, newKey, counters, dev, waitFor, sleep, signalR } from './helpers.mjs';

let server;
let fast; // short keep-alive and client timeout
before(async () => {
  [server, fast] = await Promise.all([
    startServer(['--quiet']),
    startServer(['--quiet', '--keepalive-ms', '100', '--client-timeout-ms', '1500']),
  ]);
});
after(async () => {
  await stopAll();
  await Promise.all([server?.stop(), fast?.stop()]);
});

const range = (n) => [...Array(n).keys()];

for (const transport of ['WebSockets', 'ServerSentEvents', 'LongPolling']) {
  test(`${transport}: Close with allowReconnect starts the automatic reconnect (new connection id)`, async () => {
    const key = newKey('ar');
    const c = await connect(`${server.url}/hubs/test`, { transport, token: key, reconnect: [0, 100, 300] });
    const oldId = c.connectionId;
    const reconnecting = new Promise((r) => c.onreconnecting(r));
    const reconnected = new Promise((r) => c.onreconnected(r));
    const r = await dev(server, 'POST', '/_dev/close', { key, allowReconnect: true, error: 'maintenance' });
    assert.equal(r.closed, 1);
    assert.match(String((await reconnecting)?.message), /maintenance/);
    const newId = await reconnected;
    assert.ok(newId && newId !== oldId, 'a new connection id after reconnecting');
    assert.equal(c.state, signalR.HubConnectionState.Connected);
    assert.equal(await c.invoke('Echo', 'back'), 'back');
    await c.stop();
  });

  test(`${transport}: /_dev/drop is followed by the automatic reconnect`, async () => {
    const key = newKey('drop');
    const c = await connect(`${server.url}/hubs/test`, { transport, token: key, reconnect: [0, 100, 300] });
    await c.invoke('JoinGroup', 'before-drop');
    const reconnecting = new Promise((r) => c.onreconnecting(r));
    const reconnected = new Promise((r) => c.onreconnected(r));
    const r = await dev(server, 'POST', '/_dev/drop', { key });
    assert.equal(r.dropped, 1);
    await reconnecting;
    await reconnected;
    assert.equal(await c.invoke('Add', 20, 22), 42);
    // A new connection: the old one's groups are gone (clients must re-join / re-subscribe).
    const list = await dev(server, 'GET', '/_dev/connections', { key });
    assert.equal(list.connections.length, 1);
    assert.deepEqual(list.connections[0].groups, []);
    assert.equal((await counters(server, key)).connections.opened, 2);
    await c.stop();
  });
}

test('Close without allowReconnect closes for good (CloseMe and /_dev/close)', async () => {
  for (const msgpack of [false, true]) {
    const c = await connect(`${server.url}/hubs/test`, { transport: 'WebSockets', msgpack, reconnect: [0, 100] });
    let reconnecting = false;
    c.onreconnecting(() => (reconnecting = true));
    const closed = new Promise((r) => c.onclose(r));
    await c.send('CloseMe', 'go away', false);
    const err = await closed;
    assert.match(String(err?.message), /go away/);
    assert.equal(c.state, signalR.HubConnectionState.Disconnected);
    await sleep(150);
    assert.equal(reconnecting, false);
  }
  const key = newKey('close');
  const c = await connect(`${server.url}/hubs/test`, { transport: 'LongPolling', token: key, reconnect: [0, 100] });
  let reconnecting = false;
  c.onreconnecting(() => (reconnecting = true));
  const closed = new Promise((r) => c.onclose(r));
  await dev(server, 'POST', '/_dev/close', { key });
  assert.equal(await closed, undefined, 'a Close without error closes without error');
  await sleep(150);
  assert.equal(reconnecting, false);
});

test('stateful reconnect: a forced drop mid-flow loses and duplicates nothing', async () => {
  for (const msgpack of [false, true]) {
    const key = newKey('sr');
    const c = await connect(`${server.url}/hubs/test?stateful=1`, {
      transport: 'WebSockets',
      msgpack,
      stateful: true,
      token: key,
      reconnect: [0, 100],
    });
    const info = await dev(server, 'GET', '/_dev/connections', { key });
    assert.equal(info.connections[0].stateful, true);
    let reconnecting = 0;
    c.onreconnecting(() => reconnecting++);
    const got = [];
    c.on('n', (i) => got.push(i));
    const items = [];
    const streamDone = new Promise((resolve, reject) =>
      c.stream('Counter', 120, 4).subscribe({ next: (i) => items.push(i), complete: resolve, error: reject }));
    const sent = c.invoke('SendNumbered', 'n', 400, 2);
    await waitFor(() => got.length >= 80, '80 numbered messages');
    assert.equal((await dev(server, 'POST', '/_dev/drop', { key })).dropped, 1);
    // Sends during the gap are buffered by the client and resent.
    const echoes = Promise.all(range(10).map((i) => c.invoke('Echo', `gap-${i}`)));
    assert.equal(await sent, 400);
    await streamDone;
    assert.deepEqual(await echoes, range(10).map((i) => `gap-${i}`));
    assert.deepEqual(got, range(400), 'every numbered message once, in order');
    assert.deepEqual(items, range(120), 'every stream item once, in order');
    assert.equal(reconnecting, 0, 'stateful reconnect is invisible to the application');
    const k = await counters(server, key);
    assert.equal(k.connections.opened, 1, 'the same connection resumed');
    assert.ok(k.sequenceMessages >= 1, 'the client sent Sequence after resuming');
    assert.equal(k.invocations.Echo, 10, 'no duplicated invocation was processed');
    await waitFor(async () => (await counters(server, key)).acksReceived >= 1, 'client Acks', 4000);
    await c.stop();
  }
});

test('without stateful reconnect a drop loses the in-flight messages (control case)', async () => {
  const key = newKey('nsr');
  const c = await connect(`${server.url}/hubs/test`, { transport: 'WebSockets', token: key, reconnect: [0, 100] });
  const got = [];
  c.on('n', (i) => got.push(i));
  const reconnected = new Promise((r) => c.onreconnected(r));
  c.invoke('SendNumbered', 'n', 200, 2).catch(() => {});
  await waitFor(() => got.length >= 20, '20 messages');
  await dev(server, 'POST', '/_dev/drop', { key });
  await reconnected;
  await sleep(200);
  assert.ok(got.length < 200);
  await c.stop();
});

test('server pings on the keep-alive interval; a silent client is timed out with a Close', async () => {
  const ws = new WebSocket(fast.url.replace('http', 'ws') + '/hubs/test');
  await new Promise((r) => ws.on('open', r));
  const records = [];
  const closed = new Promise((r) => ws.on('close', r));
  ws.on('message', (d) => records.push(...d.toString().split('\x1e').filter(Boolean)));
  ws.send('{"protocol":"json","version":1}\x1e');
  await closed;
  assert.equal(records[0], '{}');
  const pings = records.filter((r) => r === '{"type":6}').length;
  assert.ok(pings >= 5, `pings: ${pings}`);
  const close = JSON.parse(records.at(-1));
  assert.equal(close.type, 7);
  assert.match(close.error, /Server timeout elapsed/);
});

test('/_dev/silence makes the official client time out and reconnect', async () => {
  const key = newKey('silence');
  const c = await connect(`${fast.url}/hubs/test`, {
    transport: 'WebSockets',
    token: key,
    reconnect: [0, 100],
    serverTimeout: 800,
    keepAlive: 200,
  });
  await sleep(1000); // healthy: pings keep it alive
  assert.equal(c.state, signalR.HubConnectionState.Connected);
  const reconnecting = new Promise((r) => c.onreconnecting(r));
  const reconnected = new Promise((r) => c.onreconnected(r));
  await dev(fast, 'POST', '/_dev/silence', { key, on: true });
  assert.match(String((await reconnecting)?.message), /Server timeout/);
  await reconnected;
  assert.equal(await c.invoke('Echo', 'alive'), 'alive');
  await c.stop();
});

test('SIGTERM: clients get Close with allowReconnect and the process exits cleanly', async () => {
  const own = await startServer(['--quiet']);
  const c = await connect(`${own.url}/hubs/test`, { transport: 'WebSockets', reconnect: [50, 50] });
  const reconnecting = new Promise((r) => c.onreconnecting(r));
  const closed = new Promise((r) => c.onclose(r));
  const t0 = Date.now();
  own.proc.kill('SIGTERM');
  const exit = await own.exited;
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 2000, 'exits quickly');
  assert.match(String((await reconnecting)?.message), /shutting down/);
  await closed; // reconnect attempts fail: the server is gone
});
