// Vitest for the hook's own logic, on happy-dom with a fake client (tests/web-hook/fake-conduit.ts).
// The real client, sockets and StrictMode socket counts are tested in Chromium (tests/web-e2e/).
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export default defineConfig({
  root: here('../..'),
  resolve: {
    alias: [
      { find: /^conduit-realtime\/react$/, replacement: here('../../www/src/react/useConduitRealtime.ts') },
      { find: /^conduit-realtime$/, replacement: here('./fake-conduit.ts') },
    ],
  },
  test: {
    include: ['tests/web-hook/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
  },
});
