// The results as Markdown tables (printed as they are) and BENCHMARKS.md, keeping its hand-written notes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const NOTES = `<!-- notes -->
_Hand-written: what changed since the last run and what it bought. \`scripts/bench.sh\` keeps this section when it rewrites the file._
<!-- /notes -->`;

const LABEL = {
  raw: 'raw WebSocket',
  ours: 'HubConnection',
  hinted: 'HubConnection, with resource hints',
  conduit: 'ConduitRealtimeClient',
  official: '@microsoft/signalr',
};
const PAYLOAD = { flood: 'Flood (small object)', conduit: 'Conduit progress (deployed shape)' };

const int = (x) => Math.round(x).toLocaleString('en-US');
const fixed = (d) => (x) => x.toFixed(d);
const mb = (x) => (x / 1048576).toFixed(2);
const kb = (x) => `${(x / 1024).toFixed(1)} KiB`;
const spread = (s) => `±${(s.spread * 100).toFixed(s.spread < 0.1 ? 1 : 0)}%`;
const cell = (s, f = int) => (Number.isFinite(s?.median) ? `${f(s.median)} ${spread(s)}` : '—');
const times = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');

function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

function throughputTable(rows) {
  const find = (q) => rows.find((r) => Object.entries(q).every(([k, v]) => r[k] === v));
  const groups = [...new Set(rows.map((r) => JSON.stringify({ kind: r.kind, protocol: r.protocol, perFrame: r.perFrame })))].map((g) => JSON.parse(g));
  return table(
    ['payload', 'protocol', 'per frame', 'events', LABEL.raw, LABEL.ours, LABEL.conduit, LABEL.official, 'ours ÷ official'],
    groups.map((g) => {
      const raw = find({ kind: g.kind, protocol: 'json', perFrame: g.perFrame, client: 'raw' });
      const at = (client) => find({ ...g, client });
      const value = (client) => {
        const r = at(client);
        if (!r) return '—';
        return client === 'raw' ? cell(r.rate) : `${cell(r.rate)} (${times(r.rate.median, raw?.rate.median)})`;
      };
      const official = at('official')?.rate.median;
      const vs = ['ours', 'conduit'].filter(at).map((c) => `${LABEL[c]} ${times(at(c).rate.median, official)}`);
      const events = rows.find((r) => r.kind === g.kind && r.perFrame === g.perFrame).count;
      return [PAYLOAD[g.kind], g.protocol, g.perFrame, int(events), value('raw'), value('ours'), value('conduit'), value('official'), vs.join(', ')];
    }),
  );
}

function latencyTable(rows) {
  const raw = rows.find((r) => r.client === 'raw');
  return table(
    ['client', 'protocol', 'invokes', 'p50 (µs)', 'p99 (µs)', 'p50 ÷ raw', 'p99 ÷ raw', "client's own p50 (µs)", 'own − raw own (µs)'],
    rows.map((r) => [
      LABEL[r.client], r.protocol, int(r.count), cell(r.p50), cell(r.p99), times(r.p50.median, raw.p50.median),
      times(r.p99.median, raw.p99.median), cell(r.own), int(r.own.median - raw.own.median),
    ]),
  );
}

function coldTable(rows) {
  const raw = rows.find((r) => r.client === 'raw');
  return table(
    ['client', 'library ready (ms)', 'connected (ms)', 'connected ÷ raw'],
    rows.map((r) => [LABEL[r.client], cell(r.ready, fixed(1)), cell(r.connected, fixed(1)), times(r.connected.median, raw.connected.median)]),
  );
}

function memoryTable(rows) {
  const arrow = (p) => ['baseline', 'peak', 'after1', 'after2'].map((k) => mb(p[k].median)).join(' → ');
  return table(
    ['work', 'client', 'JS heap MiB: baseline → peak → after → after 2nd run', 'wasm memory MiB: baseline → peak → after → after 2nd run'],
    rows.map((r) => [r.work, LABEL[r.client], arrow(r.heap), r.client === 'official' ? '—' : arrow(r.wasm)]),
  );
}

function scaleTable(rows) {
  return table(
    ['listeners', 'active tasks', 'events', 'ns/event', 'events/s', 'vs fewest tasks'],
    rows.map((r) => {
      const base = rows.find((b) => b.variant === r.variant).ns.median;
      return [`\`${r.variant}\``, int(r.size), int(r.events), cell(r.ns), int(1e9 / r.ns.median), times(r.ns.median, base)];
    }),
  );
}

function sizeTable(rows) {
  const by = Object.fromEntries(rows.map((r) => [r.set, r]));
  const ratio = (a, b) => [`**${a} ÷ ${b}**`, '', ...['raw', 'gzip', 'brotli'].map((k) => times(by[a][k], by[b][k]))];
  return table(
    ['bundle', 'files', 'raw', 'gzip -9', 'brotli'],
    [
      ...rows.flatMap((r) => [
        ...r.files.map((f) => ['', f.file.split('/').pop(), kb(f.raw), kb(f.gzip), kb(f.brotli)]),
        [`**${r.set}**`, 'total', kb(r.raw), kb(r.gzip), kb(r.brotli)],
      ]),
      ratio('ours', 'official'),
      ratio('ours', 'official + msgpack'),
    ],
  );
}

