// #region readme-vite
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Vite's default config: the package needs no setting (tested with `vite build` and `vite` dev).
// If an older Vite's dev pre-bundling cannot find the .wasm, add one line:
//   optimizeDeps: { exclude: ['conduit-realtime'] },
export default defineConfig({
  plugins: [react()],
});
// #endregion
