/**
 * The measurements of `npm run bench:gpu`, on whatever TF.js backend is current: run in a
 * Chromium page (wasm, webgl, webgpu; bundled by ./page.ts) and in Node (webgpu through Dawn), so
 * it imports nothing from Node.
 *
 * Per model: Muon's (the benchmark's `muonWithAdamW` hybrid) and AdamW's training step
 * (forward, backward, `applyGradients`), Newton–Schulz alone on the model's Muon matrices with
 * Muon's default kernel (`fastestOrthogonalizer()`), and the kernel dispatches of each. Then a
 * Newton–Schulz micro-benchmark (768×3072 by default) against the same backend's float32 matmul
 * rate on the products Newton–Schulz runs (768×3072 · 3072×768).
 *
 * Times come from an asynchronous fence: `n` steps are queued with no read-back, then one
 * `await data()` of a small tensor computed after them; the GPU queue runs in order, so the fence
 * resolves once all of them ran. A run's time is (fence − start) / n; the figure is the median
 * over runs, after untimed, fenced warm-up steps (shader compilation, allocation). The same
 * synthetic batch is reused at every step: timing does not depend on the data, and host-side
 * batch preparation stays out of the figures.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { describeFastestOrthogonalizer, fastestOrthogonalizer, GENERAL_MATMUL_CAPABILITIES, type NewtonSchulzSchedule, type OrthogonalizerChoice, planOrthogonalization, resolveNewtonSchulz, type RoutingRow } from 'muon-tfjs';
import { CharLanguageModelTask, ImageClassificationTask, splitIndices, initializeWeights, buildConvNet, buildMlp, buildTransformer, TRANSFORMER_DEFAULT, createRandom, type Batch, type Task } from 'muon-tfjs-tasks';
import { MUON, optimizerSpec } from '../../src/benchmark/protocol/optimizers.js';
import { median } from 'muon-tfjs-harness/median';

/**
 * The models timed: the playground's four (packages/playground/src/playgroundTask.ts: sizes and
 * batches as there) and the benchmark's transformer (`npm run bench`'s default scale, batch 16).
 */
export const GPU_BENCH_MODELS = ['toy', 'mlp', 'convnet', 'transformer', 'bench-transformer'] as const;
export type GpuBenchModel = (typeof GPU_BENCH_MODELS)[number];

/** What one measurement asks. */
export interface GpuBenchConfig {
  readonly models: readonly GpuBenchModel[];
  /** Timed runs per optimizer (the figure is their median). */
  readonly runs: number;
  /** Steps queued between fences in one run. */
  readonly stepsPerRun: number;
  /** Untimed steps first, fenced. */
  readonly warmupSteps: number;
  /** The micro-benchmark's matrix, `[rows, cols]`; null skips it. */
  readonly newtonSchulzShape: readonly [number, number] | null;
  /** The character vocabulary of the transformers (Moby Dick's, read by the runner). */
  readonly vocabSize: number;
}

/** The device a backend computes on, named so that a software adapter cannot pass for a GPU. */
export interface AdapterDescription {
  /** The adapter's or renderer's own words (WebGPU adapter info; WebGL's unmasked renderer). */
  readonly name: string;
  /** True for a CPU standing in for a GPU (SwiftShader, llvmpipe, lavapipe, a fallback adapter) and for wasm. */
  readonly software: boolean;
  /** WebGPU only: whether the adapter offers `shader-f16`. */
  readonly shaderF16?: boolean;
}

/** One optimizer's step on one model. */
export interface OptimizerTiming {
  readonly optimizer: 'muon' | 'adamw';
  /** Median over runs of the whole training step, ms. */
  readonly stepMs: number;
  readonly runsMs: number[];
  /** Program dispatches (GPU backends) or TF.js kernels (wasm, cpu) of one whole step. */
  readonly dispatchesPerStep: number;
  /** The part of them in `applyGradients`. */
  readonly optimizerDispatchesPerStep: number;
}

