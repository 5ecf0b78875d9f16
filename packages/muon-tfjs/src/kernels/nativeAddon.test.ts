import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from './nativeAddon.js';

// This file runs in its own process (vitest forks per file), so the loader's per-process cache
// starts empty. A stand-in addon of the previous interface (5: `orthogonalize` and `muonStep`
// without the `normalization` argument, which would refuse the arguments of version 6) must be
// reported as a stale build, not called with version 6's arguments.
const stale = join(mkdtempSync(join(tmpdir(), 'muon-tfjs-stale-')), 'muon_native.cjs');
writeFileSync(stale, "module.exports = { info: () => ({ blas: 'stand-in', threads: 1, version: 5 }) };\n");
(globalThis as { process: { env: Record<string, string | undefined> } }).process.env.MUON_TFJS_NATIVE_PATH = stale;

describe('loadNativeAddon', () => {
  it('reports an addon built for another interface version as stale, naming both versions', () => {
    const status = loadNativeAddon();
    expect(status.available).toBe(false);
    if (status.available) return;
    expect(status.reason).toBe(`native addon at ${stale} is a stale build (interface 5, expected 6; run npm run build:native)`);
  });
});
