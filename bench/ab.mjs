// A/B: throughput of two builds of the package in one browser, each in its own page, alternating A, B, B, A, ...
// per round, so that both see the same machine drift. Tighter than two runs of bench/run.mjs (whose ratios move by
// about ±8 % between runs of one build) for judging what a change bought. Not part of the suite.
// Usage: DEVSERVER_URL=... node bench/ab.mjs <pkg dir A> <pkg dir B> [--rounds N] [--case client:kind:protocol:perFrame]...
//   client: ours (HubConnection), conduit (ConduitRealtimeClient), official, raw; kind: flood or conduit.
//   Default cases: conduit:conduit:json:50 and ours:flood:json:50; 5 rounds.
import { chromium } from 'playwright-core';
import { resolve } from 'node:path';
import { ROOT, CHROMIUM_ARGS } from '../tests/web-e2e/browser.mjs';
import { serveBench } from './serve.mjs';
import { summary } from './stats.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const dirs = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const server = process.env.DEVSERVER_URL?.replace(/\/$/, '');
if (dirs.length !== 2 || !server) {
  console.error('usage: DEVSERVER_URL=... node bench/ab.mjs <pkg dir A> <pkg dir B> [--rounds N] [--case client:kind:protocol:perFrame]...');
  process.exit(2);
}
const rounds = Number(flag('--rounds')[0] ?? 5);
const cases = (flag('--case').length ? flag('--case') : ['conduit:conduit:json:50', 'ours:flood:json:50']).map((c) => {
  const [client, kind, protocol, perFrame] = c.split(':');
  return { client, kind, protocol, perFrame: Number(perFrame), count: Number(perFrame) === 1 ? 40_000 : 500_000 };
});

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'] });
const sites = [];
const pages = [];
for (const dir of dirs) {
  const site = await serveBench(ROOT, resolve(dir));
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${site.url}/bench.html?libs=ours,official&server=${encodeURIComponent(server)}`);
  await page.waitForFunction(() => window.benchReady);
  sites.push(site);
  pages.push(page);
}
const run = (page, o) => page.evaluate((o) => window.bench.throughput(o), o).then((r) => r.rate);

try {
  for (const c of cases) {
    const rates = [[], []];
    for (const page of pages) await run(page, { ...c, count: c.count / 10 }); // warm-up, not counted
    for (let r = 0; r < rounds; r++) {
      for (const i of r % 2 ? [1, 0] : [0, 1]) rates[i].push(await run(pages[i], c));
    }
    const [a, b] = rates.map(summary);
    const fmt = (s) => `${Math.round(s.median).toLocaleString('en-US')} ±${(100 * s.spread).toFixed(1)}%`;
    console.log(`${c.client}:${c.kind}:${c.protocol}:${c.perFrame}  A ${fmt(a)}  B ${fmt(b)}  B÷A ${(b.median / a.median).toFixed(3)}×`);
  }
} finally {
  await browser.close();
  for (const site of sites) await site.close();
}
