/**
 * The browser half of `npm run bench:browser`: bundled by bench/browser/run.ts with esbuild and
 * loaded into headless Chromium, where it sets up tfjs-backend-wasm the way a web page would (no
 * Node workarounds: threads come from the page being cross-origin isolated) and times the
 * browser-capable orthogonalization on the GPT-2-small hidden-matrix set.
 *
 * The page defines `globalThis.muonBench(config)`; the runner calls it once per fresh browser
 * context, because XNNPACK's thread count is fixed when the backend initializes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { GPT2_SMALL_LAYER_SHAPES } from '../gpt2Small.js';
import { enableWasmThreadsInBrowser, gramOrthogonalizer, newtonSchulzEach, type Orthogonalizer, resolveNewtonSchulz } from 'muon-tfjs';

/** The orthogonalizers the page can time. */
export type BrowserKernel = 'gram' | 'plain';

/** What the runner asks of one page. */
export interface PageConfig {
  /** Passed to `setThreadsCount` before the backend starts; `null`: not called (tfjs's default). */
  readonly threads: number | null;
  /**
   * If set, the backend starts through the library's `enableWasmThreadsInBrowser({ threads })`
   * (which lifts tfjs-backend-wasm's cap of hardwareConcurrency / 2 threads) instead of
   * `tf.setBackend('wasm')`, and `threads` is ignored.
   */
  readonly libraryThreads: number | null;
  /** GPT-2-small layers to orthogonalize (4 matrices each); 0 measures matmul only. */
  readonly layers: number;
  /** Timed orthogonalizations of the whole set, after a one-layer warm-up. */
  readonly runs: number;
  /** Timed 1024×1024 matmuls, after one warm-up. */
  readonly matmulRuns: number;
  readonly kernels: readonly BrowserKernel[];
}

/** One kernel's timings on the matrix set. */
export interface SetTiming {
  readonly kernel: BrowserKernel;
  readonly warmupSeconds: number;
  /** ‖OOᵀ − I‖_F/√768 of the first 768×2304 output: a sanity check (about 0.3 for `jordan`). */
  readonly orthogonalityError: number;
  readonly seconds: number[];
}

/** What one page measured. */
export interface PageResult {
  readonly threadsRequested: number | null;
  /** The `threads` given to enableWasmThreadsInBrowser, or null where the page used setThreadsCount. */
  readonly libraryThreads: number | null;
  readonly threadsObtained: number;
  readonly crossOriginIsolated: boolean;
  /** The browser's own value (enableWasmThreadsInBrowser changes it only while the backend starts). */
  readonly hardwareConcurrency: number;
  readonly userAgent: string;
  readonly simd: boolean;
  readonly multithreadSupport: boolean;
  readonly matmulMs: number[];
  readonly sets: SetTiming[];
  /** The wasm heap after the last run (it can grow to 4 GiB, never shrinks). */
  readonly heapBytes: number | null;
}

/** Muon's default Newton–Schulz schedule, resolved once. */
const SCHEDULE = resolveNewtonSchulz();

const KERNELS: Record<BrowserKernel, Orthogonalizer> = {
  gram: gramOrthogonalizer(),
  plain: newtonSchulzEach,
};

/** Lets the console messages of the last phase reach the runner before the next long call. */
const breathe = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

async function muonBench(config: PageConfig): Promise<PageResult> {
  // Same-origin .wasm files, served by the runner (a prefix keeps the threaded build selectable;
  // the deprecated setWasmPath would force the plain one).
  setWasmPaths(`${location.origin}/wasm/`);
  const [simd, multithreadSupport] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
  const hardwareConcurrency = navigator.hardwareConcurrency;
  if (config.libraryThreads !== null) {
    await enableWasmThreadsInBrowser({ threads: config.libraryThreads });
  } else {
    if (config.threads !== null) setThreadsCount(config.threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialize');
  }
  await tf.ready();
  const threadsObtained = getThreadsCount();
  const how = config.libraryThreads === null ? `setThreadsCount(${config.threads ?? '—'})` : `enableWasmThreadsInBrowser({ threads: ${config.libraryThreads} })`;
  console.log(`backend wasm: ${threadsObtained} XNNPACK thread(s) via ${how}, crossOriginIsolated ${crossOriginIsolated}, hardwareConcurrency ${navigator.hardwareConcurrency}`);

  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 1) as tf.Tensor2D;
  const matmulMs: number[] = [];
  for (let r = 0; r <= config.matmulRuns; r++) {
    const start = performance.now();
    tf.matMul(a, a).dispose(); // synchronous on wasm: the time includes the work
    if (r > 0) matmulMs.push(performance.now() - start);
  }
  a.dispose();

  const sets: SetTiming[] = [];
  if (config.layers > 0) {
    const matrices: tf.Tensor2D[] = [];
    for (let l = 0; l < config.layers; l++) {
      GPT2_SMALL_LAYER_SHAPES.forEach(([fanIn, fanOut], k) => matrices.push(tf.randomNormal([fanIn, fanOut], 0, 1, 'float32', 1000 * l + k) as tf.Tensor2D));
    }
    for (const kernel of config.kernels) {
      const orthogonalize = KERNELS[kernel];
      await breathe();
      let start = performance.now();
      const warm = orthogonalize(matrices.slice(0, GPT2_SMALL_LAYER_SHAPES.length), SCHEDULE); // warm-up: one layer
      const warmupSeconds = seconds(start);
      const orthogonalityError = tf.tidy(() => {
        const o = warm[0] as tf.Tensor2D;
        const k = o.shape[0];
        return (tf.norm(tf.sub(tf.matMul(o, o, false, true), tf.eye(k))).dataSync()[0] as number) / Math.sqrt(k);
      });
      tf.dispose(warm);
      console.log(`${kernel}: warm-up on one layer ${warmupSeconds.toFixed(2)} s, ‖OOᵀ − I‖_F/√k ${orthogonalityError.toFixed(4)} on 768×2304`);
      const times: number[] = [];
      for (let r = 0; r < config.runs; r++) {
        await breathe();
        start = performance.now();
        const outputs = orthogonalize(matrices, SCHEDULE);
        times.push(seconds(start));
        tf.dispose(outputs);
        console.log(`${kernel}: ${matrices.length} matrices in ${(times.at(-1) as number).toFixed(2)} s`);
      }
      sets.push({ kernel, warmupSeconds, orthogonalityError, seconds: times });
    }
    tf.dispose(matrices);
  }
  const wasm = (tf.backend() as unknown as { wasm?: { wasmMemory?: WebAssembly.Memory } }).wasm;
  return {
    threadsRequested: config.threads,
    libraryThreads: config.libraryThreads,
    threadsObtained,
    crossOriginIsolated,
    hardwareConcurrency,
    userAgent: navigator.userAgent,
    simd: simd === true,
    multithreadSupport: multithreadSupport === true,
    matmulMs,
    sets,
    heapBytes: wasm?.wasmMemory?.buffer.byteLength ?? null,
  };
}

(globalThis as unknown as { muonBench: typeof muonBench }).muonBench = muonBench;
