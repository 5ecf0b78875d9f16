/**
 * `npm run bench:ns`: Newton–Schulz per matrix shape and kernel, on this machine.
 *
 *   npm run bench:ns [-- --shapes 768x768,768x3072 --runs 5 --coefficients jordan,turboMuon --skip-wasm --wasm-threads 2]
 *
 * For each shape and kernel: median wall time over `--runs` runs after one warm-up, the throughput of
 * the flops the kernel executes (syrk counted at half a gemm) and its fraction of the machine's
 * fp32 peak (`PEAK_GFLOPS`, from the CPU's clock and vector extensions), the plain-iteration-
 * equivalent throughput (plain flops / time: how fast the *answer* comes),
 * ‖XXᵀ − I‖_F/√min(m,n) in float64, the relative Frobenius distance to the plain TF.js iteration's
 * output, and (for min side ≤ 256) to the float64 polar factor UVᵀ. Inputs are seeded Gaussians;
 * tensors live on the wasm backend (the Node default), so the native kernel's times include
 * copying in and out of the wasm heap. `--wasm-threads 2` starts the wasm backend with two XNNPACK
 * threads (enableWasmThreadsInNode). With the addon built with oneDNN the native rows are: OpenBLAS
 * float32 (`library: 'openblas'`, the OpenBLAS-only build's kernel), oneDNN float32, and oneDNN
 * bfloat16 products (`precision: 'bfloat16'`, where the CPU has AVX512-BF16 or AMX), all in this
 * process; "× OpenBLAS" is each row's time over the OpenBLAS auto row's for the same shape.
 * `--coefficients` takes several presets (e.g. `jordan,turboMuon`): every kernel runs each, and
 * "× first" is a row's time over the same kernel's with the first preset, same shape, same run.
 * "Δ vs UVᵀ" is always against the polar factor of the original input, also for `turboMuon`, whose
 * AOL rescaling makes it approximate polar(diag(s)·X) instead (docs/performance.md).
 * Results go to bench-results/ns-<time>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { commandLine, PEAK_GFLOPS, machineInfo, median, printMachine } from 'muon-tfjs-harness';
import { COEFFICIENT_PRESETS, type CoefficientPreset, enableWasmThreadsInNode, GENERAL_MATMUL_CAPABILITIES, gramOrthogonalizer, loadNativeAddon, NATIVE_PRECISION_CODES, nativeCapabilities, OPENBLAS_CAPABILITIES, nativeOrthogonalizer, type NewtonSchulzSchedule, newtonSchulzEach, type Orthogonalizer, planOrthogonalization, plainNewtonSchulzFlops, resolveNewtonSchulz } from 'muon-tfjs';
import { polarFactor, relativeFrobenius } from 'muon-tfjs/diagnostics';

const USAGE = `Usage: npm run bench:ns [-- options]

Newton–Schulz per matrix shape and kernel on this machine: median time, GFLOP/s, fraction of the
fp32 peak, orthogonality error. Writes bench-results/ns-<time>.json.

Options:
  --shapes LIST         comma-separated MxN shapes
                        (default 256x1024,768x768,768x2304,768x3072,3072x768,1024x4096)
  --runs N              timed runs per shape and kernel, after one warm-up (default 5)
  --coefficients LIST   comma-separated coefficient presets, each run by every kernel (default jordan;
                        ${COEFFICIENT_PRESETS.join(', ')})
  --wasm-threads N      XNNPACK threads of the wasm backend, via enableWasmThreadsInNode (default 1)
  --skip-wasm           time the native kernels only
  -h, --help            this text
`;

// Parsed first, so that --help or a wrong flag never starts a measurement.
const args = commandLine({ usage: USAGE, strings: ['shapes', 'runs', 'coefficients', 'wasm-threads'], flags: ['skip-wasm'] });

/** PyTorch + OpenBLAS, 2 threads, 5-step fp32 NS on this machine (issue 4), in ms. */
const PYTORCH_MS: Record<string, number> = { '768x768': 112, '768x3072': 302, '1024x4096': 780 };

