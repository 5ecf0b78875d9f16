import * as tf from '@tensorflow/tfjs-core';
import { muonWithAdamW } from 'muon-tfjs';
import { type SpectrumRecord, spectrumTracker } from 'muon-tfjs/diagnostics';
import { initializeWeights, createRandom, deriveSeed } from 'muon-tfjs-tasks';
import { createTask } from 'muon-tfjs-tasks/catalog';
import { layerRole, type LayerRole } from './layerRole.js';

/** One transformer to train and track. */
export interface SpectrumRunConfig {
  readonly width: number;
  readonly depth: number;
  /** Training steps. */
  readonly steps: number;
  /** Tracked steps ≤ burnIn are shown in the plots but left out of the stabilized values. */
  readonly burnIn: number;
  /** Track every this many steps. */
  readonly every: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly sequenceLength: number;
}

/** The five quantiles of one tracked step. */
export type Quantiles = Record<'q10' | 'q25' | 'q50' | 'q75' | 'q90', number>;
export const QUANTILE_KEYS = ['q10', 'q25', 'q50', 'q75', 'q90'] as const;

/** One Muon matrix over a run. */
export interface LayerTrace extends LayerRole {
  readonly variable: string;
  readonly shape: readonly [number, number];
  /** Tracked steps and the momentum quantiles (σ of M/‖M‖_F, the paper's quantity) at each. */
  readonly steps: number[];
  readonly momentum: Quantiles[];
  /** Mean of each momentum quantile over the tracked steps after the burn-in. */
  readonly stabilized: Quantiles;
  /** Mean top energy σ₁² after the burn-in (the paper's spike measure). */
  readonly topEnergy: number;
  /** Newton–Schulz output's min and max σ and distance to the polar factor, after the burn-in (means). */
  readonly output: { readonly min: number; readonly max: number; readonly polarDistance: number };
  /** At the last tracked step: σ of the normalized NS input, and σ of the NS output, for histograms. */
  readonly lastInputSigma: number[];
  readonly lastOutputSigma: number[];
}

/** What one configuration measured. */
export interface SpectrumRunResult {
  readonly config: SpectrumRunConfig;
  readonly heads: number;
  /** Trainable parameters of the model (M in σ_q ∝ M^(−α)). */
  readonly parameters: number;
  /** Training loss at every step. */
  readonly losses: number[];
  /** Wall seconds of the training steps, tracker included, and the tracker's share of them. */
  readonly trainSeconds: number;
  readonly trackerSeconds: number;
  readonly layers: LayerTrace[];
}

/** The optimizer of every run: the paper's learning rates (Muon 0.01, AdamW 0.002, betas (0.9, 0.95), wd 0.01), constant. */
export const SPECTRUM_OPTIMIZER = {
  muon: { learningRate: 0.01, momentum: 0.95, nesterov: true, weightDecay: 0.01 },
  adamw: { learningRate: 0.002, beta1: 0.9, beta2: 0.95, weightDecay: 0.01 },
} as const;

const mean = (values: readonly number[]): number => values.reduce((a, v) => a + v, 0) / values.length;

function trace(role: LayerRole, records: readonly SpectrumRecord[], burnIn: number): LayerTrace {
  const first = records[0] as SpectrumRecord;
  const last = records[records.length - 1] as SpectrumRecord;
  // With no tracked step past the burn-in, the last one stands in (said in the report).
  const settled = records.filter((r) => r.step > burnIn);
  const window = settled.length > 0 ? settled : [last];
  const quantiles = (r: SpectrumRecord): Quantiles => Object.fromEntries(QUANTILE_KEYS.map((q) => [q, r.momentum[q]])) as Quantiles;
  return {
    ...role,
    variable: first.variable,
    shape: first.shape,
    steps: records.map((r) => r.step),
    momentum: records.map(quantiles),
    stabilized: Object.fromEntries(QUANTILE_KEYS.map((q) => [q, mean(window.map((r) => r.momentum[q]))])) as Quantiles,
    topEnergy: mean(window.map((r) => r.momentum.topEnergy)),
    output: {
      min: mean(window.map((r) => r.newtonSchulzOutput.min)),
      max: mean(window.map((r) => r.newtonSchulzOutput.max)),
      polarDistance: mean(window.map((r) => r.newtonSchulzOutput.polarDistance)),
    },
    lastInputSigma: last.newtonSchulzInput.singularValues ?? [],
    lastOutputSigma: last.newtonSchulzOutput.singularValues ?? [],
  };
}

/**
 * Trains the benchmark's character transformer (Moby Dick) at one width and depth with the Muon +
 * AdamW hybrid, tracking every Muon matrix with `spectrumTracker` every `every` steps. Heads are
 * width/32 (head width 32, at least one head), the MLP is 4× wide; weights and batches depend only
 * on the seed.
 */
export function spectrumRun(config: SpectrumRunConfig, onStep?: (step: number, loss: number) => void): SpectrumRunResult {
  const { width, depth, steps, every, seed, batchSize, sequenceLength } = config;
  const heads = Math.max(1, Math.floor(width / 32));
  const task = createTask('transformer', {
    textStepsPerEpoch: steps,
    textEvaluationWindows: 1,
    textBatchSize: batchSize,
    transformer: { sequenceLength, width, heads, layers: depth, mlpWidth: 4 * width },
  });
  const model = task.buildModel();
  initializeWeights(model, deriveSeed(seed, 'init'));
  const optimizer = muonWithAdamW(model, SPECTRUM_OPTIMIZER);
  const tracker = spectrumTracker(optimizer, { every, singularValues: true });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses: number[] = [];
  let trainSeconds = 0;
  tracker.start();
  try {
    for (const batch of task.epochBatches(createRandom(deriveSeed(seed, 'batches')))) {
      const start = performance.now();
      const { value, grads } = tf.variableGrads(() => task.loss(model, batch), variables);
      const loss = value.dataSync()[0] as number;
      tf.dispose([value, batch.x, batch.y]);
      if (!Number.isFinite(loss)) {
        tf.dispose(grads);
        throw new Error(`spectrum: the width ${width}, depth ${depth} model diverged at step ${losses.length + 1} (loss ${loss})`);
      }
      optimizer.applyGradients(grads);
      tf.dispose(grads);
      trainSeconds += (performance.now() - start) / 1000;
      losses.push(loss);
      onStep?.(losses.length, loss);
    }
    const byVariable = new Map<string, SpectrumRecord[]>();
    for (const r of tracker.records) byVariable.set(r.variable, [...(byVariable.get(r.variable) ?? []), r]);
    const layers: LayerTrace[] = [];
    for (const [variable, records] of byVariable) {
      const role = layerRole(variable);
      if (role !== undefined) layers.push(trace(role, records, config.burnIn));
    }
    return { config, heads, parameters: model.countParams(), losses, trainSeconds, trackerSeconds: tracker.seconds, layers };
  } finally {
    tracker.stop();
    optimizer.dispose();
    model.dispose();
  }
}
