// Serves the bench pages, pkg/ and the official browser bundles on 127.0.0.1, cross-origin isolated (COOP/COEP:
// performance.now() then ticks in 5 µs instead of 100 µs) and never cached.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

/** The bench site: the pages, the package build in `pkg` (default `<root>/pkg`) and the official browser bundles. */
export function serveBench(root, pkg = join(root, 'pkg')) {
  const modules = join(root, 'node_modules/@microsoft');
  return serve({
    '/pkg/': pkg,
    '/vendor/signalr/': join(modules, 'signalr/dist/browser'),
    '/vendor/msgpack/': join(modules, 'signalr-protocol-msgpack/dist/browser'),
    '/': join(root, 'bench/pages'),
  });
}

/** `mounts`: URL prefix -> directory, longest prefix first. Resolves with { url, close }. */
export async function serve(mounts) {
  const table = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const [prefix, dir] = table.find(([p]) => path.startsWith(p)) ?? [];
    const file = dir && normalize(join(dir, path.slice(prefix.length)));
    try {
      if (!file || !file.startsWith(normalize(dir))) throw new Error('outside');
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}
