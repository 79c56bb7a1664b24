// The browser app's build. `npm run build:web` writes dist/web at the repo root, which
// the server serves at `/` (src/transport/rest/web.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('public'),
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be the only inline-looking code path; every supported browser has modulepreload.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    host: '127.0.0.1',
    // `vite` in dev: the API comes from a running Twofold on the default port.
    proxy: { '/api': 'http://127.0.0.1:3000', '/websocket': { target: 'ws://127.0.0.1:3000', ws: true } },
  },
});
