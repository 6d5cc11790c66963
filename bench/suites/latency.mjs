// Invoke round trip: sequential Echo invocations, p50 and p99 per client, after a warm-up; and the p50 of the client's
// own part of each round trip (invoke() to the socket's send(), the socket's message event to the awaiting code).
import { summary, rotate, positive } from '../stats.mjs';

const CASES = [
  { client: 'raw', protocol: 'json' },
  { client: 'ours', protocol: 'json' },
  { client: 'official', protocol: 'json' },
  { client: 'ours', protocol: 'messagepack' },
  { client: 'official', protocol: 'messagepack' },
];

export async function latency({ cfg, openBench, log, problem }) {
  const { page, close } = await openBench('ours,official');
  const samples = CASES.map(() => ({ p50: [], p99: [], own: [] }));
  for (let round = 0; round < cfg.rounds; round++) {
    log(`latency: round ${round + 1}/${cfg.rounds}`);
    for (const i of rotate([...CASES.keys()], round)) {
      const r = await page.evaluate((o) => window.bench.latency(o), { ...CASES[i], ...cfg.latency });
      if (!r.isolated) problem('latency: the page is not cross-origin isolated (performance.now() ticks in 100 µs)');
      if (!positive(r.p50, r.p99, r.ownP50)) problem(`latency ${CASES[i].client}/${CASES[i].protocol}: p50 ${r.p50}, p99 ${r.p99}, own p50 ${r.ownP50}`);
      samples[i].p50.push(r.p50);
      samples[i].p99.push(r.p99);
      samples[i].own.push(r.ownP50);
    }
  }
  await close();
  return CASES.map((c, i) => ({ ...c, count: cfg.latency.count, p50: summary(samples[i].p50), p99: summary(samples[i].p99), own: summary(samples[i].own) }));
}