/** One model's figures. */
export interface ModelTiming {
  readonly model: GpuBenchModel;
  readonly summary: string;
  readonly batchSize: number;
  /** The `[fanIn, fanOut]` matrices Muon orthogonalizes. */
  readonly muonMatrices: (readonly [number, number])[];
  readonly optimizers: OptimizerTiming[];
  /** Muon's step time over AdamW's. */
  readonly muonVsAdamW: number;
  /** Newton–Schulz alone on the Muon matrices, one step's worth: median ms and dispatches. */
  readonly newtonSchulzMs: number;
  readonly newtonSchulzDispatches: number;
}

/** Newton–Schulz of one matrix against the backend's matmul rate. */
export interface NewtonSchulzMicro {
  readonly shape: readonly [number, number];
  /** Flops of the plan under general matmuls (`planOrthogonalization`, multiply-add = 2). */
  readonly flops: number;
  readonly algorithm: 'plain' | 'gram';
  readonly ms: number;
  readonly gflops: number;
  readonly dispatches: number;
  /** The float32 product Newton–Schulz runs most, `[m, n] · [n, m]`: median ms and its rate. */
  readonly matmulMs: number;
  readonly matmulGflops: number;
  /** Newton–Schulz's rate over the matmul's (the target: ≥ 0.25). */
  readonly rateVsMatmul: number;
}

/** Everything one backend measured. */
export interface GpuBenchResult {
  readonly backend: string;
  readonly adapter: AdapterDescription;
  /** Which kernel Muon's default orthogonalizer runs here. */
  readonly orthogonalizer: OrthogonalizerChoice;
  /** What a dispatch count counts on this backend. */
  readonly dispatchUnit: 'gpu programs' | 'tfjs kernels';
  readonly models: ModelTiming[];
  readonly newtonSchulz: NewtonSchulzMicro | null;
  /** Models (or the micro-benchmark) that failed, with the error; the others still ran. */
  readonly errors: { readonly what: string; readonly error: string }[];
}

/** The seed of weights and batches. */
const SEED = 1;
/** Muon's schedule in the benchmark's hybrid (`MUON.nsSteps` steps of `jordan`). */
const SCHEDULE: NewtonSchulzSchedule = resolveNewtonSchulz({ steps: MUON.nsSteps, coefficients: 'jordan' });

/** A task of the model's sizes on synthetic data: one batch of random inputs and labels. */
function syntheticTask(model: GpuBenchModel, vocabSize: number): Task {
  const random = createRandom(SEED);
  const image = (id: string, summary: string, batchSize: number, size: [number, number], classes: number, layout: 'flat' | 'image', build: () => tfl.LayersModel): Task => {
    const count = batchSize + 1; // splitIndices holds out at least one example
    const dataset = {
      name: `synthetic ${size.join('×')}`, source: 'random', count, height: size[0], width: size[1], channels: 1, classes,
      images: Float32Array.from({ length: count * size[0] * size[1] }, () => random.next()),
      labels: Uint8Array.from({ length: count }, () => random.int(classes)),
    };
    return new ImageClassificationTask({ id, title: id, modelSummary: summary, dataset, splits: splitIndices(count, 1, 0, SEED), batchSize, inputLayout: layout, buildModel: build });
  };
  const text = (id: string, summary: string, sequenceLength: number, build: () => tfl.LayersModel): Task => {
    const codes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => random.int(vocabSize));
    const corpus = { name: 'synthetic text', source: 'random', vocab: Array.from({ length: vocabSize }, (_, i) => String.fromCharCode(32 + i)), train: codes(4096), validation: codes(256), test: codes(256), characters: 4608 };
    return new CharLanguageModelTask({ id, title: id, modelSummary: summary, corpus, sequenceLength, batchSize: 16, stepsPerEpoch: 1, evaluationWindows: 1, buildModel: build });
  };
  switch (model) {
    case 'toy':
      return image(model, 'MLP 2-32-32-2, batch 32', 32, [1, 2], 2, 'flat', () => buildMlp({ inputSize: 2, hidden: [32, 32], classes: 2 }));
    case 'mlp':
      return image(model, 'MLP 784-128-64-10, batch 128', 128, [28, 28], 10, 'flat', () => buildMlp({ inputSize: 784, hidden: [128, 64], classes: 10 }));
    case 'convnet':
      return image(model, 'conv 8 → pool → conv 16 → pool → dense 32 → 10, batch 32', 32, [28, 28], 10, 'image', () => buildConvNet({ height: 28, width: 28, channels: 1, filters: [8, 16], dense: 32, classes: 10 }));
    case 'transformer':
      return text(model, 'transformer, 2 blocks × 64, 4 heads, context 32, batch 16', 32, () => buildTransformer({ vocabSize, sequenceLength: 32, width: 64, heads: 4, layers: 2, mlpWidth: 256 }));
    case 'bench-transformer': {
      const t = TRANSFORMER_DEFAULT;
      return text(model, `transformer, ${t.layers} blocks × ${t.width}, ${t.heads} heads, context ${t.sequenceLength}, batch 16`, t.sequenceLength, () => buildTransformer({ ...t, vocabSize }));
    }
  }
}

