// The renderer build: one Vue app, relative asset URLs so the same files load from http:// (server mode)
// and from the Electron app:// protocol.
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: r('.'),
  base: './',
  plugins: [vue()],
  resolve: {
    alias: { '@contract': r('../src-main/contract'), '@core': r('../src-main/core') },
  },
  build: {
    outDir: r('../dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
});
