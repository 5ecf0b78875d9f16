/**
 * `npm run bench:gram-restarts`: how much accuracy the Gram Newton–Schulz iteration keeps, by
 * restart schedule, on the inputs where it is hardest: ill-conditioned and low-rank matrices, the
 * usual shape of a momentum buffer.
 *
 *   npm run bench:gram-restarts [-- --shape 128x512 --coefficients jordan,polarExpress5 --kernel native|tfjs --precision bfloat16]
 *
 * For each spectrum (singular values known exactly: G = U·diag(s)·Vᵀ with random orthonormal U, V in
 * float64) and preset, the relative Frobenius error of the fp32 result against the float64 map
 * U·p(s/‖s‖)·Vᵀ, for the plain iteration and for the Gram iteration restarted after iteration 3
 * (the default, `defaultGramRestarts`: after 3 and 6 for 8 steps), after 2 only (Dao-AILab's
 * choice in fp16) and never. With `--precision bfloat16` (native kernel with oneDNN) the products run
 * in bfloat16 and a last column gives the float32 plain iteration's error for comparison.
 * Deterministic (seeded); the
 * native kernel runs on one BLAS thread, so its numbers repeat exactly. Results go to
 * bench-results/gram-restarts-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix } from 'ml-matrix';
import { commandLine, machineInfo, printMachine } from 'muon-tfjs-harness';
import { COEFFICIENT_PRESETS, type CoefficientPreset, composedPolynomial, gramOrthogonalizer, loadNativeAddon, nativeOrthogonalizer, NEWTON_SCHULZ_PRECISIONS, type NewtonSchulzPrecision, type Orthogonalizer, resolveNewtonSchulz } from 'muon-tfjs';
import { matrixWithSingularValues, relativeFrobenius, seededNormal } from 'muon-tfjs/diagnostics';

const USAGE = `Usage: npm run bench:gram-restarts [-- options]

Accuracy of the Gram Newton–Schulz iteration by restart schedule on ill-conditioned and low-rank
inputs, against the float64 map. Writes bench-results/gram-restarts-<time>.json.

Options:
  --shape MxN            matrix shape (default 128x512)
  --coefficients LIST    comma-separated presets (default jordan,polarExpress5,cesista5,you6,polarExpress8)
  --kernel NAME          native or tfjs (default native when built)
  --precision NAME       float32 (default) or bfloat16 (native kernel built with oneDNN)
  -h, --help             this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['shape', 'coefficients', 'kernel', 'precision'] });

/** Singular values, largest first, for a k-sided matrix. */
const SPECTRA: Record<string, (k: number) => number[]> = {
  'condition 1e3': (k) => Array.from({ length: k }, (_, i) => 1e-3 ** (i / (k - 1))),
  'condition 1e6': (k) => Array.from({ length: k }, (_, i) => 1e-6 ** (i / (k - 1))),
  'rank 8 + 1e-4 floor': (k) => Array.from({ length: k }, (_, i) => (i < 8 ? 1 - 0.05 * i : 1e-4 * (1 - i / k))),
  'rank 32, zeros beyond': (k) => Array.from({ length: k }, (_, i) => (i < 32 ? 1e-3 ** (i / 31) : 0)),
  'Gaussian-like': (k) => {
    const normal = seededNormal(5);
    return Array.from({ length: k }, () => Math.abs(normal())).sort((a, b) => b - a);
  },
};

