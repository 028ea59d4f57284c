import { defineConfig } from 'vitest/config';

// forks, not threads: native addons (gpu.js's `gl`) load in one thread per process only.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // a macrotask between tests, so that long synchronous files do not starve the worker's RPC
    setupFiles: ['test/setup/yield.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
