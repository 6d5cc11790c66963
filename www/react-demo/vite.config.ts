// The React demo: built to www/react-demo/dist, which the dev server serves at /react-demo/dist/.
// It uses the hook's source and the web build in pkg/web (run scripts/build.sh first).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^conduit-realtime\/react$/, replacement: here('../src/react/useConduitRealtime.ts') },
      { find: /^conduit-realtime$/, replacement: here('../../pkg/web/conduit_realtime.js') },
    ],
  },
  optimizeDeps: { exclude: ['conduit-realtime'] },
  build: { outDir: here('dist'), emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  logLevel: 'warn',
});
