// The published hook under server rendering in plain Node (no window, no WebSocket): importing
// 'conduit-realtime/react' (package self-reference: the same exports map a consumer gets) touches nothing
// browser-only, and rendering gives the idle snapshot without creating a client or loading the wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';

test('conduit-realtime/react imports and renders on the server', async () => {
  assert.equal(typeof globalThis.window, 'undefined');
  const { useConduitRealtime, loadConduitRealtime } = await import('conduit-realtime/react');
  assert.equal(typeof useConduitRealtime, 'function');
  assert.equal(typeof loadConduitRealtime, 'function');
  function App() {
    const { state, isConnecting, tasks, client } = useConduitRealtime({
      virtualKey: 'condt_ssr_12345678',
      autoConnect: true,
      hubType: 'image',
    });
    return createElement('p', null, `${state} ${isConnecting} ${tasks.size} ${client === null}`);
  }
  assert.equal(renderToString(createElement(App)), '<p>disconnected false 0 true</p>');
});
