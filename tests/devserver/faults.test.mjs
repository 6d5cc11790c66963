// The fault-injection API and HTTP basics: failing negotiate / HTTP / WebSocket upgrades, raw
// frames, restart, counters, CORS, static files, unknown routes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, connect, build, stopAll, newKey, api, dev, counters, sleep, signalR } from './helpers.mjs';

let server;
let statics;
let dir;
before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'devserver-static-'));
  mkdirSync(path.join(dir, 'pkg'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(path.join(dir, 'app.mjs'), 'export const x = 1;');
  writeFileSync(path.join(dir, 'pkg', 'm_bg.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  [server, statics] = await Promise.all([
    startServer(['--quiet']),
    startServer(['--quiet', '--static', dir, '--static', `/pkg/=${path.join(dir, 'pkg')}`]),
  ]);
});
after(async () => {
  await stopAll();
  await Promise.all([server?.stop(), statics?.stop()]);
});

test('fail negotiate: start() rejects with the status, then works again', async () => {
  const key = newKey('fneg');
  const r = await dev(server, 'POST', '/_dev/fail', { target: 'negotiate', status: 503, count: 1, key });
  assert.equal(r.ok, true);
  const c = build(`${server.url}/hubs/test`, { token: key });
  await assert.rejects(c.start(), /503/);
  await c.start();
  assert.equal(await c.invoke('Echo', 1), 1);
  await c.stop();
  // Other keys are not affected by a keyed rule.
  await dev(server, 'POST', '/_dev/fail', { target: 'negotiate', status: 500, count: 1, key });
  const other = await connect(`${server.url}/hubs/test`, { token: newKey('other') });
  await other.stop();
  await assert.rejects(build(`${server.url}/hubs/test`, { token: key }).start(), /500/);
});

test('fail with a delay, a hang (status=0 -> 504), a time window and a garbage body', async () => {
  const key = newKey('fdelay');
  await dev(server, 'POST', '/_dev/fail', { target: 'http', status: 0, delayMs: 300, key });
  const t0 = Date.now();
  const hung = await api(server, 'GET', '/v1/tasks/x', key);
  assert.equal(hung.status, 504);
  assert.ok(Date.now() - t0 >= 280);
  await dev(server, 'POST', '/_dev/fail', { target: 'http', status: 502, body: '<html>Bad gateway</html>', forMs: 300, key });
  for (let i = 0; i < 3; i++) {
    const r = await api(server, 'GET', '/v1/tasks/x', key);
    assert.equal(r.status, 502);
    assert.equal(r.text, '<html>Bad gateway</html>');
  }
  await sleep(350);
  assert.equal((await api(server, 'GET', '/v1/tasks/x', key)).status, 404);
  await dev(server, 'POST', '/_dev/fail', { target: 'http', status: 429, key });
  const limited = await api(server, 'GET', '/v1/tasks/x', key);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '1');
});

test('fail ws: the WebSocket upgrade is refused, other transports still work', async () => {
  const key = newKey('fws');
  await dev(server, 'POST', '/_dev/fail', { target: 'ws', status: 403, count: 1, key });
  await assert.rejects(build(`${server.url}/hubs/test`, { token: key, transport: 'WebSockets' }).start());
  await dev(server, 'POST', '/_dev/fail', { target: 'ws', status: 500, count: 1, key });
  const c = await connect(`${server.url}/hubs/test`, { token: key }); // falls back to SSE
  assert.equal(await c.invoke('Echo', 'fallback'), 'fallback');
  await c.stop();
});

test('raw frames: a valid record is delivered, a malformed one closes the client with an error', async () => {
  for (const msgpack of [false, true]) {
    const key = newKey('raw');
    const c = await connect(`${server.url}/hubs/test`, { token: key, transport: 'WebSockets', msgpack });
    const got = new Promise((r) => c.on('rawTarget', r));
    if (msgpack) {
      // [1, {}, nil, "rawTarget", [7]], length-prefixed
      const body = Buffer.from([0x95, 0x01, 0x80, 0xc0, 0xa9, ...Buffer.from('rawTarget'), 0x91, 0x07]);
      await dev(server, 'POST', '/_dev/raw', { key, binary: 1 }, Buffer.concat([Buffer.from([body.length]), body]));
    } else {
      await dev(server, 'POST', '/_dev/raw', { key, binary: 0 }, '{"type":1,"target":"rawTarget","arguments":[7]}\x1e');
    }
    assert.equal(await got, 7);
    const closed = new Promise((r) => c.onclose(r));
    await dev(server, 'POST', '/_dev/raw', { key, binary: msgpack ? 1 : 0 }, msgpack ? Buffer.from([0x03, 0xc1, 0xc1, 0xc1]) : 'this is not json\x1e');
    const err = await closed;
    assert.ok(err instanceof Error, 'closed with an error');
    assert.equal(c.state, signalR.HubConnectionState.Disconnected);
  }
});

