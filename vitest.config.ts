import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const library = (path: string): string => fileURLToPath(new URL(`./packages/muon-tfjs/src/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the library's TypeScript sources, as users import the built package: through its
    // public entry points `muon-tfjs`, `muon-tfjs/diagnostics` and `muon-tfjs/layers` (the `muon-tfjs-source` condition
    // of its exports map, which tsc and tsx use too).
    alias: [
      { find: /^muon-tfjs\/diagnostics$/, replacement: library('diagnostics.ts') },
      { find: /^muon-tfjs\/layers$/, replacement: library('layers.ts') },
      { find: /^muon-tfjs$/, replacement: library('index.ts') },
    ],
  },
  test: {
    include: ['docs/**/*.test.ts', 'packages/*/src/**/*.test.ts', 'packages/*/native/**/*.test.ts', 'packages/*/perf/**/*.test.ts', 'packages/*/examples/**/*.test.ts'],
    // TF.js keeps a global engine per process: run files in separate forks so that backends,
    // registered variables and tensor counts never leak between test files.
    pool: 'forks',
    testTimeout: 60_000,
    // The benchmark harness runs a tiny end-to-end configuration in a beforeAll hook.
    hookTimeout: 60_000,
    // tfjs-backend-cpu advises installing tfjs-node once per process, in every test file: noise
    // that hides what a failing run says. Nothing else is filtered.
    onConsoleLog: (log) => !log.includes('Hi, looks like you are running TensorFlow.js in Node.js'),
  },
});
