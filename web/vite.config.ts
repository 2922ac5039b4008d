import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into web/dist, which `drover serve` serves at /. No React plugin: Vite's own
// transform handles TSX with the automatic runtime, and the UI needs no fast refresh.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm start` in one terminal, `npx vite --config web/vite.config.ts` in another.
    proxy: { '/api': 'http://127.0.0.1:8080', '/docs': 'http://127.0.0.1:8080' },
  },
});
