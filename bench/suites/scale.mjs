// Scale: ns per ConduitRealtimeClient progress event with 10, 1,000 and 10,000 subscribed, unfinished tasks; with a
// plain on('progress') listener, and with a React-style snapshot subscriber (onChange -> getSnapshot()) added.
import { summary, rotate, positive } from '../stats.mjs';

export const VARIANTS = ['on(progress)', 'on(progress) + onChange(getSnapshot)'];

export async function scale({ cfg, openBench, server, log, problem }) {
  const { sizes, events, snapshotEvents } = cfg.scale;
  const { page, close } = await openBench('ours');
  log(`scale: creating ${sizes.join(' + ')} tasks`);
  const tiers = await page.evaluate((o) => window.bench.scaleSetup(o), { sizes });
  tiers.forEach((t, i) => t.active !== sizes[i] && problem(`scale: ${t.active} of ${sizes[i]} tasks active`));
  const cases = VARIANTS.flatMap((variant, v) =>
    sizes.map((size) => ({ variant, size, snapshot: v === 1, count: v ? snapshotEvents : events })),
  );
  const ns = cases.map(() => []);
  try {
    for (let round = 0; round < cfg.rounds; round++) {
      log(`scale: round ${round + 1}/${cfg.rounds}`);
      for (const i of rotate([...cases.keys()], round)) {
        const { size, snapshot, count, variant } = cases[i];
        const r = await page.evaluate((o) => window.bench.scaleRun(o), { size, count, perFrame: 50, snapshot });
        if (r.delivered !== count) problem(`scale ${size} ${variant}: delivered ${r.delivered} of ${count}`);
        if (!positive(r.nsPerEvent)) problem(`scale ${size} ${variant}: ${r.nsPerEvent} ns/event`);
        ns[i].push(r.nsPerEvent);
      }
    }
  } finally {
    await close();
    // Forget the hour-long tasks on the server.
    for (const { key } of tiers) await fetch(`${server}/_dev/restart?key=${key}`, { method: 'POST' });
  }
  return cases.map(({ variant, size, count }, i) => ({ variant, size, events: count, active: tiers[sizes.indexOf(size)].active, ns: summary(ns[i]) }));
}
