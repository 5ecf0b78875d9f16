import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_PRECISION_CODES, loadNativeAddon } from '../src/kernels/nativeAddon.js';

// Issue 22: hyper-parameter trials in worker_threads each load the addon, and its C++ statics are
// shared by the whole process. Every native entry must give a worker the bits a lone run gives.
// The calls live in concurrentCalls.cjs, plain CommonJS that a worker loads without a TypeScript
// loader; the lone runs call the same function here, in the main thread, before any worker starts.

type NativeResults = Record<string, unknown>;
const { runNativeEntries } = createRequire(import.meta.url)('./concurrentCalls.cjs') as {
  runNativeEntries(addon: unknown, seed: number, precisions: readonly number[]): NativeResults;
};
const workerModule = fileURLToPath(new URL('./concurrentCalls.cjs', import.meta.url));

const status = loadNativeAddon();
const required = process.env.MUON_TFJS_REQUIRE_NATIVE === '1';
const info = status.available ? status.addon.info() : undefined;
// Every arithmetic the addon runs here: bfloat16 where it can, and with oneDNN built in, OpenBLAS's
// float32 too (the products of a build without oneDNN, whose thread count is process-wide).
const precisions = [
  NATIVE_PRECISION_CODES.float32,
  ...(info?.bfloat16 === true ? [NATIVE_PRECISION_CODES.bfloat16] : []),
  ...(info !== undefined && info.onednn !== null ? [NATIVE_PRECISION_CODES.openblasFloat32] : []),
];
const precisionNames = Object.entries(NATIVE_PRECISION_CODES)
  .filter(([, code]) => precisions.includes(code))
  .map(([name]) => name)
  .join(', ');
// Three workers at once, two of them on the same seed (the report's trials used the same seeds).
const WORKER_SEEDS = [1, 1, 2];

/** Where `actual` differs from `expected` in its bits: per array (`muonStep 0.params.2`), how many elements and the first few. */
function bitDifferences(actual: unknown, expected: unknown, path = ''): string[] {
  if (ArrayBuffer.isView(actual) && ArrayBuffer.isView(expected)) {
    const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
    const e = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
    if (a.length !== e.length) return [`${path}: ${a.length} bytes, expected ${e.length}`];
    const width = 'BYTES_PER_ELEMENT' in actual ? (actual.BYTES_PER_ELEMENT as number) : 1;
    const differing = new Set<number>();
    for (let i = 0; i < a.length; ++i) if (a[i] !== e[i]) differing.add(Math.floor(i / width));
    return differing.size === 0 ? [] : [`${path}: ${differing.size} of ${a.length / width} elements differ, first at [${[...differing].slice(0, 3).join(', ')}]`];
  }
  if (typeof actual === 'object' && actual !== null && typeof expected === 'object' && expected !== null) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    return [...keys].flatMap((key) => bitDifferences((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`));
  }
  return Object.is(actual, expected) ? [] : [`${path}: ${String(actual)}, expected ${String(expected)}`];
}

/** Runs `runNativeEntries` in one worker per seed, all released together, and collects their results. */
function runInWorkers(addonPath: string, seeds: readonly number[]): Promise<NativeResults[]> {
  const ready = new SharedArrayBuffer(4);
  return Promise.all(
    seeds.map(
      (seed) =>
        new Promise<NativeResults>((resolve, reject) => {
          const worker = new Worker(workerModule, { workerData: { role: 'concurrentCalls', addonPath, seed, precisions, ready, workers: seeds.length } });
          worker.once('message', (results: NativeResults) => {
            resolve(results);
            void worker.terminate();
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`worker for seed ${seed} exited with code ${code} before sending its results`)));
        }),
    ),
  );
}

describe('the native addon in worker threads', () => {
  it(status.available ? `runs here, products in ${precisionNames}${info?.bfloat16 === true ? '' : ` (bfloat16 ${info?.products.bfloat16 ?? ''})`}` : `is absent (${status.reason}): worker-thread tests skipped`, () => {
    if (required) expect(status.available, status.available ? '' : status.reason).toBe(true);
  });

  describe.runIf(status.available)('several workers calling every entry at once', () => {
    const lone = new Map<number, NativeResults>();
    beforeAll(() => {
      if (!status.available) return;
      for (const seed of new Set(WORKER_SEEDS)) lone.set(seed, runNativeEntries(status.addon, seed, precisions));
    });

    it("each get a lone run's bits: orthogonalize and muonStep in every precision here (muonStep with float32 and packed bfloat16 momentum), gramEigenvalues", async () => {
      if (!status.available) return;
      // Every entry ran, the packed momentum as words: the comparison below covers them all.
      const ran = lone.get(WORKER_SEEDS[0] ?? -1) as Record<string, { momenta?: ArrayBufferView[] }>;
      expect(Object.keys(ran)).toEqual(precisions.flatMap((p) => [`orthogonalize ${p}`, `muonStep ${p}, momentum float32`, `muonStep ${p}, momentum bfloat16`]));
      expect(ran['muonStep 0, momentum bfloat16']?.momenta?.map((m) => m.constructor.name)).toEqual(['Int32Array', 'Int32Array', 'Int32Array']);
      const concurrent = await runInWorkers(status.path, WORKER_SEEDS);
      const differences = concurrent.flatMap((results, i) => bitDifferences(results, lone.get(WORKER_SEEDS[i] ?? -1)).map((d) => `worker ${i}: ${d}`));
      expect(differences).toEqual([]);
    });
  });
});
