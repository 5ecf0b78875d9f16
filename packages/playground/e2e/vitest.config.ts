import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const library = (path: string): string => fileURLToPath(new URL(`../../muon-tfjs/src/${path}`, import.meta.url));

/**
 * `npm run test:e2e`: the playground in headless Chromium (minutes; not part of `npm test`). The
 * test process itself imports only the playground's state and build scripts; the page gets the
 * library through the esbuild bundle.
 */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^muon-tfjs\/diagnostics$/, replacement: library('diagnostics.ts') },
      // The build script's siteData.ts loads the tasks package's main entry, whose transformer uses the layers entry.
      { find: /^muon-tfjs\/layers$/, replacement: library('layers.ts') },
      { find: /^muon-tfjs$/, replacement: library('index.ts') },
    ],
  },
  test: {
    include: ['packages/playground/e2e/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
