// The per-message hot path on the JavaScript side: slice the frame string the socket delivered, parse the
// arguments with the browser's JSON.parse and call the handlers, in one crossing from WebAssembly.

/** Calls every handler with the JSON array at frame[start, end) as its arguments. */
export function deliver(frame, start, end, handlers) {
  callAll(JSON.parse(frame.slice(start, end)), handlers);
}

/** Calls every handler with `args`; a handler that throws is logged and the others still run. */
export function callAll(args, handlers) {
  for (let i = 0; i < handlers.length; i++) {
    try {
      handlers[i].apply(undefined, args);
    } catch (e) {
      console.error('conduit-realtime: an event handler threw:', e);
    }
  }
}

/** Parses the JSON value at frame[start, end). */
export function parseSlice(frame, start, end) {
  return JSON.parse(frame.slice(start, end));
}
