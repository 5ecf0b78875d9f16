import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NATIVE_INTERFACE, interfaceMismatch, loadNativeAddon } from './nativeAddon.js';

// This file runs in its own process (vitest forks per file), so the loader's per-process cache
// starts empty. A stand-in for the last build of the positional interface (version 6, no
// `interface` in its info) must be reported as a stale build, not called with options objects.
const stale = join(mkdtempSync(join(tmpdir(), 'muon-tfjs-stale-')), 'muon_native.cjs');
writeFileSync(stale, "module.exports = { info: () => ({ blas: 'stand-in', threads: 1, version: 6 }) };\n");
(globalThis as { process: { env: Record<string, string | undefined> } }).process.env.MUON_TFJS_NATIVE_PATH = stale;

describe('loadNativeAddon', () => {
  it('reports an addon of the positional interface as stale', () => {
    const status = loadNativeAddon();
    expect(status.available).toBe(false);
    if (status.available) return;
    expect(status.reason).toBe(`native addon at ${stale} is a stale build (it predates the options-object interface; run npm run build:native)`);
  });
});

describe('interfaceMismatch', () => {
  it('accepts the same fields in any order', () => {
    expect(interfaceMismatch({ ...NATIVE_INTERFACE, orthogonalize: [...NATIVE_INTERFACE.orthogonalize].reverse() })).toBeUndefined();
  });

  it('names each export and field one side has and the other lacks, a retyped code table included', () => {
    const muonStep = NATIVE_INTERFACE.muonStep.filter((f) => f !== 'cautious: boolean').map((f) => (f.startsWith('precision:') ? 'precision: float32=0|bfloat16=1' : f));
    expect(interfaceMismatch({ ...NATIVE_INTERFACE, muonStep: [...muonStep, 'momentumDtype: number'], exports: NATIVE_INTERFACE.exports.filter((e) => e !== 'threading') })).toBe(
      "exports lacks 'threading'; muonStep lacks 'precision: float32=0|bfloat16=1|openblasFloat32=2', lacks 'cautious: boolean', has 'precision: float32=0|bfloat16=1', has 'momentumDtype: number'",
    );
  });

  it('speaks the interface of native/src/bindings.cc, field by field', () => {
    expect(NATIVE_INTERFACE.orthogonalize).toEqual([
      'inputs: Float32Array[]',
      'outputs?: Float32Array[]',
      'shapes: Int32Array',
      'plans: Int32Array',
      'flops: Float64Array',
      'coefficients: Float64Array',
      'normalizationScale: number',
      'eps: number',
      'restartAfter: Int32Array',
      'precision: float32=0|bfloat16=1|openblasFloat32=2',
      'normalization: frobenius=0|aol=1',
    ]);
  });
});
