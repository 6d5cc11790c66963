// Shared by the browser tests: Debian's Chromium through playwright-core (never a downloaded browser),
// the dev server's URL, its /_dev counters, and screenshots under artifacts/screenshots/.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');

export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** The dev server's URL: DEVSERVER_URL (scripts/test-web.sh starts one). */
export function serverUrl() {
  const url = process.env.DEVSERVER_URL;
  if (!url) throw new Error('DEVSERVER_URL is not set: run bash scripts/test-web.sh (it starts the dev server)');
  return url.replace(/\/$/, '');
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/** A page that fails the test on uncaught page errors, and keeps its console for the failure message. */
export async function newPage(browser, { viewport = { width: 1200, height: 860 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  page.logs = [];
  page.on('console', (m) => page.logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.logs.push(`pageerror: ${e.message}`));
  return page;
}

export function randomKey(tag) {
  return `condt_${tag}_${Math.random().toString(36).slice(2, 10)}`;
}

/** GET /_dev/counters?key=... */
export async function counters(key) {
  const r = await fetch(`${serverUrl()}/_dev/counters?key=${encodeURIComponent(key)}`);
  return r.json();
}

/** Polls `fn` until it returns a truthy value (or throws the last failure after `timeout` ms). */
export async function eventually(fn, { timeout = 10000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = new Error(`${what}: got ${JSON.stringify(v)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw last;
    await new Promise((r) => setTimeout(r, interval));
  }
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml',
};

/**
 * Serves `dir` over HTTP on 127.0.0.1 (another port than the dev server: the apps under test talk to Conduit
 * cross-origin, as a real app does). Resolves with { url, close }.
 */
export async function staticServer(dir) {
  const { createServer } = await import('node:http');
  const { readFile, stat } = await import('node:fs/promises');
  const { extname, join: joinPath, normalize } = await import('node:path');
  const root = normalize(dir);
  const server = createServer(async (req, res) => {
    let rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (rel.endsWith('/')) rel += 'index.html';
    const file = normalize(joinPath(root, rel));
    try {
      if (!file.startsWith(root) || !(await stat(file)).isFile()) throw new Error('not found');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${rel}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { url, close: () => new Promise((resolve) => server.close(resolve)) };
}
