/**
 * `npm run bench:spectra`: what the spectral tools cost, and what first-step preconditioning buys.
 *
 *   npm run bench:spectra [-- --runs 3 --shapes 256x1024,768x768,768x3072,3072x768 --skip-svd]
 *
 * 1. `spectrumOf` wall and CPU time per shape, in JavaScript and in the native addon (median of
 *    `--runs` after one warm-up; seeded Gaussian tensors on the wasm backend, so the time includes
 *    reading the tensor back; the CPU time of the single-threaded JavaScript is the figure a shared,
 *    loaded machine distorts least),
 *    against the same call with `method: 'svd'` (one run, shapes up to 768×768: minutes beyond).
 * 2. `chooseSchedule` wall and CPU time per call (median over σ_q from 1e-5 to 0.5, `--runs` each).
 * 3. Preconditioning of the first Newton–Schulz step, on 256×1024 matrices with known spectra: the
 *    normalized spectrum Newton–Schulz actually sees after each pre-scaling, and the iterations the
 *    schedule chooser then needs for the top 90% of directions (q90) and for all of them (σ_min):
 *    - Frobenius: X/‖X‖_F (the default everywhere);
 *    - Schatten-4 (optax's spectral rescaling of the first step): X/‖XXᵀ‖_F^½ = X/‖σ‖₄;
 *    - AOL (Turbo-Muon, arXiv 2512.04632; optax `'aol'`): D·X with D_ii = (Σ_j |(XXᵀ)_ij|)^−½,
 *      which bounds ‖DX‖₂ ≤ 1 but changes the target: NS then converges to polar(DX), not polar(X)
 *      (the last column gives ‖polar(DX) − polar(X)‖_F / ‖polar(X)‖_F);
 *    - σ₁ (the ideal scalar rescaling, X/‖X‖₂; needs a power iteration, listed as the bound).
 *    Both cheap ones reuse XXᵀ, which the first iteration computes anyway.
 * 4. Accuracy of every coefficient preset on those inputs: the relative Frobenius distance of the
 *    float32 result (the fastest kernel here: native when built, else TF.js) to the float64 polar
 *    factor of the input X, and for AOL schedules (turboMuon) also to polar(diag(s)·X), the
 *    factor they approximate. `--accuracy-only` runs 3 and 4 only.
 * Results go to bench-results/spectra-<time>.json. The machine is shared: quote medians of runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { commandLine, machineInfo, median, printMachine } from 'muon-tfjs-harness';
import { COEFFICIENT_PRESETS, chooseSchedule, describeFastestOrthogonalizer, fastestOrthogonalizer, resolveCoefficients, resolveNewtonSchulz, type ScheduleCandidate } from 'muon-tfjs';
import { aolRescaled, type Float64Matrix, type GramSpectrumEngine, matrixWithSingularValues, polarFactor, relativeFrobenius, seededNormal, spectrumOf, toFloat64Matrix } from 'muon-tfjs/diagnostics';

/** Median wall and CPU milliseconds of `spectrumOf(x)` on `engine`, after one warm-up. */
function timeEngine(x: tf.Tensor, engine: GramSpectrumEngine, runs: number): { ms: number; cpuMs: number } {
  spectrumOf(x, { engine }); // warm-up (JIT, BLAS buffers)
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    spectrumOf(x, { engine });
    cpu.push(process.cpuUsage(startCpu).user / 1000);
    times.push(performance.now() - start);
  }
  return { ms: round(median(times)), cpuMs: round(median(cpu)) };
}

function timeSpectrum(shape: readonly [number, number], runs: number, skipSvd: boolean, nativeAvailable: boolean): Record<string, unknown> {
  const x = tf.randomNormal([...shape], 0, 1, 'float32', 7);
  const javascript = timeEngine(x, 'javascript', runs);
  // The native engine's BLAS runs on 2 threads: its CPU time can exceed its wall time.
  const native = nativeAvailable ? timeEngine(x, 'native', runs) : null;
  let svdMs: number | null = null;
  if (!skipSvd && Math.max(...shape) <= 1024 && shape[0] * shape[1] <= 768 * 768) {
    const start = performance.now();
    spectrumOf(x, { method: 'svd' });
    svdMs = performance.now() - start;
  }
  x.dispose();
  return { shape: shape.join('x'), gramMs: javascript.ms, gramCpuMs: javascript.cpuMs, nativeGramMs: native?.ms ?? null, nativeGramCpuMs: native?.cpuMs ?? null, svdMs: svdMs === null ? null : round(svdMs) };
}

