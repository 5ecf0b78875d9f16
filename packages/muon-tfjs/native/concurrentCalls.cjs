// The calls of workerThreads.test.ts: every native entry (orthogonalize in float32 and bfloat16,
// muonStep in both with float32 and with packed bfloat16 momentum, gramEigenvalues) on matrices made
// from one seed, run once in the test's main thread and in several worker threads at once, whose
// results must be the lone run's bits.
// CommonJS and plain JavaScript, so that a worker thread loads it with no TypeScript loader: it
// takes the addon's path, never the library's sources.
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

// The shapes of the report (issue 22): a wide matrix, a tall one and a square one.
const SHAPES = [
  [192, 384],
  [384, 96],
  [128, 128],
];
// Plain on the wide and the square matrix, Gram on the tall one (iterating on XᵀX, with a restart),
// so that both algorithms and both sides run. The flops are for the addon's thread scheduler only:
// with two or more threads the wide matrix runs alone on all of them, the other two on the pool.
const PLANS = Int32Array.of(0, 0, 1, 1, 0, 0);
const FLOPS = Float64Array.of(4e8, 1e8, 5e7);
// Keller Jordan's quintic, five iterations.
const COEFFICIENTS = Float64Array.from({ length: 15 }, (_, i) => [3.4445, -4.775, 2.0315][i % 3]);
const RESTART_AFTER = Int32Array.of(2);
const SHAPE_SCALES = Float64Array.of(1.4142, 0.5, 1);
// Nesterov's look-ahead and the decay pass run.
const HYPER = { beta: 0.95, nesterov: true, learningRate: 0.02, weightDecay: 0.01, cautious: false };
// The momentum formats of muonStep (NATIVE_MOMENTUM_DTYPE_CODES): float32, and bfloat16 packed two per word.
const MOMENTUM_DTYPES = [0, 1];
// Enough steps for the workers' calls to overlap many times, few enough for a test of seconds.
const STEPS = 10;

/** Uniform numbers in [-1, 1) from a 32-bit seed (mulberry32), the same in every thread. */
function randomArray(length, seed, ArrayType) {
  const values = new ArrayType(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; ++i) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return values;
}

/**
 * Runs every entry on the matrices of `seed` and returns what each wrote: `precisions` are the
 * addon's codes to run (0 float32, and 1 bfloat16 where the addon can).
 */
function runNativeEntries(addon, seed, precisions) {
  // The same thread count in every run, whatever the machine's load (a lone run and a worker beside
  // others may see different loads): the bits of OpenBLAS's products depend on it.
  addon.setThreads(addon.info().threads);
  const shapes = Int32Array.from(SHAPES.flat());
  const matrices = SHAPES.map(([rows, cols], i) => randomArray(rows * cols, seed * 16 + i, Float32Array));
  const results = {};
  for (const precision of precisions) {
    const planned = { shapes, plans: PLANS, flops: FLOPS, coefficients: COEFFICIENTS, normalizationScale: 1, eps: 1e-7, restartAfter: RESTART_AFTER, precision, normalization: 0 };
    results[`orthogonalize ${precision}`] = addon.orthogonalize({ inputs: matrices, ...planned });
    // Steps of one optimizer, each step's gradient a new random matrix, and the spectra of the new
    // weights after each step, as a training run with a spectrum tracker; with the momentum in
    // float32 and packed in bfloat16 (momentumDtype 1: Int32Arrays of ceil(size / 2) words).
    for (const momentumDtype of MOMENTUM_DTYPES) {
      const momentumOf = (size) => (momentumDtype === 0 ? new Float32Array(size) : new Int32Array(Math.ceil(size / 2)));
      let params = matrices.map((m) => m.slice());
      let momenta = matrices.map((m) => momentumOf(m.length));
      const flags = [];
      const spectra = [];
      for (let step = 0; step < STEPS; ++step) {
        const grads = SHAPES.map(([rows, cols], i) => randomArray(rows * cols, seed * 4096 + step * 16 + i, Float32Array));
        const newParams = params.map((p) => new Float32Array(p.length));
        const newMomenta = params.map((p) => momentumOf(p.length));
        flags.push(addon.muonStep({ params, grads, momenta, newParams, newMomenta, momentumDtype, ...planned, shapeScales: SHAPE_SCALES, ...HYPER }));
        params = newParams;
        momenta = newMomenta;
        spectra.push(params.map((p, i) => addon.gramEigenvalues(Float64Array.from(p), ...SHAPES[i])));
      }
      results[`muonStep ${precision}, momentum ${momentumDtype === 0 ? 'float32' : 'bfloat16'}`] = { params, momenta, flags, spectra };
    }
  }
  return results;
}

module.exports = { runNativeEntries };

// In a worker: wait until every worker is ready (so that their calls overlap), run, send the results.
if (!isMainThread && workerData?.role === 'concurrentCalls') {
  const addon = require(workerData.addonPath);
  const ready = new Int32Array(workerData.ready);
  Atomics.add(ready, 0, 1);
  while (Atomics.load(ready, 0) < workerData.workers) Atomics.wait(ready, 0, Atomics.load(ready, 0), 10);
  parentPort.postMessage(runNativeEntries(addon, workerData.seed, workerData.precisions));
}