test('restart drops connections and forgets tasks', async () => {
  const own = await startServer(['--quiet']);
  try {
    const key = newKey('rst');
    const c = await connect(`${own.url}/hubs/image-generation`, { token: key });
    const t = (await api(own, 'POST', '/v1/images/generations/async', key, { prompt: 'forget me ms=5000' }, own.url)).json;
    const closed = new Promise((r) => c.onclose(r));
    assert.equal((await dev(own, 'POST', '/_dev/restart')).ok, true);
    await closed;
    assert.equal((await api(own, 'GET', `/v1/images/generations/${t.task_id}/status`, key, undefined, own.url)).status, 404);
    assert.equal((await fetch(`${own.url}/generated/${t.task_id}/0.svg`)).status, 404);
  } finally {
    await own.stop();
  }
});

test('counters: shape, per-key isolation, reset; health', async () => {
  assert.deepEqual(await dev(server, 'GET', '/_dev/health'), { ok: true });
  const key = newKey('cnt');
  const c = await connect(`${server.url}/hubs/test`, { token: key, transport: 'LongPolling' });
  await c.invoke('Echo', 1);
  await c.invoke('Echo', 2);
  const k = await counters(server, key);
  for (const f of ['connections', 'negotiations', 'invocations', 'subscriptions', 'unsubscriptions', 'streamCancels', 'tokensSeen', 'httpRequests', 'acksReceived', 'sequenceMessages']) {
    assert.ok(f in k, f);
  }
  assert.deepEqual(Object.keys(k.connections.byTransport).sort(), ['longPolling', 'serverSentEvents', 'webSockets']);
  assert.equal(k.connections.open, 1);
  assert.equal(k.connections.byTransport.longPolling, 1);
  assert.equal(k.invocations.Echo, 2);
  assert.equal((await counters(server, newKey('none'))).negotiations, 0);
  await dev(server, 'POST', '/_dev/counters/reset', { key });
  const after = await counters(server, key);
  assert.equal(after.negotiations, 0);
  assert.deepEqual(after.invocations, {});
  assert.equal(after.connections.open, 1, 'gauges survive a reset');
  const global = await counters(server);
  assert.ok(global.negotiations >= 1);
  await c.stop();
});

test('CORS on everything, preflights 204, unknown routes 404 JSON', async () => {
  const pre = await fetch(`${server.url}/hubs/test/negotiate`, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://127.0.0.1:9999',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, x-custom-thing',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://127.0.0.1:9999');
  assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
  const allowed = pre.headers.get('access-control-allow-headers').toLowerCase();
  for (const h of ['authorization', 'content-type', 'x-requested-with', 'x-signalr-user-agent', 'x-api-key', 'x-custom-thing']) {
    assert.ok(allowed.includes(h), h);
  }
  const get = await fetch(`${server.url}/_dev/health`, { headers: { Origin: 'http://localhost:3000' } });
  assert.equal(get.headers.get('access-control-allow-origin'), 'http://localhost:3000');
  assert.equal(get.headers.get('cross-origin-resource-policy'), 'cross-origin');
  assert.match(get.headers.get('access-control-expose-headers'), /Retry-After/);
  const noOrigin = await fetch(`${server.url}/nothing/here`);
  assert.equal(noOrigin.headers.get('access-control-allow-origin'), '*');
  assert.equal(noOrigin.status, 404);
  assert.equal((await noOrigin.json()).error.code, 'not_found');
  assert.equal((await fetch(`${server.url}/_dev/nope`, { method: 'POST' })).status, 404);
});

test('static files with MIME types; path traversal refused', async () => {
  const index = await fetch(`${statics.url}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /text\/html/);
  const mjs = await fetch(`${statics.url}/app.mjs`);
  assert.match(mjs.headers.get('content-type'), /text\/javascript/);
  const wasm = await fetch(`${statics.url}/pkg/m_bg.wasm`);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await wasm.arrayBuffer()).byteLength, 8);
  assert.equal((await fetch(`${statics.url}/pkg/%2e%2e/%2e%2e/etc/passwd`)).status, 404);
  assert.equal((await fetch(`${statics.url}/missing.js`)).status, 404);
});
