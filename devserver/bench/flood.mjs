// Flood benchmark: how many hub messages per second the dev server pushes to ONE WebSocket
// client on loopback, 1 and 50 records per frame, JSON and MessagePack.
//
//   node devserver/bench/flood.mjs [--url http://127.0.0.1:5000] [--count 2000000] [--official]
//
// Without --url it starts target/release/conduit-devserver on an ephemeral port. The consumer
// is a raw `ws` client that counts records (0x1E separators / VarInt prefixes) without decoding
// them, so it measures the server and the socket; --official also measures the official
// @microsoft/signalr client decoding every message (the client is then the bottleneck).
import WebSocket from 'ws';
import { startServer, connect, stopAll } from '../../tests/devserver/helpers.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const COUNT = Number(opt('--count', '2000000'));
let server;
let base = opt('--url');
if (!base) {
  server = await startServer(['--quiet']);
  base = server.url;
}

function countMsgpack(buf, state) {
  let i = 0;
  while (i < buf.length) {
    let len = 0;
    let shift = 0;
    let b;
    do {
      b = buf[i++];
      len |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    const kind = buf[i + 1];
    if (kind === 1) state.flood++;
    else if (kind === 3) state.done = true;
    i += len;
  }
}

// ws 7 (the official client's dependency) delivers text frames as strings.
function countJson(text, state) {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\x1e', start);
    if (end < 0) break;
    // records start with {"type":N
    const kind = text.charCodeAt(start + 8);
    if (kind === 0x31) state.flood++;
    else if (kind === 0x33) state.done = true;
    start = end + 1;
  }
}

async function raw(perFrame, msgpack) {
  const ws = new WebSocket(base.replace('http', 'ws') + '/hubs/test');
  ws.binaryType = 'nodebuffer';
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  const proto = msgpack ? 'messagepack' : 'json';
  const state = { flood: 0, done: false, frames: 0, handshake: false };
  let t0;
  const finished = new Promise((resolve) => {
    ws.on('message', (data) => {
      if (!state.handshake) {
        state.handshake = true;
        const rs = typeof data === 'string' ? data.indexOf('\x1e') : data.indexOf(0x1e);
        data = data.slice(rs + 1);
        t0 = process.hrtime.bigint();
        const payload = { taskId: 't', progress: 42 };
        if (msgpack) {
          // [1, {}, "1", "Flood", [COUNT, perFrame, "f", payload-as-json-string]]
          const enc = encodeMsgpackInvocation(COUNT, perFrame, JSON.stringify(payload));
          ws.send(enc);
        } else {
          ws.send(JSON.stringify({ type: 1, invocationId: '1', target: 'Flood', arguments: [COUNT, perFrame, 'f', payload] }) + '\x1e');
        }
        if (!data.length) return;
      }
      state.frames++;
      (msgpack ? countMsgpack : countJson)(data, state);
      if (state.done) resolve();
    });
  });
  ws.send(`{"protocol":"${proto}","version":1}\x1e`);
  await finished;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  ws.close();
  if (state.flood !== COUNT) throw new Error(`lost messages: ${state.flood} of ${COUNT}`);
  return { proto, perFrame, rate: COUNT / secs, secs };
}

function encodeMsgpackInvocation(count, perFrame, payloadString) {
  const parts = [0x95, 0x01, 0x80, 0xa1, 0x31, 0xa5, ...Buffer.from('Flood'), 0x94];
  const u32 = (n) => [0xce, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  parts.push(...u32(count), ...u32(perFrame), 0xa1, 0x66);
  const s = Buffer.from(payloadString);
  parts.push(0xd9, s.length, ...s);
  const body = Buffer.from(parts);
  const prefix = [];
  let len = body.length;
  do {
    let b = len & 0x7f;
    len >>= 7;
    if (len) b |= 0x80;
    prefix.push(b);
  } while (len);
  return Buffer.concat([Buffer.from(prefix), body]);
}

async function official(perFrame, msgpack) {
  const c = await connect(`${base}/hubs/test`, { transport: 'WebSockets', skipNegotiation: true, msgpack });
  let n = 0;
  c.on('f', () => n++);
  const count = Math.min(COUNT, 500_000);
  const t0 = process.hrtime.bigint();
  await c.invoke('Flood', count, perFrame, 'f', { taskId: 't', progress: 42 });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.stop();
  if (n !== count) throw new Error(`official client lost messages: ${n} of ${count}`);
  return { proto: msgpack ? 'messagepack' : 'json', perFrame, rate: count / secs, secs };
}

const rows = [];
try {
  for (const perFrame of [50, 1]) {
    for (const msgpack of [false, true]) {
      rows.push({ consumer: 'raw ws', ...(await raw(perFrame, msgpack)) });
    }
  }
  if (args.includes('--official')) {
    for (const perFrame of [50, 1]) {
      for (const msgpack of [false, true]) rows.push({ consumer: 'official client', ...(await official(perFrame, msgpack)) });
    }
  }
} finally {
  await stopAll();
  await server?.stop();
}
for (const r of rows) {
  console.log(`${r.consumer.padEnd(16)} ${r.proto.padEnd(12)} perFrame=${String(r.perFrame).padEnd(3)} ${Math.round(r.rate).toLocaleString('en-US').padStart(12)} msg/s`);
}
const need = { 50: 1_000_000, 1: 200_000 };
const failed = rows.filter((r) => r.consumer === 'raw ws' && r.rate < need[r.perFrame]);
if (failed.length) {
  console.error('below target:', failed);
  process.exit(1);
}
