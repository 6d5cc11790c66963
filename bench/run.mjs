// The benchmark suite: every suite in one headless Chromium, tables on stdout, BENCHMARKS.md (not with --smoke).
// Usage: DEVSERVER_URL=http://127.0.0.1:PORT [BENCH_PKG=dir] node bench/run.mjs [--smoke] [--rounds N] [--only throughput,...]
import { chromium } from 'playwright-core';
import { cpus, totalmem, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, CHROMIUM_ARGS } from '../tests/web-e2e/browser.mjs';
import { config } from './config.mjs';
import { serveBench } from './serve.mjs';
import { tables, writeBenchmarks } from './report.mjs';
import { size } from './suites/size.mjs';
import { throughput } from './suites/throughput.mjs';
import { latency } from './suites/latency.mjs';
import { coldStart } from './suites/coldstart.mjs';
import { memory } from './suites/memory.mjs';
import { scale } from './suites/scale.mjs';

const args = process.argv.slice(2);
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const smoke = args.includes('--smoke');
const cfg = config({ smoke, rounds: opt('--rounds') && Number(opt('--rounds')) });
const only = opt('--only')?.split(',');
const server = process.env.DEVSERVER_URL?.replace(/\/$/, '');
if (!server) throw new Error('DEVSERVER_URL is not set: run bash scripts/bench.sh');

const started = Date.now();
const loadAtStart = loadavg()[0];
const log = (m) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${m}`);
const problems = [];
const problem = (m) => problems.push(m);

const modules = join(ROOT, 'node_modules/@microsoft');
// BENCH_PKG: another build of the package (an older commit's, say) in place of pkg/, for before/after runs.
const site = await serveBench(ROOT, process.env.BENCH_PKG);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc', '--enable-precise-memory-info'],
});

/** A new context with the bench page holding `libs`; page errors become problems. */
async function openBench(libs) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (e) => problem(`page error: ${e.message}`));
  page.on('console', (m) => ['error', 'warning'].includes(m.type()) && log(`console ${m.type()}: ${m.text()}`));
  await page.goto(`${site.url}/bench.html?libs=${libs}&server=${encodeURIComponent(server)}`);
  await page.waitForFunction(() => window.benchReady, null, { timeout: 30_000 });
  return { page, close: () => context.close() };
}

const ctx = { cfg, browser, site: site.url, server, root: ROOT, openBench, log, problem };
const suites = { size, throughput, latency, coldStart, memory, scale };
const results = {};
try {
  for (const [name, run] of Object.entries(suites)) {
    if (only && !only.includes(name)) continue;
    log(`${name}`);
    try {
      results[name] = await run(ctx);
    } catch (e) {
      problem(`${name}: ${e.stack ?? e}`);
    }
  }
} finally {
  const version = `Chromium ${browser.version()}`;
  await browser.close();
  await site.close();
  console.log(`\n${tables(results)}\n`);
  log(`done`);
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  } else if (smoke) {
    console.log('bench smoke: every client delivered every event; every number is finite and positive');
  } else if (!only) {
    const meta = {
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      nproc: cpus().length,
      cpu: cpus()[0]?.model?.trim() ?? 'unknown CPU',
      memGiB: Math.round(totalmem() / 2 ** 30),
      load: `${loadAtStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`,
      chromium: version,
      node: process.version,
      signalr: JSON.parse(readFileSync(join(modules, 'signalr/package.json'), 'utf8')).version,
    };
    writeBenchmarks(join(ROOT, 'BENCHMARKS.md'), results, cfg, meta);
    log('wrote BENCHMARKS.md');
  }
}
