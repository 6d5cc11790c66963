// Size: our wasm + JS glue against the official browser bundles, raw, gzip -9 and brotli (node zlib, quality 11).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

/** Every .js file under dir (the JS snippets wasm-bindgen copies next to the glue), relative to root. */
function scripts(root, dir) {
  try {
    return readdirSync(join(root, dir), { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

const SETS = (root) => ({
  ours: ['pkg/web/conduit_realtime_bg.wasm', 'pkg/web/conduit_realtime.js', ...scripts(root, 'pkg/web/snippets')],
  official: ['node_modules/@microsoft/signalr/dist/browser/signalr.min.js'],
  // The add-on's browser bundle includes @msgpack/msgpack (webpack; signalR is its only external).
  'official + msgpack': [
    'node_modules/@microsoft/signalr/dist/browser/signalr.min.js',
    'node_modules/@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.min.js',
  ],
});

function measure(root, file) {
  const data = readFileSync(join(root, file));
  return {
    raw: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }).length,
  };
}

export function size({ root }) {
  return Object.entries(SETS(root)).map(([set, files]) => {
    const each = files.map((f) => ({ file: f, ...measure(root, f) }));
    const total = (k) => each.reduce((s, f) => s + f[k], 0);
    return { set, files: each, raw: total('raw'), gzip: total('gzip'), brotli: total('brotli') };
  });
}
