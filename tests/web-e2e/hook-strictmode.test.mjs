// useConduitRealtime in a real browser against the dev server: React 19 development build (StrictMode's
// mount-unmount-mount is on), sockets counted at the server with /_dev/counters?key=.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, launch, newPage, staticServer, serverUrl, counters, eventually, randomKey, screenshot } from './browser.mjs';

let browser;
let out;
let site;

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'conduit-fixture-'));
  execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--mode', 'development', '--config', 'tests/web-e2e/fixture/vite.config.mjs'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development', FIXTURE_OUT: out },
    stdio: 'inherit',
  });
  site = await staticServer(out);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await site?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

async function open(key, strict = true) {
  const page = await newPage(browser);
  await page.goto(`${site.url}/?key=${key}&strict=${strict ? 1 : 0}&server=${encodeURIComponent(serverUrl())}`);
  await page.waitForSelector('#state:text-is("connected")', { timeout: 10000 });
  return page;
}

const open_ = async (key) => (await counters(key)).connections;

test('StrictMode mount-unmount-mount leaves exactly one live connection', async () => {
  const key = randomKey('strict');
  const page = await open(key);
  // StrictMode really is on: every render ran twice.
  const renders = await page.evaluate(() => window.fixture.renders);
  assert.equal(renders % 2, 0, `StrictMode renders twice (renders=${renders})`);
  const c = await eventually(async () => {
    const c = await open_(key);
    return c.open === 1 && c;
  }, { what: 'one open socket' });
  assert.equal(c.open, 1);
  assert.equal(c.opened, 1, 'the first (discarded) mount never opened a socket');
  await screenshot(page, 'hook-fixture-strictmode');
  await page.close();
});

test('new callback identities on every render do not reconnect; re-renders stay bounded', async () => {
  const key = randomKey('churn');
  const page = await open(key);
  const before = await page.evaluate(() => window.fixture.renders);
  await page.evaluate(async () => {
    for (let i = 0; i < 25; i++) {
      window.fixture.rerender();
      await new Promise((r) => setTimeout(r, 5));
    }
  });
  const afterRenders = await page.evaluate(() => window.fixture.renders);
  assert.ok(afterRenders - before <= 2 * 25 + 4, `renders: ${before} -> ${afterRenders}`);
  const c = await open_(key);
  assert.equal(c.opened, 1, 'no reconnect');
  assert.equal(c.open, 1);
  // Idle: no re-render storm while nothing changes.
  const idle0 = await page.evaluate(() => window.fixture.renders);
  await page.waitForTimeout(500);
  assert.equal(await page.evaluate(() => window.fixture.renders), idle0, 'no renders while idle');
  await page.close();
});

test('a task runs through the hook: callbacks fire, tasks update, the Map is stable between snapshots', async () => {
  const key = randomKey('task');
  const page = await open(key);
  await page.click('#generate');
  await page.waitForSelector('#tasks li[data-status="completed"]', { timeout: 10000 });
  const { events, changes, renders } = await page.evaluate(() => ({
    events: window.fixture.events,
    changes: window.fixture.tasksMapChanges,
    renders: window.fixture.renders,
  }));
  assert.ok(events.some((e) => e.startsWith('progress ')), events.join('\n'));
  assert.equal(events.filter((e) => e.startsWith('completed ')).length, 1, 'completed exactly once');
  assert.ok(changes <= renders, 'tasks Map identity changes only with snapshots');
  await page.close();
});

test('unmount disconnects; mounting again connects exactly once more', async () => {
  const key = randomKey('unmount');
  const page = await open(key);
  await eventually(async () => (await open_(key)).open === 1, { what: 'open' });
  await page.evaluate(() => window.fixture.setMounted(false));
  await eventually(async () => (await open_(key)).open === 0, { what: 'closed after unmount' });
  await page.evaluate(() => window.fixture.setMounted(true));
  await page.waitForSelector('#state:text-is("connected")');
  const c = await eventually(async () => {
    const c = await open_(key);
    return c.open === 1 && c;
  }, { what: 'reopened' });
  assert.equal(c.opened, 2, 'one socket per mount, StrictMode included');
  await page.close();
});
