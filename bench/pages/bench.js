// Bench page bootstrap: loads ?libs= (ours: pkg/web + init(); official: signalr.min.js + the msgpack add-on) and
// exposes window.bench (measure.js) for page.evaluate.
import { clients } from './clients.js';
import { measurements } from './measure.js';

const params = new URLSearchParams(location.search);
const server = params.get('server');
const libs = (params.get('libs') ?? 'ours,official').split(',');

function script(src) {
  return new Promise((resolve, reject) => {
    const s = Object.assign(document.createElement('script'), { src, onload: resolve, onerror: () => reject(new Error(src)) });
    document.head.append(s);
  });
}

const lib = {};
if (libs.includes('ours')) {
  lib.ours = await import('/pkg/web/conduit_realtime.js');
  lib.wasm = await lib.ours.default();
}
if (libs.includes('official')) {
  await script('/vendor/signalr/signalr.min.js');
  await script('/vendor/msgpack/signalr-protocol-msgpack.min.js');
}
window.bench = measurements({ server, clients: clients(server, lib), wasmMemory: lib.wasm?.memory });
window.benchReady = true;