function timeChooser(runs: number): { medianMs: number; medianCpuMs: number; perSigma: { sigma: number; ms: number; cpuMs: number; choice: string }[] } {
  const sigmas = Array.from({ length: 12 }, (_, i) => 1e-5 * (0.5 / 1e-5) ** (i / 11));
  chooseSchedule({ sigma: 0.01 }); // warm-up
  const perSigma = sigmas.map((sigma) => {
    const times: number[] = [];
    const cpu: number[] = [];
    let choice = '';
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      const startCpu = process.cpuUsage();
      choice = chooseSchedule({ sigma }).name;
      cpu.push(process.cpuUsage(startCpu).user / 1000);
      times.push(performance.now() - start);
    }
    return { sigma, ms: median(times), cpuMs: median(cpu), choice };
  });
  return { medianMs: median(perSigma.map((p) => p.ms)), medianCpuMs: median(perSigma.map((p) => p.cpuMs)), perSigma };
}

/** XXᵀ of a row-major Float64Matrix with rows ≤ cols. */
function gram(x: Float64Matrix): Float64Array {
  const { rows, cols, data } = x;
  const a = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < cols; t++) s += (data[i * cols + t] as number) * (data[j * cols + t] as number);
      a[i * rows + j] = s;
      a[j * rows + i] = s;
    }
  }
  return a;
}

/** The unnormalized singular values of x (spectrumOf's are of x/‖x‖_F). */
function sigmas(x: Float64Matrix): Float64Array {
  let norm2 = 0;
  for (const v of x.data) norm2 += v * v;
  const norm = Math.sqrt(norm2);
  return spectrumOf(x).singularValues.map((s) => s * norm);
}

const JORDAN: ScheduleCandidate[] = Array.from({ length: 12 }, (_, i) => ({ name: `jordan×${i + 1}`, steps: i + 1, schedule: resolveCoefficients('jordan', i + 1) }));

function steps(sigma: number, candidates?: readonly ScheduleCandidate[]): string {
  if (!(sigma > 0)) return '—';
  const choice = chooseSchedule({ sigma: Math.min(sigma, 1), ...(candidates === undefined ? {} : { candidates }) });
  return choice.meetsTarget ? String(choice.steps) : `>${choice.steps}`;
}

/** The 256×1024 inputs with known spectra of the preconditioning and accuracy tables, each with its float64 polar factor. */
function spectraInputs(): { name: string; x: Float64Matrix; polar: Float64Matrix }[] {
  const [m, n] = [256, 1024];
  const logUniform = (count: number, high: number, low: number): number[] => Array.from({ length: count }, (_, i) => high * (low / high) ** (i / (count - 1)));
  const normal = seededNormal(21);
  const inputs: [string, Float64Matrix][] = [
    ['Gaussian (Marchenko–Pastur)', { rows: m, cols: n, data: Float64Array.from({ length: m * n }, normal) }],
    ['log-uniform 1 → 1e-3', toFloat64Matrix(matrixWithSingularValues(m, n, logUniform(m, 1, 1e-3), 22).g)],
    ['power law σᵢ ∝ 1/i', toFloat64Matrix(matrixWithSingularValues(m, n, Array.from({ length: m }, (_, i) => 1 / (i + 1)), 23).g)],
    ['spike (top energy 0.92) + bulk 1 → 1e-2', toFloat64Matrix(matrixWithSingularValues(m, n, spikeSpectrum(logUniform(m - 1, 1, 1e-2), 0.92), 24).g)],
  ];
  return inputs.map(([name, x]) => ({ name, x, polar: polarFactor(x) }));
}

function preconditioningTable(inputs: readonly { name: string; x: Float64Matrix; polar: Float64Matrix }[]): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const { name, x, polar } of inputs) {
    const s = sigmas(x);
    const a = gram(x);
    const l2 = Math.hypot(...s);
    const l4 = Math.sqrt(Math.hypot(...a)); // ‖XXᵀ‖_F^½ = (Σσ⁴)^¼
    const top = s[0] as number;
    const aolInput = aolRescaled(x, 0);
    const variants: [string, Float64Array, number | null][] = [
      ['Frobenius', s.map((v) => v / l2), 0],
      ['Schatten-4', s.map((v) => v / l4), 0],
      ['AOL', sigmas(aolInput), relativeFrobenius(polarFactor(aolInput).data, polar.data)],
      ['σ₁ (ideal)', s.map((v) => v / top), 0],
    ];
    for (const [prescale, spectrum, polarShift] of variants) {
      const q90 = spectrum[Math.ceil(0.9 * spectrum.length) - 1] as number;
      const low = spectrum[spectrum.length - 1] as number;
      rows.push({
        input: name,
        prescale,
        sigmaMax: round(spectrum[0] as number),
        q90: round(q90),
        sigmaMin: round(low),
        stepsQ90: steps(q90),
        jordanStepsQ90: steps(q90, JORDAN),
        stepsAll: steps(low),
        polarShift: polarShift === null ? null : round(polarShift),
      });
    }
  }
  return rows;
}

