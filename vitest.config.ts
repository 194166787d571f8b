import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      '@contract': r('./src-main/contract'),
      '@core': r('./src-main/core'),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    // one build of dist/ for the whole run (the worker, CLI and renderer the tests start)
    globalSetup: ['test/global-setup.ts'],
    // Each file gets its own process: tfjs backends and the wasm heap are process-global state.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
