// Throughput: server-to-client events/s into a JS handler, by payload, protocol and records per WebSocket frame.
import { summary, rotate, positive } from '../stats.mjs';

// Who receives which flood ("flood": the test hub's Flood; "conduit": deployed-shape progress on the image hub).
// There is no raw MessagePack loop: its rows use the raw JSON loop as the ceiling.
export const CLIENTS = {
  flood: { json: ['raw', 'ours', 'official'], messagepack: ['ours', 'official'] },
  conduit: { json: ['raw', 'ours', 'conduit', 'official'], messagepack: ['ours', 'conduit', 'official'] },
};

export async function throughput({ cfg, openBench, log, problem }) {
  const { page, close } = await openBench('ours,official');
  const cases = [];
  for (const kind of ['flood', 'conduit'])
    for (const protocol of ['json', 'messagepack'])
      for (const perFrame of [1, 50]) cases.push({ kind, protocol, perFrame });
  const samples = new Map();
  const run = async (round, scale) => {
    for (const c of cases) {
      for (const client of rotate(CLIENTS[c.kind][c.protocol], round)) {
        const count = Math.round(cfg.throughput.count[c.perFrame] * scale);
        const r = await page.evaluate((o) => window.bench.throughput(o), { ...c, client, count });
        const what = `throughput ${c.kind}/${c.protocol}/${c.perFrame} per frame/${client}`;
        if (r.delivered !== count) problem(`${what}: delivered ${r.delivered} of ${count} events`);
        if (!positive(r.rate)) problem(`${what}: rate ${r.rate}`);
        if (scale === 1) {
          const k = JSON.stringify({ ...c, client, count });
          samples.set(k, [...(samples.get(k) ?? []), r.rate]);
        }
      }
    }
  };
  if (cfg.warmup) {
    log('throughput: warm-up round');
    await run(0, 0.1);
  }
  for (let round = 0; round < cfg.rounds; round++) {
    log(`throughput: round ${round + 1}/${cfg.rounds}`);
    await run(round, 1);
  }
  await close();
  return [...samples].map(([k, rates]) => ({ ...JSON.parse(k), rate: summary(rates) }));
}