interface Kernel {
  readonly name: string;
  readonly orthogonalize: Orthogonalizer;
  /** The schedule it runs (the float32 one, or its bfloat16 twin). */
  readonly schedule: NewtonSchulzSchedule;
  /** Flops it executes on a rows×cols matrix: those of its plan (`planOrthogonalization`). */
  flops(rows: number, cols: number): number;
}

/** ‖XXᵀ − I‖_F / √k in float64 for X of `rows × cols`, k = min(rows, cols) (XᵀX when tall). */
function orthogonalityError(values: Float32Array, rows: number, cols: number): number {
  const tall = rows > cols;
  const k = tall ? cols : rows;
  const len = tall ? rows : cols;
  const vectors = new Float64Array(k * len); // rows of X (wide) or columns of X (tall), contiguous
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j] as number;
      if (tall) vectors[j * len + i] = v;
      else vectors[i * len + j] = v;
    }
  }
  let sum = 0;
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let dot = 0;
      for (let t = 0; t < len; t++) dot += (vectors[i * len + t] as number) * (vectors[j * len + t] as number);
      const d = dot - (i === j ? 1 : 0);
      sum += (i === j ? 1 : 2) * d * d;
    }
  }
  return Math.sqrt(sum / k);
}

function time(orthogonalize: Orthogonalizer, g: tf.Tensor2D, schedule: NewtonSchulzSchedule, runs: number): number[] {
  tf.dispose(orthogonalize([g], schedule)); // warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const outputs = orthogonalize([g], schedule);
    times.push(performance.now() - start);
    tf.dispose(outputs);
  }
  return times;
}

