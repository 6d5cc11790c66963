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

const encoder = new TextEncoder();

/**
 * Writes the frame as UTF-8 into `into` (a view of WebAssembly memory); returns the bytes written, or -1 when they
 * do not fit. Up to 512 characters ASCII is copied by a loop, which beats the native encoder's fixed cost there.
 */
export function encodeFrame(frame, into) {
  const n = frame.length;
  let i = 0;
  if (n <= 512) {
    for (; i < n; i++) {
      const c = frame.charCodeAt(i);
      if (c > 0x7f) break;
      into[i] = c;
    }
    if (i === n) return n;
  }
  const rest = i === 0 ? frame : frame.slice(i);
  const { read, written } = encoder.encodeInto(rest, i === 0 ? into : into.subarray(i));
  return read === rest.length ? i + written : -1;
}