/** Every table, in order, as Markdown sections. */
export function tables(results) {
  const parts = [];
  const add = (title, what, md) => md && parts.push(`## ${title}\n\n${what}\n\n${md}`);
  if (results.throughput) add('Throughput', 'Events/s delivered to a JS handler (ratio to the raw WebSocket loop in parentheses; MessagePack rows use the raw JSON loop as their ceiling).', throughputTable(results.throughput));
  if (results.latency) add('Invoke round trip', 'Sequential `invoke("Echo", {...})` on the test hub, after a warm-up. "Own" is the client\'s part of a round trip: from `invoke()` to the socket\'s `send()`, and from the socket\'s message event to the code awaiting the result; the rest, the network and the server, is the same for every client and carries most of the spread.', latencyTable(results.latency));
  if (results.coldStart) add('Cold start', '`performance.now()` from navigation start, in a new browser context per sample (nothing cached).', coldTable(results.coldStart));
  if (results.memory) add('Memory', '`performance.memory.usedJSHeapSize` after `gc()` (the peak is sampled during the work, without a GC) and wasm `memory.buffer.byteLength`.', memoryTable(results.memory));
  if (results.scale) add('Scale', 'ConduitRealtimeClient progress events spread round-robin over N subscribed, unfinished tasks; second half: plus an `onChange` listener that reads `getSnapshot()`, as `useConduitRealtime` (`useSyncExternalStore`) does.', scaleTable(results.scale));
  if (results.size) add('Size', 'Files as shipped; gzip level 9 and brotli quality 11 (node zlib).', sizeTable(results.size));
  return parts.join('\n\n');
}

function method(cfg, meta) {
  const c = cfg.throughput.count;
  return `## Method

- One headless Chromium (${meta.chromium}, Debian's \`/usr/bin/chromium\` through playwright-core) with \`--js-flags=--expose-gc --enable-precise-memory-info\`;
  the dev server (\`devserver/\`, release build) on loopback; pages served cross-origin isolated (COOP/COEP) by \`bench/serve.mjs\`, so
  \`performance.now()\` ticks in 5 µs.
- Every timing is the median of ${cfg.rounds} rounds; within a round the clients run one after the other in an order that rotates each
  round, to cancel drift. ± is half the min–max range over the rounds, as a share of the median.${cfg.warmup ? ' A warm-up round (a tenth of the counts) runs first and is not counted.' : ''}
  Other work on the machine shows as spread (see the load average above).
- Throughput: a new connection per measurement; the clock runs from the request that starts the flood to the handler's last call
  (${int(c[1])} events at 1 per frame, ${int(c[50])} at 50 per frame). "Flood": the test hub's \`Flood(count, perFrame, "f", payload)\` with a
  4-field object. "Conduit progress": \`POST /_dev/flood\`, deployed-shape \`ImageGenerationProgress\` objects (7 fields) for one task,
  counted at \`client.on('progress')\` for ConduitRealtimeClient and \`connection.on('ImageGenerationProgress')\` for the others.
  The raw loop splits frames on \\x1e and \`JSON.parse\`s every record, then calls the handler with the arguments.
- Invoke round trip: ${int(cfg.latency.count)} sequential invocations after ${int(cfg.latency.warmup)} warm-up calls, one connection per measurement.
- Cold start: \`cold-*.html\`; ours imports \`pkg/web/conduit_realtime.js\`, awaits \`init()\` (fetch, compile, instantiate the wasm) and
  starts a HubConnection; "with resource hints" is the same page with \`<link rel="modulepreload">\` for the glue and
  \`<link rel="preload" as="fetch" crossorigin>\` for the wasm (what the README recommends: both then load while the page parses, as
  the official client's \`<script src>\` does); the official client loads \`signalr.min.js\`; raw opens a WebSocket and does the handshake. WebSockets without
  negotiate everywhere. "Library ready" is when the client code can be used.
- Memory: a new page holding only the client under test. Floods: ${int(cfg.memory.events)} events (JSON, 50 per frame) twice on one
  connection. Tasks: ${int(cfg.memory.tasks)} real tasks created with \`generateImage\` (HTTP + SubscribeToTask, 32 at a time) while the
  server holds every timeline, then released (started, 2 progress events, completed each); twice; counted by their \`subscribed\` and
  \`completed\` events (no \`getSnapshot()\`, which would add a JSON copy of every task). Medians of ${cfg.memory.rounds} rounds. Wasm memory
  never shrinks, so its "after" is a high-water mark: the second run shows whether it keeps growing.
- Scale: ${int(cfg.scale.events)} events per measurement (JSON, 50 per frame; ${int(cfg.scale.snapshotEvents)} with the snapshot
  subscriber, after one snapshot to catch up with the setup) with the progress held at 50% (the client drops progress that goes backwards, so a fixed value lets every round deliver
  every event); one page, one client per tier, the tasks created and subscribed with \`generateImage\` and running for an hour, so they
  stay unfinished.
- Size: \`pkg/web\` as built by \`scripts/build.sh\` (the JS glue is not minified); the official browser bundles from node_modules.`;
}

/** The whole of BENCHMARKS.md. */
export function benchmarksMd(results, cfg, meta, notes = NOTES) {
  return `# Benchmarks

Generated by \`bash scripts/bench.sh\` (\`npm run bench\`) on ${meta.date}. Machine: ${meta.nproc} CPUs (${meta.cpu}), ${meta.memGiB} GiB,
${meta.chromium}, Node ${meta.node}, @microsoft/signalr ${meta.signalr}. 1-minute load average ${meta.load}.

${notes}

${tables(results)}

${method(cfg, meta)}
`;
}

/** Writes BENCHMARKS.md, keeping the hand-written section between <!-- notes --> and <!-- /notes -->. */
export function writeBenchmarks(path, results, cfg, meta) {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const notes = old.match(/<!-- notes -->[\s\S]*?<!-- \/notes -->/)?.[0];
  writeFileSync(path, benchmarksMd(results, cfg, meta, notes));
}
