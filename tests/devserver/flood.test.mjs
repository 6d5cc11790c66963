// Flood smoke test: 20k hub messages reach the official client, packed 1 and 50 per frame.
// (The throughput benchmark is devserver/bench/flood.mjs and the Rust example `flood`.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connect, stopAll } from './helpers.mjs';

let server;
before(async () => {
  server = await startServer(['--quiet']);
});
after(async () => {
  await stopAll();
  await server?.stop();
});

const COUNT = 20_000;
for (const msgpack of [false, true]) {
  for (const transport of ['WebSockets', 'LongPolling']) {
    for (const perFrame of [1, 50]) {
      if (transport === 'LongPolling' && perFrame === 1 && msgpack) continue;
      test(`Flood ${COUNT} over ${transport} ${msgpack ? 'MessagePack' : 'JSON'}, ${perFrame} per frame: all arrive`, async () => {
        const c = await connect(`${server.url}/hubs/test`, { transport, msgpack });
        let n = 0;
        let bad = 0;
        c.on('f', (p) => {
          n++;
          if (p.i !== 7) bad++;
        });
        const sent = await c.invoke('Flood', COUNT, perFrame, 'f', { i: 7, s: 'payload' });
        assert.equal(sent, COUNT);
        assert.equal(n, COUNT, 'every message arrived before the completion');
        assert.equal(bad, 0);
        await c.stop();
      });
    }
  }
}