/** The backend methods that launch one GPU program each; wasm and cpu have none. */
const PROGRAM_RUNNERS = ['runWebGPUProgram', 'runWebGLProgram'] as const;

function dispatchUnit(): GpuBenchResult['dispatchUnit'] {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  return PROGRAM_RUNNERS.some((name) => typeof backend[name] === 'function') ? 'gpu programs' : 'tfjs kernels';
}

/**
 * Runs `work` and counts what it launched: GPU programs where the backend has a program runner
 * (kernels call it once per dispatch, including the library's own programs, which bypass the
 * engine), else the engine's kernel calls. The method is wrapped on the instance for the call only.
 */
export function countDispatches(work: () => void): number {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const runner = PROGRAM_RUNNERS.find((name) => typeof backend[name] === 'function');
  const target: Record<string, unknown> = runner === undefined ? (tf.engine() as unknown as Record<string, unknown>) : backend;
  const method = runner ?? 'runKernelFunc';
  const original = target[method] as (...args: unknown[]) => unknown;
  let count = 0;
  target[method] = function (this: unknown, ...args: unknown[]): unknown {
    count++;
    return original.apply(this, args);
  };
  try {
    work();
  } finally {
    // The wrapper sits on the instance, shadowing the prototype's method: removing it restores that.
    Reflect.deleteProperty(target, method);
    if (target[method] !== original) target[method] = original;
  }
  return count;
}

/** Waits, without a synchronous read, until the work queued before `tensor`'s kernels has run. */
async function fence(tensor: tf.Tensor): Promise<void> {
  await tensor.data();
}

/**
 * Queues `steps` calls of `work` and fences on `probe()` (a small tensor computed after them,
 * disposed here); returns ms per call.
 */
async function timeQueued(steps: number, work: () => void, probe: () => tf.Tensor): Promise<number> {
  const start = performance.now();
  for (let s = 0; s < steps; s++) work();
  const last = probe();
  await fence(last);
  last.dispose();
  return (performance.now() - start) / steps;
}

/** One optimizer training its own copy of a model on a fixed batch. */
class FixedBatchTrainer {
  readonly model: tfl.LayersModel;
  readonly optimizer: tf.Optimizer;
  private readonly variables: tf.Variable[];

  constructor(private readonly task: Task, readonly kind: 'muon' | 'adamw', private readonly batch: Batch) {
    this.model = task.buildModel();
    initializeWeights(this.model, SEED);
    const spec = optimizerSpec(kind);
    const middle = (grid: readonly number[]): number => grid[Math.floor(grid.length / 2)] as number;
    this.optimizer = spec.create(middle(spec.grid), { model: this.model, auxLearningRate: middle(optimizerSpec('adamw').grid) });
    this.variables = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** One training step; the loss is never read. */
  step(): void {
    const { value, grads } = this.gradients();
    this.optimizer.applyGradients(grads);
    tf.dispose([value, grads]);
  }

  /** One training step, with its dispatches: all of them and those of `applyGradients`. */
  countedStep(): { all: number; optimizer: number } {
    let optimizer = 0;
    const all = countDispatches(() => {
      const { value, grads } = this.gradients();
      optimizer = countDispatches(() => this.optimizer.applyGradients(grads));
      tf.dispose([value, grads]);
    });
    return { all, optimizer };
  }

  private gradients(): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    return tf.variableGrads(() => this.task.loss(this.model, this.batch), this.variables);
  }

