// Shared helpers of the dev-server suite: start the release binary on an ephemeral port,
// talk to its /_dev API, build official-client connections, wait for things.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';

export { signalR, MessagePackHubProtocol };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'target', 'release', process.platform === 'win32' ? 'conduit-devserver.exe' : 'conduit-devserver');

let built = false;
/** Builds the release binary once per process unless DEVSERVER_BIN points at one. */
export function ensureBinary() {
  if (process.env.DEVSERVER_BIN) return process.env.DEVSERVER_BIN;
  if (!built && !process.env.DEVSERVER_SKIP_BUILD) {
    const r = spawnSync('cargo', ['build', '--release', '-p', 'conduit-devserver'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('cargo build --release -p conduit-devserver failed');
    built = true;
  }
  if (!existsSync(BIN)) throw new Error(`missing ${BIN}`);
  return BIN;
}

/** Starts a server; resolves with { url, port, proc, logs, stop() }. */
export async function startServer(args = []) {
  const bin = ensureBinary();
  // stdin stays open as a pipe: when this process dies (even by SIGKILL) the server sees EOF and stops.
  const proc = spawn(bin, ['--port', '0', '--exit-on-stdin-eof', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const logs = [];
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    logs.push(d);
    if (logs.length > 200) logs.shift();
  });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start: ' + logs.join(''))), 15000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/^conduit-devserver listening on (http:\/\/\S+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => reject(new Error(`server exited early (${code}): ${logs.join('')}`)));
  });
  const server = {
    url,
    port: Number(new URL(url).port),
    proc,
    logs,
    exited: new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal }))),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await server.exited;
      clearTimeout(t);
    },
  };
  return server;
}

/** A fresh well-formed virtual key, unique per test (isolates counters and fault rules). */
export function newKey(tag = 'test') {
  return `condt_${tag}_${randomBytes(6).toString('hex')}`;
}

/** The server's own masking of a secret (condt_ab…yz). */
export function mask(secret) {
  const c = [...secret];
  if (c.length <= 6) return '…';
  if (c.length <= 12) return c.slice(0, 3).join('') + '…';
  return c.slice(0, 8).join('') + '…' + c.slice(-2).join('');
}

/** Calls the /_dev API: dev(server, 'POST', '/_dev/drop', { key }) -> parsed JSON. */
export async function dev(server, method, p, query = {}, body) {
  const u = new URL(server.url + p);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
  const r = await fetch(u, { method, body });
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    return { status: r.status, text };
  }
}

export const counters = (server, key) => dev(server, 'GET', '/_dev/counters', { key });

/** Conduit HTTP API call with a virtual key. */
export async function api(server, method, p, key, body, base = server.url) {
  const headers = {};
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

export const TRANSPORTS = {
  WebSockets: signalR.HttpTransportType.WebSockets,
  ServerSentEvents: signalR.HttpTransportType.ServerSentEvents,
  LongPolling: signalR.HttpTransportType.LongPolling,
};

/**
 * Builds (not starts) an official-client connection.
 * opts: { transport, msgpack, token, skipNegotiation, reconnect (array|policy|true), stateful, serverTimeout, keepAlive }
 */
export function build(url, opts = {}) {
  const httpOpts = {};
  if (opts.transport) httpOpts.transport = TRANSPORTS[opts.transport] ?? opts.transport;
  if (opts.skipNegotiation) httpOpts.skipNegotiation = true;
  if (opts.token !== undefined) httpOpts.accessTokenFactory = typeof opts.token === 'function' ? opts.token : () => opts.token;
  const b = new signalR.HubConnectionBuilder().withUrl(url, httpOpts).configureLogging(signalR.LogLevel.None);
  if (opts.msgpack) b.withHubProtocol(new MessagePackHubProtocol());
  if (opts.reconnect) b.withAutomaticReconnect(opts.reconnect === true ? [0, 200, 500, 1000] : opts.reconnect);
  if (opts.stateful) b.withStatefulReconnect();
  if (opts.serverTimeout) b.withServerTimeout(opts.serverTimeout);
  if (opts.keepAlive) b.withKeepAliveInterval(opts.keepAlive);
  return b.build();
}

/** Builds and starts; registers the connection for `stopAll`. */
const open = new Set();
export async function connect(url, opts = {}) {
  const c = build(url, opts);
  open.add(c);
  await c.start();
  return c;
}

export async function stopAll() {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((c) => c.stop().catch(() => {})));
}

/** Waits until `fn()` is truthy (polling), or throws with `what`. */
export async function waitFor(fn, what = 'condition', timeout = 5000, every = 20) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the arguments of the next call of `target` on `conn`. */
export function nextEvent(conn, target, timeout = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      conn.off(target, h);
      reject(new Error(`no ${target} within ${timeout} ms`));
    }, timeout);
    const h = (...args) => {
      clearTimeout(t);
      conn.off(target, h);
      resolve(args);
    };
    conn.on(target, h);
  });
}

/** Records every call of the given targets: returns { events: [{target, args}], of(target) }. */
export function record(conn, targets) {
  const events = [];
  for (const t of targets) conn.on(t, (...args) => events.push({ target: t, args }));
  return { events, of: (t) => events.filter((e) => e.target === t).map((e) => e.args) };
}
