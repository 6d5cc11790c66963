// Memory: JS heap (performance.memory, precise, after gc()) and wasm linear memory, before, at the peak and after
// the work (twice, to tell a leak from a high-water mark): 1M events per client, and 10,000 real Conduit tasks.
import { summary, rotate, positive } from '../stats.mjs';

const FLOODS = [
  { client: 'ours', kind: 'flood', libs: 'ours' },
  { client: 'conduit', kind: 'conduit', libs: 'ours' },
  { client: 'official', kind: 'flood', libs: 'official' },
];

// Each metric becomes a summary over rounds: { heap: {baseline, peak, after1, after2}, wasm: {...} }.
function summarize(runs) {
  const pick = (f) => summary(runs.map(f));
  const part = (k) => ({
    baseline: pick((r) => r.baseline[k]),
    peak: pick((r) => r.peak[k]),
    after1: pick((r) => r.after[0][k]),
    after2: pick((r) => r.after.at(-1)[k]),
  });
  return { heap: part('heap'), wasm: part('wasm') };
}

export async function memory({ cfg, openBench, log, problem }) {
  const { rounds, events, tasks, runs } = cfg.memory;
  const floods = FLOODS.map(() => []);
  const taskRuns = [];
  for (let round = 0; round < rounds; round++) {
    log(`memory: round ${round + 1}/${rounds}`);
    for (const i of rotate([...FLOODS.keys()], round)) {
      const { client, kind, libs } = FLOODS[i];
      const { page, close } = await openBench(libs);
      const r = await page.evaluate((o) => window.bench.memoryFlood(o), { client, kind, count: events, perFrame: 50, runs });
      await close();
      if (r.delivered.some((n) => n !== events)) problem(`memory ${client}: delivered ${r.delivered} of ${events}`);
      if (!positive(r.baseline.heap, r.peak.heap, ...r.after.map((a) => a.heap))) problem(`memory ${client}: ${JSON.stringify(r)}`);
      floods[i].push(r);
    }
    const { page, close } = await openBench('ours');
    const r = await page.evaluate((o) => window.bench.memoryTasks(o), { tasks, runs });
    await close();
    if (r.completed.some((n) => n !== tasks)) problem(`memory tasks: completed ${r.completed} of ${tasks}`);
    if (r.tracked.some((n) => n !== tasks)) problem(`memory tasks: tracked ${r.tracked} of ${tasks} (subscribed events)`);
    if (!positive(r.baseline.heap, r.peak.heap, r.peak.wasm)) problem(`memory tasks: ${JSON.stringify(r)}`);
    taskRuns.push(r);
  }
  return [
    ...FLOODS.map(({ client }, i) => ({ work: `${events.toLocaleString('en-US')} events`, client, ...summarize(floods[i]) })),
    { work: `${tasks.toLocaleString('en-US')} tasks`, client: 'conduit', ...summarize(taskRuns) },
  ];
}
