import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The gateway the dev server proxies to (`npm run dev:ui`); the built desk is served by the gateway itself. */
const gateway = 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  resolve: {
    // the gateway's typed client imports `ws`; in the browser the native WebSocket does the job
    alias: { ws: fileURLToPath(new URL('./src/lib/ws-browser.ts', import.meta.url)) },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api/v1/stream': { target: gateway.replace('http', 'ws'), ws: true },
      '/api': gateway,
      '/metrics': gateway,
    },
  },
});