async function main(): Promise<void> {
  const wasmThreads = Number(args['wasm-threads'] ?? 1);
  const threads = wasmThreads > 1 ? await enableWasmThreadsInNode({ threads: wasmThreads }) : (await tf.setBackend('wasm'), 1);
  await tf.ready();
  const presets = (args['coefficients'] ?? 'jordan').split(',');
  for (const preset of presets) {
    if (!(COEFFICIENT_PRESETS as readonly string[]).includes(preset)) throw new Error(`--coefficients: unknown preset '${preset}'; known: ${COEFFICIENT_PRESETS.join(', ')}`);
  }
  const runs = Number(args['runs'] ?? 5);
  const shapes = (args['shapes'] ?? '256x1024,768x768,768x2304,768x3072,3072x768,1024x4096').split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const schedules = (presets as CoefficientPreset[]).map((coefficients) => ({ coefficients, schedule: resolveNewtonSchulz({ coefficients }), bfloat16Schedule: resolveNewtonSchulz({ coefficients, precision: 'bfloat16' }) }));
  const machine = machineInfo();
  printMachine(machine);
  const described = schedules.map(({ coefficients, schedule }) => `${coefficients} × ${schedule.steps} steps${schedule.normalization === 'aol' ? ' (AOL)' : ''}`).join(', ');
  console.log(`Newton–Schulz, ${described}, float32 products unless the row says bf16, median of ${runs} runs after a warm-up; tensors on tfjs-backend-${tf.getBackend()} (${threads} XNNPACK thread${threads > 1 ? 's' : ''})`);

  const status = loadNativeAddon();
  const info = status.available ? status.addon.info() : undefined;
  const nativePlain = status.available ? nativeOrthogonalizer({ algorithm: 'plain', library: 'openblas' }) : undefined;
  const wasmGram = gramOrthogonalizer();
  const nativeOpenblas = status.available ? nativeOrthogonalizer({ library: 'openblas' }) : undefined;
  const nativeFastest = status.available ? nativeOrthogonalizer() : undefined;
  /** Every kernel of this machine, running `schedule` (and its bfloat16 twin where bf16 products run). */
  const kernelsFor = (schedule: NewtonSchulzSchedule, bfloat16Schedule: NewtonSchulzSchedule): Kernel[] => {
    const kernels: Kernel[] = [];
    if (!args['skip-wasm']) {
      kernels.push({ name: 'wasm plain (newtonSchulz)', orthogonalize: newtonSchulzEach, schedule, flops: (r, c) => planOrthogonalization(r, c, schedule, GENERAL_MATMUL_CAPABILITIES, 'plain').flops });
      kernels.push({ name: 'wasm gram (gramOrthogonalizer)', orthogonalize: wasmGram, schedule, flops: (r, c) => planOrthogonalization(r, c, schedule, GENERAL_MATMUL_CAPABILITIES).flops });
    }
    if (nativePlain !== undefined && nativeOpenblas !== undefined && nativeFastest !== undefined && info !== undefined) {
      kernels.push({ name: 'native plain, OpenBLAS f32', orthogonalize: nativePlain, schedule, flops: (r, c) => planOrthogonalization(r, c, schedule, OPENBLAS_CAPABILITIES, 'plain').flops });
      kernels.push({ name: 'native auto, OpenBLAS f32', orthogonalize: nativeOpenblas, schedule, flops: (r, c) => planOrthogonalization(r, c, schedule, OPENBLAS_CAPABILITIES).flops });
      if (info.onednn !== null) {
        kernels.push({ name: 'native auto, oneDNN f32', orthogonalize: nativeFastest, schedule, flops: (r, c) => planOrthogonalization(r, c, schedule, nativeCapabilities()).flops });
      }
      if (info.bfloat16) {
        kernels.push({ name: 'native auto, oneDNN bf16', orthogonalize: nativeFastest, schedule: bfloat16Schedule, flops: (r, c) => planOrthogonalization(r, c, bfloat16Schedule, nativeCapabilities()).flops });
      }
    }
    return kernels;
  };

  console.log(`native products: ${info === undefined ? 'absent' : `${info.onednn ?? 'OpenBLAS only'}; bfloat16 ${info.bfloat16 ? 'available' : info.products.bfloat16}; CPU avx512_bf16 ${String(info.cpu.avx512Bf16)}, amx_bf16 ${String(info.cpu.amxBf16)}`}`);
  console.log(`Δ vs plain: relative Frobenius distance to the plain iteration ${nativePlain === undefined ? 'on wasm' : 'through OpenBLAS'}`);
  // Plain matmul throughput, the ceiling each kernel works under (median of 5 after a warm-up).
  const matmul: Record<string, number> = {};
  for (const n of [1024, 2048]) {
    const a = tf.randomNormal([n, n], 0, 1, 'float32', 1) as tf.Tensor2D;
    const wasmTimes: number[] = [];
    for (let r = 0; r <= 5; r++) {
      const start = performance.now();
      tf.matMul(a, a).dispose();
      if (r > 0) wasmTimes.push(performance.now() - start);
    }
    matmul[`wasm ${n}`] = (2 * n ** 3) / median(wasmTimes) / 1e6;
    if (status.available && info !== undefined) {
      const values = a.dataSync<'float32'>();
      const libraries: [string, number | undefined][] = [['OpenBLAS sgemm', undefined]];
      if (info.onednn !== null) libraries.push(['oneDNN f32', NATIVE_PRECISION_CODES.float32]);
      if (info.bfloat16) libraries.push(['oneDNN bf16', NATIVE_PRECISION_CODES.bfloat16]);
      for (const [label, precision] of libraries) {
        const nativeTimes: number[] = [];
        for (let r = 0; r <= 5; r++) {
          const start = performance.now();
          if (precision === undefined) status.addon.matmul(values, values, n, n, n);
          else status.addon.matmul(values, values, n, n, n, precision);
          if (r > 0) nativeTimes.push(performance.now() - start);
        }
        matmul[`${label} ${n}`] = (2 * n ** 3) / median(nativeTimes) / 1e6;
      }
    }
    a.dispose();
  }
  console.log(`matmul GFLOP/s: ${Object.entries(matmul).map(([k, v]) => `${k}³ ${v.toFixed(1)}`).join(', ')}`);
  console.log(`% peak is of ${PEAK_GFLOPS.toFixed(0)} GFLOP/s (cores × clock × fp32 flops per cycle; see bench/machine.ts)\n`);
  const rows: Record<string, string | number | null>[] = [];
  const header = ['shape', 'coefficients', 'kernel', 'ms', '× OpenBLAS', '× first', 'GFLOP/s', '% peak', 'plain-eq GFLOP/s', '‖XXᵀ−I‖/√k', 'Δ vs plain', 'Δ vs UVᵀ', 'vs PyTorch'];
  console.log(header.join(' | '));
  for (const [r, c] of shapes) {
    const g = tf.randomNormal([r, c], 0, 1, 'float32', r + c) as tf.Tensor2D;
    const m = Math.min(r, c);
    const n = Math.max(r, c);
    const polar = m <= 256 ? polarFactor(g).data : undefined;
    /** Each kernel's time with the first preset, for the "× first" column. */
    const firstMs = new Map<string, number>();
    for (const { coefficients, schedule, bfloat16Schedule } of schedules) {
      const steps = schedule.steps;
      const plainFlops = plainNewtonSchulzFlops(m, n, steps);
      // Δ column reference: the plain iteration through OpenBLAS when built (within 2e-6 of the
      // float64-accumulating cpu backend on 768×3072, measured), else the wasm one (XNNPACK sums
      // less accurately: 1e-3 from the cpu backend on 768×3072).
      const [reference] = (nativePlain ?? newtonSchulzEach)([g], schedule);
      const referenceValues = (reference as tf.Tensor2D).dataSync();
      let openblasMs: number | undefined;
      for (const kernel of kernelsFor(schedule, bfloat16Schedule)) {
        const ms = median(time(kernel.orthogonalize, g, kernel.schedule, runs));
        if (kernel.name === 'native auto, OpenBLAS f32') openblasMs = ms;
        const first = firstMs.get(kernel.name);
        if (first === undefined) firstMs.set(kernel.name, ms);
        const [output] = kernel.orthogonalize([g], kernel.schedule);
        const values = (output as tf.Tensor2D).dataSync<'float32'>();
        output?.dispose();
        const gflops = kernel.flops(r, c) / ms / 1e6;
        const key = `${r}x${c}`;
        const row = {
          shape: key,
          coefficients,
          steps,
          kernel: kernel.name,
          ms: Number(ms.toFixed(1)),
          openblasRatio: openblasMs === undefined ? null : Number((ms / openblasMs).toFixed(2)),
          firstPresetRatio: first === undefined ? null : Number((ms / first).toFixed(2)),
          gflops: Number(gflops.toFixed(1)),
          peakFraction: Number((gflops / PEAK_GFLOPS).toFixed(3)),
          plainEquivalentGflops: Number((plainFlops / ms / 1e6).toFixed(1)),
          orthogonalityError: Number(orthogonalityError(values, r, c).toPrecision(4)),
          relativeToPlain: Number(relativeFrobenius(values, referenceValues).toPrecision(2)),
          relativeToPolar: polar === undefined ? null : Number(relativeFrobenius(values, polar).toPrecision(4)),
          // The PyTorch figures are 5-step runs: only comparable with 5-step schedules.
          pytorchRatio: PYTORCH_MS[key] === undefined || steps !== 5 ? null : Number((ms / (PYTORCH_MS[key] as number)).toFixed(2)),
        };
        rows.push(row);
        console.log(
          [row.shape, row.coefficients, row.kernel, row.ms, row.openblasRatio === null ? '—' : `${row.openblasRatio}×`, row.firstPresetRatio === null ? '—' : `${row.firstPresetRatio}×`, row.gflops, `${(100 * row.peakFraction).toFixed(1)}%`, row.plainEquivalentGflops, row.orthogonalityError, row.relativeToPlain, row.relativeToPolar ?? '—', row.pytorchRatio === null ? '—' : `${row.pytorchRatio}×`].join(' | '),
        );
      }
      (reference as tf.Tensor2D).dispose();
    }
    g.dispose();
  }
  mkdirSync('bench-results', { recursive: true });
  const file = `bench-results/ns-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ benchmark: 'ns', wasmThreads: threads, matmulGflops: matmul, coefficients: presets, deltaReference: nativePlain === undefined ? 'wasm plain' : 'native plain', runs, backend: tf.getBackend(), machine, peakGflops: PEAK_GFLOPS, pytorchMs: PYTORCH_MS, rows }, null, 2));
  console.log(`\nwritten: ${file}`);
}

await main();