/**
 * Every preset at its own steps on every input: the float32 result of the fastest kernel against
 * the float64 polar factor of X, and (AOL schedules) of diag(s)·X, relative Frobenius.
 */
function accuracyTable(inputs: readonly { name: string; x: Float64Matrix; polar: Float64Matrix }[]): Record<string, unknown>[] {
  const orthogonalize = fastestOrthogonalizer();
  const rows: Record<string, unknown>[] = [];
  for (const { name, x, polar } of inputs) {
    const input = tf.tensor2d(Float32Array.from(x.data), [x.rows, x.cols]);
    // The float64 matrix the kernel sees: x rounded to float32.
    const seen = { rows: x.rows, cols: x.cols, data: Float64Array.from(input.dataSync()) };
    for (const preset of COEFFICIENT_PRESETS) {
      const schedule = resolveNewtonSchulz({ coefficients: preset });
      const [output] = orthogonalize([input], schedule);
      const values = (output as tf.Tensor2D).dataSync();
      output?.dispose();
      const aolTarget = schedule.normalization === 'aol' ? relativeFrobenius(values, polarFactor(aolRescaled(seen, schedule.eps)).data) : null;
      rows.push({ input: name, preset, steps: schedule.steps, toPolarX: round(relativeFrobenius(values, polar.data)), toPolarAolX: aolTarget === null ? null : round(aolTarget) });
    }
    input.dispose();
  }
  return rows;
}

/** A spectrum whose top value carries `energy` of Σσ² over the given bulk. */
function spikeSpectrum(bulk: readonly number[], energy: number): number[] {
  const bulkEnergy = bulk.reduce((sum, v) => sum + v * v, 0);
  return [Math.sqrt((energy / (1 - energy)) * bulkEnergy), ...bulk];
}

function round(x: number): number {
  return Number(x.toPrecision(3));
}

const USAGE = `Usage: npm run bench:spectra [-- options]

What spectrumOf and chooseSchedule cost, and what first-step preconditioning buys.

Options:
  --runs N          runs per measurement, median reported (default 3)
  --shapes LIST     comma-separated RxC shapes (default 256x1024,768x768,768x3072,3072x768)
  --skip-svd        skip the slow float64 SVD comparison
  --accuracy-only   only the preconditioning and per-preset accuracy tables
  -h, --help        this text
`;
const args = commandLine({ usage: USAGE, strings: ['runs', 'shapes'], flags: ['skip-svd', 'accuracy-only'] });

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const runs = Number(args.runs ?? 3);
  const skipSvd = args['skip-svd'];
  const shapes = (args.shapes ?? '256x1024,768x768,768x3072,3072x768').split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const machine = machineInfo();
  printMachine(machine);

  // The addon serves the wasm backend this script runs on whenever it is built.
  const fastest = describeFastestOrthogonalizer();
  const nativeAvailable = fastest.kernel === 'native';
  let spectrum: Record<string, unknown>[] | null = null;
  let chooser: ReturnType<typeof timeChooser> | null = null;
  if (!args['accuracy-only']) {
    console.log(`\nspectrumOf: median of ${runs} runs after a warm-up, wall and CPU ms; gram* in JavaScript, nativeGram* in the addon${nativeAvailable ? '' : ' (not built: null)'}; method 'svd' once, up to 768×768`);
    spectrum = shapes.map((shape) => timeSpectrum(shape, runs, skipSvd, nativeAvailable));
    console.table(spectrum);

    console.log(`\nchooseSchedule: wall and CPU ms per call, median of ${runs} runs per σ_q`);
    chooser = timeChooser(runs);
    console.table(chooser.perSigma.map((p) => ({ sigma: round(p.sigma), ms: round(p.ms), cpuMs: round(p.cpuMs), choice: p.choice })));
    console.log(`median over σ_q: ${chooser.medianMs.toFixed(1)} ms wall, ${chooser.medianCpuMs.toFixed(1)} ms CPU`);
  }

  const inputs = spectraInputs();
  console.log('\nFirst-step preconditioning, 256×1024 inputs with known spectra: the normalized σ Newton–Schulz sees,');
  console.log('and the iterations chooseSchedule needs for the top 90% of directions (q90; jordan only: jordan×k) and for all (σ_min)');
  const table = preconditioningTable(inputs);
  console.table(table);

  console.log(`\nAccuracy of every preset on the same inputs (${fastest.kernel} kernel, float32): relative Frobenius distance to polar(X), and for AOL schedules to polar(diag(s)·X)`);
  const accuracy = accuracyTable(inputs);
  console.table(accuracy);

  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/spectra-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ benchmark: 'spectra', runs, backend: tf.getBackend(), machine, spectrum, chooser, preconditioning: table, accuracy }, null, 2));
  console.log(`\nwrote ${file}`);
}

await main();
