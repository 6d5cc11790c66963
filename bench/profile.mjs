// Probe: CPU profile of one throughput or latency case in the bench page, self time by function (not part of the
// suite). PKG=dir serves another build as /pkg/ (one with a names section shows Rust function names).
// Usage: DEVSERVER_URL=... node bench/profile.mjs [client kind protocol perFrame count]
//        DEVSERVER_URL=... node bench/profile.mjs latency [client protocol count]
import { chromium } from 'playwright-core';
import { ROOT, CHROMIUM_ARGS } from '../tests/web-e2e/browser.mjs';
import { serveBench } from './serve.mjs';

const argv = process.argv.slice(2);
const latency = argv[0] === 'latency';
const [client = 'conduit', kind = 'conduit', protocol = 'json', perFrame = '50', count = '500000'] = latency
  ? [argv[1] ?? 'ours', 'echo', argv[2] ?? 'json', '1', argv[3] ?? '4000']
  : argv;
const server = process.env.DEVSERVER_URL?.replace(/\/$/, '');
if (!server) throw new Error('DEVSERVER_URL is not set: start one with bash scripts/devserver.sh');
const site = await serveBench(ROOT, process.env.PKG);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'] });
const page = await (await browser.newContext()).newPage();
await page.goto(`${site.url}/bench.html?libs=ours,official&server=${encodeURIComponent(server)}`);
await page.waitForFunction(() => window.benchReady);
const o = latency
  ? { client, protocol, count: Number(count), warmup: 500 }
  : { client, kind, protocol, perFrame: Number(perFrame), count: Number(count) };
const measure = latency ? 'latency' : 'throughput';
for (let i = 0; i < 2; i++) await page.evaluate(([m, o]) => window.bench[m](o), [measure, { ...o, count: Math.round(o.count / 5) }]);
const cdp = await page.context().newCDPSession(page);
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 50 });
await cdp.send('Profiler.start');
const r = await page.evaluate(([m, o]) => window.bench[m](o), [measure, o]);
const { profile } = await cdp.send('Profiler.stop');
console.log(JSON.stringify(r));
const self = new Map();
const dt = profile.timeDeltas;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
let total = 0;
profile.samples.forEach((id, i) => {
  const n = byId.get(id);
  const name = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
  self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0));
  total += dt[i] ?? 0;
});
for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 30)))
  console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${name}`);
await browser.close();
await site.close();
