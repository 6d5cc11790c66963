// Counters around the browser APIs a client can leak, installed before the first client is created:
// WebSocket and EventSource (live = created and not yet CLOSED), setTimeout/clearTimeout and
// setInterval/clearInterval (pending = set - cleared - fired), and add/removeEventListener on window and
// document. A timer or listener belongs to the client when the call came from the library's code
// (`conduit_realtime::` frames in the stack); the test's own sleeps are not counted.
const S = (globalThis.__faultLeaks = globalThis.__faultLeaks || { installed: false });
function fromClient() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const stack = new Error().stack || '';
  Error.stackTraceLimit = limit;
  return stack.includes('conduit_realtime');
}
export function leaksInstall() {
  if (S.installed) return;
  S.installed = true;
  const g = globalThis;
  S.sockets = new Set(); S.socketsOpened = 0;
  S.sources = new Set(); S.sourcesOpened = 0;
  S.timers = new Map(); S.timersSet = 0; S.timersFired = 0; S.timersCleared = 0;
  S.intervals = new Map();
  S.listeners = [];
  const NativeWebSocket = g.WebSocket;
  g.WebSocket = class WebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      S.socketsOpened++;
      S.sockets.add(this);
      this.addEventListener('close', () => S.sockets.delete(this));
    }
  };
  const NativeEventSource = g.EventSource;
  g.EventSource = class EventSource extends NativeEventSource {
    constructor(...args) { super(...args); S.sourcesOpened++; S.sources.add(this); }
    close() { S.sources.delete(this); return super.close(); }
  };
  const nSet = g.setTimeout, nClear = g.clearTimeout, nSetI = g.setInterval, nClearI = g.clearInterval;
  g.setTimeout = function setTimeout(handler, ms, ...rest) {
    const client = fromClient();
    let id;
    const fn = typeof handler === 'function'
      ? function (...a) { if (S.timers.delete(id)) S.timersFired++; return handler.apply(this, a); }
      : handler;
    id = nSet.call(g, fn, ms, ...rest);
    S.timers.set(id, client); S.timersSet++;
    return id;
  };
  g.clearTimeout = function clearTimeout(id) {
    if (S.timers.delete(id)) S.timersCleared++;
    S.intervals.delete(id);
    return nClear.call(g, id);
  };
  g.setInterval = function setInterval(handler, ms, ...rest) {
    const client = fromClient();
    const id = nSetI.call(g, handler, ms, ...rest);
    S.intervals.set(id, client);
    return id;
  };
  g.clearInterval = function clearInterval(id) {
    S.intervals.delete(id);
    if (S.timers.delete(id)) S.timersCleared++;
    return nClearI.call(g, id);
  };
  const proto = EventTarget.prototype;
  const nAdd = proto.addEventListener, nRemove = proto.removeEventListener;
  const watched = (t) => t === g || (typeof document !== 'undefined' && t === document);
  const capture = (o) => (typeof o === 'boolean' ? o : !!(o && o.capture));
  const find = (t, type, fn, c) => S.listeners.findIndex((l) => l.target === t && l.type === type && l.fn === fn && l.capture === c);
  proto.addEventListener = function addEventListener(type, fn, options) {
    if (watched(this) && fn && find(this, type, fn, capture(options)) < 0) {
      S.listeners.push({ target: this, type, fn, capture: capture(options), client: fromClient() });
    }
    return nAdd.call(this, type, fn, options);
  };
  proto.removeEventListener = function removeEventListener(type, fn, options) {
    if (watched(this)) {
      const i = find(this, type, fn, capture(options));
      if (i >= 0) S.listeners.splice(i, 1);
    }
    return nRemove.call(this, type, fn, options);
  };
}
export function leaksSnapshot() {
  let timersClient = 0, intervalsClient = 0;
  for (const c of S.timers.values()) if (c) timersClient++;
  for (const c of S.intervals.values()) if (c) intervalsClient++;
  return {
    socketsLive: [...S.sockets].filter((s) => s.readyState !== 3).length,
    socketsOpened: S.socketsOpened,
    sourcesLive: [...S.sources].filter((s) => s.readyState !== 2).length,
    sourcesOpened: S.sourcesOpened,
    timersClient, timersAll: S.timers.size, intervalsClient,
    timersSet: S.timersSet, timersFired: S.timersFired, timersCleared: S.timersCleared,
    listenersClient: S.listeners.filter((l) => l.client).length,
    listenersAll: S.listeners.length,
    listenerTypes: S.listeners.filter((l) => l.client).map((l) => l.type).join(','),
  };
}
export function dispatchOnline() { globalThis.dispatchEvent(new Event('online')); }