await tf.setBackend('cpu');
const [rows, cols] = (args['shape'] ?? '128x512').split('x').map(Number) as [number, number];
const presets = (args['coefficients']?.split(',') ?? ['jordan', 'polarExpress5', 'cesista5', 'you6', 'polarExpress8']) as CoefficientPreset[];
for (const preset of presets) {
  if (!COEFFICIENT_PRESETS.includes(preset)) throw new Error(`unknown preset '${preset}'; expected one of ${COEFFICIENT_PRESETS.join(', ')}`);
}
const native = loadNativeAddon();
const kernel = args['kernel'] ?? (native.available ? 'native' : 'tfjs');
if (kernel === 'native') {
  if (!native.available) throw new Error(`--kernel native: ${native.reason}`);
  native.addon.setThreads(1); // one thread: the same summation order on every run
}
const precision = (args['precision'] ?? 'float32') as NewtonSchulzPrecision;
if (!NEWTON_SCHULZ_PRECISIONS.includes(precision)) throw new Error(`--precision must be ${NEWTON_SCHULZ_PRECISIONS.join(' or ')}; got '${precision}'`);
if (precision === 'bfloat16' && !(kernel === 'native' && native.available && native.addon.info().bfloat16)) {
  throw new Error(`--precision bfloat16 needs the native kernel with bfloat16 products (${native.available ? native.addon.info().products.bfloat16 : native.reason})`);
}
const make = (algorithm: 'plain' | 'gram'): Orthogonalizer => (kernel === 'native' ? nativeOrthogonalizer({ algorithm }) : gramOrthogonalizer({ algorithm, batchSameShapes: false }));
const plain = make('plain');
const gram = make('gram');
printMachine(machineInfo());
const engine = native.available ? (native.addon.info().onednn ?? 'OpenBLAS') : '';
console.log(`${rows}×${cols}, kernel ${kernel} (${kernel === 'native' ? `${engine}, 1 thread` : 'TF.js cpu backend'}), ${precision} products; relative Frobenius error against the float64 map U·p(s)·Vᵀ\n`);

// The restart points belong to the resolved schedule (`restartAfter`, default after 3, 6, …).
const variants = [
  { label: 'plain', orthogonalize: plain },
  { label: 'Gram, default', orthogonalize: gram },
  { label: 'Gram, after 2', orthogonalize: gram, restartAfter: [2] },
  { label: 'Gram, never', orthogonalize: gram, restartAfter: [] },
  ...(precision === 'float32' ? [] : [{ label: 'plain float32', orthogonalize: plain, precision: 'float32' as const }]),
];
const k = Math.min(rows, cols);
const results: Record<string, string | number>[] = [];
for (const [spectrum, values] of Object.entries(SPECTRA)) {
  const s = values(k);
  const { g, u, v } = matrixWithSingularValues(rows, cols, s, 7);
  const input = tf.tensor2d(g.to2DArray());
  if (results.length === 0) console.log(['spectrum'.padEnd(22), 'preset'.padEnd(14), ...variants.map((v) => v.label.padStart(14))].join(' '));
  const norm = Math.hypot(...s);
  for (const preset of presets) {
    const schedule = resolveNewtonSchulz({ coefficients: preset, precision });
    const expected = u.mmul(Matrix.diag(s.map((x) => composedPolynomial(schedule, x / norm)))).mmul(v.transpose()).to1DArray();
    const errors = variants.map((variant) => {
      const restartAfter = 'restartAfter' in variant ? variant.restartAfter : undefined;
      const own = 'precision' in variant ? variant.precision : precision;
      const [output] = variant.orthogonalize([input], restartAfter === undefined && own === precision ? schedule : resolveNewtonSchulz({ coefficients: preset, precision: own, ...(restartAfter === undefined ? {} : { restartAfter }) }));
      const error = relativeFrobenius((output as tf.Tensor2D).dataSync(), expected);
      output?.dispose();
      return error;
    });
    results.push({ spectrum, preset, defaultRestarts: JSON.stringify(schedule.restartAfter), ...Object.fromEntries(variants.map((v, i) => [v.label, errors[i] as number])) });
    console.log([spectrum.padEnd(22), preset.padEnd(14), ...errors.map((e) => e.toExponential(1).padStart(14))].join(' '));
  }
  input.dispose();
}
mkdirSync('bench-results', { recursive: true });
const file = `bench-results/gram-restarts-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify({ benchmark: 'gram-restarts', rows, cols, kernel, engine, precision, machine: machineInfo(), results }, null, 2));
console.log(`\nwritten: ${file}`);
