// The clients under test behind one shape: connect({ hub, protocol, key }) -> { on(event, fn), invoke(...), stop() }.
// ours = HubConnection, conduit = ConduitRealtimeClient, official = @microsoft/signalr, raw = WebSocket + JSON.parse.

export function clients(server, lib) {
  const auth = (key) => (key ? { accessTokenFactory: () => key } : {});
  return {
    async ours({ hub, protocol, key }) {
      const c = new lib.ours.HubConnectionBuilder()
        .withUrl(server + hub, { transport: 'WebSockets', skipNegotiation: true, ...auth(key) })
        .withHubProtocol(protocol)
        .configureLogging('warning')
        .build();
      await c.start();
      return { on: (t, fn) => c.on(t, fn), invoke: (...a) => c.invoke(...a), stop: () => c.stop() };
    },

    async conduit({ protocol, key }) {
      const client = new lib.ours.ConduitRealtimeClient({ virtualKey: key, baseUrl: server, protocol, logLevel: 'warning' });
      await client.connect('image');
      return { client, on: (e, fn) => client.on(e, fn), stop: () => client.disconnect() };
    },

    async official({ hub, protocol, key }) {
      const S = window.signalR;
      const b = new S.HubConnectionBuilder()
        .withUrl(server + hub, { transport: S.HttpTransportType.WebSockets, skipNegotiation: true, ...auth(key) })
        .configureLogging(S.LogLevel.Warning);
      if (protocol === 'messagepack') b.withHubProtocol(new S.protocols.msgpack.MessagePackHubProtocol());
      const c = b.build();
      await c.start();
      return { on: (t, fn) => c.on(t, fn), invoke: (...a) => c.invoke(...a), stop: () => c.stop() };
    },

    // The ceiling: the handshake, then split each frame on \x1e and JSON.parse every record.
    async raw({ hub, protocol, key }) {
      if (protocol !== 'json') throw new Error('raw: JSON only');
      const ws = new WebSocket(server.replace(/^http/, 'ws') + hub + (key ? `?access_token=${encodeURIComponent(key)}` : ''));
      const handlers = new Map();
      const pending = new Map();
      let next = 0;
      let handshake;
      const ready = new Promise((resolve, reject) => {
        handshake = resolve;
        ws.onerror = () => reject(new Error('raw: WebSocket error'));
      });
      ws.onopen = () => ws.send('{"protocol":"json","version":1}\x1e');
      ws.onmessage = ({ data }) => {
        for (let start = 0, end = data.indexOf('\x1e'); end >= 0; start = end + 1, end = data.indexOf('\x1e', start)) {
          const m = JSON.parse(data.slice(start, end));
          if (handshake) {
            handshake();
            handshake = null;
          } else if (m.type === 1) {
            handlers.get(m.target)?.(...m.arguments);
          } else if (m.type === 3) {
            const [resolve, reject] = pending.get(m.invocationId);
            pending.delete(m.invocationId);
            if (m.error) reject(new Error(m.error));
            else resolve(m.result);
          }
        }
      };
      await ready;
      return {
        on: (t, fn) => handlers.set(t, fn),
        invoke: (target, ...args) =>
          new Promise((resolve, reject) => {
            const invocationId = String(++next);
            pending.set(invocationId, [resolve, reject]);
            ws.send(JSON.stringify({ type: 1, invocationId, target, arguments: args }) + '\x1e');
          }),
        stop: async () => ws.close(),
      };
    },
  };
}
