import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts', 'examples/**/*.test.ts'],
    // TF.js keeps a global engine per process: run files in separate forks so that backends,
    // registered variables and tensor counts never leak between test files.
    pool: 'forks',
    testTimeout: 60_000,
    // The benchmark harness runs a tiny end-to-end configuration in a beforeAll hook.
    hookTimeout: 60_000,
  },
});