  /** A scalar that depends on the last update, for the fence. */
  probe(): tf.Tensor {
    return tf.sum(this.variables[0] as tf.Variable);
  }

  muonMatrices(): (readonly [number, number])[] {
    const routing = (this.optimizer as Partial<{ describeRouting(): RoutingRow[] }>).describeRouting?.() ?? [];
    return routing.flatMap((row) => (row.optimizer === 'muon' && row.matrix !== undefined ? [row.matrix] : []));
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** Newton–Schulz of `shapes` (random matrices) with Muon's default kernel: median ms per call and dispatches of one. */
async function timeNewtonSchulz(shapes: readonly (readonly [number, number])[], config: GpuBenchConfig): Promise<{ ms: number; dispatches: number }> {
  const matrices = shapes.map(([rows, cols], k) => tf.randomNormal([rows, cols], 0, 1, 'float32', SEED + k) as tf.Tensor2D);
  const orthogonalize = fastestOrthogonalizer();
  const call = (): void => tf.dispose(orthogonalize(matrices, SCHEDULE));
  const probe = (): tf.Tensor => tf.sum(orthogonalize(matrices.slice(0, 1), SCHEDULE)[0] as tf.Tensor2D);
  try {
    await timeQueued(Math.max(1, config.warmupSteps), call, () => tf.tidy(probe));
    const dispatches = countDispatches(call);
    const runs: number[] = [];
    for (let r = 0; r < config.runs; r++) runs.push(await timeQueued(config.stepsPerRun, call, () => tf.tidy(probe)));
    return { ms: median(runs), dispatches };
  } finally {
    tf.dispose(matrices);
  }
}

async function timeModel(model: GpuBenchModel, config: GpuBenchConfig): Promise<ModelTiming> {
  const task = syntheticTask(model, config.vocabSize);
  const batch = task.epochBatches(createRandom(SEED))[Symbol.iterator]().next().value as Batch;
  const trainers = (['muon', 'adamw'] as const).map((kind) => new FixedBatchTrainer(task, kind, batch));
  try {
    for (const trainer of trainers) await timeQueued(Math.max(1, config.warmupSteps), () => trainer.step(), () => trainer.probe());
    const counts = trainers.map((trainer) => trainer.countedStep());
    const runs: number[][] = trainers.map(() => []);
    // Runs alternate between the optimizers, so a change in the machine's load hits both alike.
    for (let r = 0; r < config.runs; r++) {
      for (const [i, trainer] of trainers.entries()) runs[i]?.push(await timeQueued(config.stepsPerRun, () => trainer.step(), () => trainer.probe()));
    }
    const optimizers = trainers.map((trainer, i): OptimizerTiming => ({
      optimizer: trainer.kind,
      stepMs: median(runs[i] ?? []),
      runsMs: runs[i] ?? [],
      dispatchesPerStep: counts[i]?.all ?? 0,
      optimizerDispatchesPerStep: counts[i]?.optimizer ?? 0,
    }));
    const muonMatrices = trainers[0]?.muonMatrices() ?? [];
    const newtonSchulz = muonMatrices.length === 0 ? { ms: 0, dispatches: 0 } : await timeNewtonSchulz(muonMatrices, config);
    const [muon, adamw] = optimizers;
    return {
      model, summary: task.modelSummary, batchSize: task.batchSize, muonMatrices, optimizers,
      muonVsAdamW: (muon?.stepMs ?? Number.NaN) / (adamw?.stepMs ?? Number.NaN),
      newtonSchulzMs: newtonSchulz.ms, newtonSchulzDispatches: newtonSchulz.dispatches,
    };
  } finally {
    for (const trainer of trainers) trainer.dispose();
    tf.dispose([batch.x, batch.y]);
  }
}

async function newtonSchulzMicro([rows, cols]: readonly [number, number], config: GpuBenchConfig): Promise<NewtonSchulzMicro> {
  const plan = planOrthogonalization(rows, cols, SCHEDULE, GENERAL_MATMUL_CAPABILITIES);
  const { ms, dispatches } = await timeNewtonSchulz([[rows, cols]], config);
  const m = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  const a = tf.randomNormal([m, n], 0, 1, 'float32', SEED) as tf.Tensor2D;
  try {
    const product = (): void => tf.matMul(a, a, false, true).dispose();
    const probe = (): tf.Tensor => tf.tidy(() => tf.sum(tf.matMul(tf.slice(a, [0, 0], [1, n]), a, false, true)));
    await timeQueued(Math.max(1, config.warmupSteps), product, probe);
    const runs: number[] = [];
    for (let r = 0; r < config.runs; r++) runs.push(await timeQueued(config.stepsPerRun, product, probe));
    const matmulMs = median(runs);
    const gflops = plan.flops / ms / 1e6;
    const matmulGflops = (2 * m * n * m) / matmulMs / 1e6;
    return { shape: [rows, cols], flops: plan.flops, algorithm: plan.algorithm, ms, gflops, dispatches, matmulMs, matmulGflops, rateVsMatmul: gflops / matmulGflops };
  } finally {
    a.dispose();
  }
}

/** Runs the configured measurements on the current backend, which `adapter` describes. */
export async function runGpuBench(config: GpuBenchConfig, adapter: AdapterDescription): Promise<GpuBenchResult> {
  const errors: { what: string; error: string }[] = [];
  const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
  const models: ModelTiming[] = [];
  for (const model of config.models) {
    try {
      models.push(await timeModel(model, config));
    } catch (error) {
      errors.push({ what: model, error: message(error) });
    }
  }
  let newtonSchulz: NewtonSchulzMicro | null = null;
  if (config.newtonSchulzShape !== null) {
    try {
      newtonSchulz = await newtonSchulzMicro(config.newtonSchulzShape, config);
    } catch (error) {
      errors.push({ what: `newton-schulz ${config.newtonSchulzShape.join('×')}`, error: message(error) });
    }
  }
  return { backend: tf.getBackend(), adapter, orthogonalizer: describeFastestOrthogonalizer(), dispatchUnit: dispatchUnit(), models, newtonSchulz, errors };
}

/** Names that mark a CPU standing in for a GPU. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render/i;

/** The WebGPU adapter `navigator.gpu` gives (the one tfjs-backend-webgpu asks for), in its own words. */
export async function describeWebGpuAdapter(gpu: GPU): Promise<AdapterDescription> {
  const adapter = await gpu.requestAdapter();
  if (adapter === null) return { name: 'no adapter', software: true };
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture, info.device, info.description].filter((part) => part !== '').join(' / ') || 'unnamed adapter';
  return { name, software: info.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(name), shaderF16: adapter.features.has('shader-f16') };
}

/** The webgl backend's context, seen structurally (the library does not depend on tfjs-backend-webgl). */
interface WebGlBackendView {
  readonly gpgpu?: { readonly gl?: WebGLRenderingContext | WebGL2RenderingContext };
}

/** The WebGL renderer (the unmasked one where the browser gives it) of the current webgl backend. */
export function describeWebGlRenderer(): AdapterDescription {
  const gl = (tf.backend() as unknown as WebGlBackendView).gpgpu?.gl;
  if (gl === undefined) return { name: 'no WebGL context', software: true };
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug === null ? gl.RENDERER : debug.UNMASKED_RENDERER_WEBGL));
  const vendor = String(gl.getParameter(debug === null ? gl.VENDOR : debug.UNMASKED_VENDOR_WEBGL));
  const name = `${vendor} / ${renderer}`;
  return { name, software: SOFTWARE_ADAPTER.test(name) };
}
