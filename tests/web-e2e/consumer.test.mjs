// The npm package as a consumer gets it: `npm pack`, installed into a temp dir outside the repo (offline-capable:
// --prefer-offline from the npm cache), then
//  - a Vite + React 18 app importing ConduitRealtimeClient from 'conduit-realtime' and the hook from
//    'conduit-realtime/react': tsc --noEmit (strict, skipLibCheck off, so the published .d.ts are checked),
//    vite build (production) and a development build (StrictMode on, sockets counted at the server);
//  - plain pages loading the web build with <script type="module">: the client, and a generic HubConnection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, launch, newPage, staticServer, serverUrl, counters, eventually, randomKey, screenshot } from './browser.mjs';

const TEMPLATE = join(ROOT, 'tests/web-consumer');
let dir;
let site;
const sites = {};
let browser;

function run(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, npm_config_update_notifier: 'false' } });
}

/** The versions the repo itself uses (so they come from the npm cache); React 18 to prove the peer range. */
function devVersion(name) {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  return lock.packages[`node_modules/${name}`].version;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'conduit-consumer-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }));
  const tarball = join(dir, packed[0].filename);
  cpSync(TEMPLATE, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'conduit-consumer',
    private: true,
    type: 'module',
    dependencies: {
      'conduit-realtime': `file:${tarball}`,
      react: '^18.3.1',
      'react-dom': '^18.3.1',
    },
    devDependencies: {
      '@types/react': '^18.3.0',
      '@types/react-dom': '^18.3.0',
      '@vitejs/plugin-react': devVersion('@vitejs/plugin-react'),
      typescript: devVersion('typescript'),
      vite: devVersion('vite'),
    },
  }, null, 2));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], dir);
  site = await staticServer(dir);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await site?.close();
  for (const s of Object.values(sites)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the hook, its types, and both wasm builds', () => {
  const pkg = join(dir, 'node_modules/conduit-realtime');
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.exports['./react'].types, './pkg/react/useConduitRealtime.d.ts');
  for (const f of ['pkg/react/useConduitRealtime.js', 'pkg/react/useConduitRealtime.d.ts', 'pkg/web/conduit_realtime_bg.wasm', 'pkg/bundler/conduit_realtime_bg.wasm']) {
    assert.ok(readFileSync(join(pkg, f)).length > 0, f);
  }
  for (const f of ['pkg/react/useConduitRealtime.d.ts', 'pkg/web/conduit_realtime.d.ts']) {
    const code = readFileSync(join(pkg, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(code, /\bany\b/, `${f} has no any`);
  }
});

test('the React app type-checks (strict) and builds with Vite', async () => {
  run(join(dir, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], dir);
  // The published declarations themselves, with skipLibCheck off. (They use Symbol.dispose: lib esnext.disposable.)
  run(join(dir, 'node_modules/.bin/tsc'), [
    '--noEmit', '--strict', '--skipLibCheck', 'false', '--target', 'es2022', '--module', 'esnext',
    '--moduleResolution', 'bundler', '--lib', 'es2022,dom,esnext.disposable',
    'node_modules/conduit-realtime/pkg/react/useConduitRealtime.d.ts', 'node_modules/conduit-realtime/pkg/web/conduit_realtime.d.ts',
  ], dir);
  run(join(dir, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], dir);
  process.env.NODE_ENV = 'development';
  try {
    run(join(dir, 'node_modules/.bin/vite'), ['build', '--mode', 'development', '--outDir', 'dist-dev', '--logLevel', 'warn'], dir);
  } finally {
    delete process.env.NODE_ENV;
  }
  sites.dist = await staticServer(join(dir, 'dist'));
  sites['dist-dev'] = await staticServer(join(dir, 'dist-dev'));
});

for (const build of ['dist', 'dist-dev']) {
  test(`the React app (${build}) generates an image; one socket under StrictMode`, async () => {
    const key = randomKey(`consumer_${build.replace('-', '')}`);
    const page = await newPage(browser);
    try {
      assert.ok(sites[build], 'built');
      await page.goto(`${sites[build].url}/?key=${key}&server=${encodeURIComponent(serverUrl())}`);
      await page.waitForSelector('#state:text-is("connected")', { timeout: 15000 });
      assert.equal(await page.textContent('#same-module'), 'true', 'the hook and the root export share one module');
      await page.click('#generate');
      await page.waitForSelector('.task[data-status="completed"] img', { timeout: 15000 });
      const c = (await counters(key)).connections;
      assert.equal(c.open, 1);
      assert.equal(c.opened, 1);
      await screenshot(page, `consumer-react18-${build}`);
    } catch (e) {
      e.message += `\npage log:\n${page.logs.join('\n')}`;
      throw e;
    } finally {
      await page.close();
    }
  });
}

test('the React app also works from the Vite dev server (dependency pre-bundling on)', async () => {
  const vite = spawn(join(dir, 'node_modules/.bin/vite'), ['--host', '127.0.0.1', '--port', '0', '--clearScreen', 'false'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const page = await newPage(browser);
  try {
    let output = '';
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`vite did not start:\n${output}`)), 20000);
      const onData = (d) => {
        output += d;
        const m = output.replace(/\x1b\[[0-9;]*m/g, '').match(/Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      vite.stdout.on('data', onData);
      vite.stderr.on('data', onData);
    });
    const key = randomKey('consumer_vitedev');
    await page.goto(`${url}/?key=${key}&server=${encodeURIComponent(serverUrl())}`);
    await page.waitForSelector('#state:text-is("connected")', { timeout: 20000 });
    assert.equal(await page.textContent('#same-module'), 'true');
    assert.equal((await counters(key)).connections.open, 1);
  } catch (e) {
    e.message += `\npage log:\n${page.logs.join('\n')}`;
    throw e;
  } finally {
    await page.close();
    vite.kill();
  }
});

test('a plain page loads the web build with <script type="module">', async () => {
  const key = randomKey('consumer_plain');
  const page = await newPage(browser);
  try {
    await page.goto(`${site.url}/plain.html?key=${key}&server=${encodeURIComponent(serverUrl())}`);
    await page.waitForSelector('#out:text-is("completed")', { timeout: 15000 });
    await page.waitForSelector('img');
    await screenshot(page, 'consumer-plain');
  } catch (e) {
    e.message += `\npage log:\n${page.logs.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
});

test('a generic HubConnection talks to a hub directly', async () => {
  const key = randomKey('consumer_hub');
  const page = await newPage(browser);
  try {
    await page.goto(`${site.url}/hub.html?key=${key}&server=${encodeURIComponent(serverUrl())}`);
    await page.waitForSelector('#out:text-is("completed Connected true")', { timeout: 15000 });
    await eventually(async () => (await counters(key)).connections.open === 0, { what: 'stopped' });
  } catch (e) {
    e.message += `\npage log:\n${page.logs.join('\n')}`;
    throw e;
  } finally {
    await page.close();
  }
});
