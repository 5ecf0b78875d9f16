import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { muon } from '../adapter/optimizers.js';
import { muonWithAdamW } from '../adapter/MuonWithAdamWOptimizer.js';
import { composedPolynomial, resolveCoefficients } from '../math/coefficients.js';
import { matrixShape } from '../math/matrixView.js';
import { useBackend } from '../testing/backends.js';
import { countSyncReads } from '../testing/syncReadCounter.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { spectrumOf } from './spectrumOf.js';
import { type SpectrumRecord, spectrumTracker } from './spectrumTracker.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const BETA = 0.9;
const EVERY = 3;

/** A seeded classifier and its data; the hybrid sends the two hidden kernels to Muon. */
function setup(): { model: tfl.LayersModel; xs: tf.Tensor; ys: tf.Tensor; optimizer: ReturnType<typeof muonWithAdamW> } {
  const xs = tf.randomNormal([96, 10], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([10, 3], 0, 1, 'float32', 2)), 1), 3);
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [10], units: 24, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      tfl.layers.dense({ units: 16, activation: 'tanh', kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }) }),
    ],
  });
  const optimizer = muonWithAdamW(model, {
    muon: { learningRate: 0.05, momentum: BETA, nesterov: true, weightDecay: 0.01, coefficients: 'jordan' },
    adamw: { learningRate: 3e-3 },
  });
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return { model, xs, ys, optimizer };
}

/** Float64 copy of a float32 tensor (exact). */
const f64 = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());

describe('spectrumTracker', () => {
  it('on a real model.fit, reports the spectra of the momentum slot, the recomputed Nesterov input, the NS output and ΔW', async () => {
    const { model, xs, ys, optimizer } = setup();
    const lines: string[] = [];
    const tracker = spectrumTracker(optimizer, { every: EVERY, write: (line) => lines.push(line), singularValues: true, exactPolar: true });
    // An independent observer: after every batch, the momentum slots and the weights as tfjs holds them.
    const slots: Record<string, Float64Array>[] = [];
    const weights: Record<string, Float64Array>[] = [];
    const observe = async (): Promise<void> => {
      const named = await optimizer.getWeights();
      slots.push(Object.fromEntries(named.filter((w) => w.name.endsWith('/momentum')).map((w) => [w.name.slice(0, -'/momentum'.length), f64(w.tensor)])));
      weights.push(Object.fromEntries(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, f64(w.read())])));
      named[0]?.tensor.dispose(); // `iter` is a fresh scalar; the slots are live state
    };
    await observe(); // before step 1
    await model.fit(xs, ys, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0, callbacks: [tracker, { onBatchEnd: observe }] });

    const muonVariables = optimizer.describeRouting().filter((r) => r.optimizer === 'muon').map((r) => r.variable);
    expect(muonVariables).toHaveLength(2);
    // 96 / 16 = 6 steps, tracked at 3 and 6: one line per Muon matrix and tracked step.
    expect(lines).toHaveLength(2 * muonVariables.length);
    expect(tracker.trackedSteps).toBe(2);
    const records = lines.map((l) => JSON.parse(l) as SpectrumRecord);
    expect(records).toEqual(tracker.records);
    expect(records.map((r) => r.step)).toEqual([3, 3, 6, 6]);
    expect(tracker.seconds).toBeGreaterThan(0);

    const schedule = resolveCoefficients('jordan', 5);
    for (const record of records) {
      const { step, variable, shape } = record;
      const after = slots[step] as Record<string, Float64Array>;
      const previous = slots[step - 1] as Record<string, Float64Array>;
      const m = after[variable] as Float64Array;
      expect(shape).toEqual([matrixShape(model.trainableWeights.find((w) => (w.read() as tf.Variable).name === variable)?.shape as number[]).fanIn, shape[1]]);
      const [rows, cols] = shape;
      // The momentum tap is the slot itself: the same float32 values, so the same float64 spectrum.
      const reference = spectrumOf({ rows, cols, data: m });
      expect(record.momentum.q50).toBeCloseTo(reference.quantiles.q50, 12);
      expect(record.momentum.q90).toBeCloseTo(reference.quantiles.q90, 12);
      expect(record.momentum.stableRank).toBeCloseTo(reference.stableRank, 10);
      // The Nesterov input (1−β)g + βm_t = (1+β)m_t − βm_{t−1}, recomputed in float64 from the slots.
      // The optimizer forms it in float32 from g; the cancellation in m_t − βm_{t−1} = (1−β)g amplifies
      // float32 round-off (6e-8) by about ‖m‖/‖(1−β)g‖ ≲ 1/(1−β) = 10, so 1e-5 relative has room.
      const lookAhead = m.map((x, i) => (1 + BETA) * x - BETA * (previous[variable]?.[i] as number));
      const input = spectrumOf({ rows, cols, data: lookAhead });
      for (const q of ['q10', 'q25', 'q50', 'q75', 'q90'] as const) {
        expect(Math.abs(record.newtonSchulzInput[q] - input.quantiles[q]) / input.quantiles[q]).toBeLessThan(1e-5);
      }
      // NS output: its σ are p(σ_in) for the composed jordan polynomial p (float64 reference). Five
      // float32 iterations with slopes up to a = 3.4 turn ~1e-6 of round-off into at most ~5e-4.
      const mapped = Array.from(input.singularValues, (s) => composedPolynomial(schedule, s)).sort((a, b) => b - a);
      const sigma = record.newtonSchulzOutput.singularValues as number[];
      sigma.forEach((s, i) => expect(Math.abs(s - (mapped[i] as number))).toBeLessThan(2e-3));
      expect(record.newtonSchulzOutput.max).toBe(sigma[0]);
      expect(record.newtonSchulzOutput.min).toBe(sigma[sigma.length - 1]);
      const deviation = Math.sqrt(mapped.reduce((a, s) => a + (s - 1) ** 2, 0) / mapped.length);
      expect(Math.abs(record.newtonSchulzOutput.polarDistance - deviation)).toBeLessThan(2e-3);
      // jordan's σ ↦ [0.68, 1.13] keeps a visible distance to the polar factor; the float64-SVD
      // distance agrees with the one from O's own spectrum (singular vectors are kept by NS).
      expect(record.newtonSchulzOutput.polarDistance).toBeGreaterThan(0.01);
      expect(Math.abs((record.newtonSchulzOutput.exactPolarDistance as number) - record.newtonSchulzOutput.polarDistance)).toBeLessThan(5e-3);
      // ΔW of the step, from the weights read before and after it (float32 subtraction: 1e-6 relative).
      const w1 = (weights[step] as Record<string, Float64Array>)[variable] as Float64Array;
      const w0 = (weights[step - 1] as Record<string, Float64Array>)[variable] as Float64Array;
      const rms = Math.sqrt(w1.reduce((a, x, i) => a + (x - (w0[i] as number)) ** 2, 0) / w1.length);
      expect(Math.abs(record.updateRms - rms) / rms).toBeLessThan(1e-5);
    }
    // onTrainEnd stopped it: a later step adds nothing.
    optimizer.applyGradients(Object.fromEntries(model.trainableWeights.map((w) => [(w.read() as tf.Variable).name, tf.onesLike(w.read())])));
    expect(tracker.records).toHaveLength(4);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('in a custom loop: no work on untracked steps, no tensor left behind on tracked ones', () => {
    const { model, optimizer } = setup();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.randomNormal([16, 10], 0, 1, 'float32', 9);
    const tracker = spectrumTracker(optimizer, { every: 2 });
    tracker.start();
    tracker.start(); // idempotent
    const loss = (): tf.Scalar => tf.mean(tf.square(model.apply(x) as tf.Tensor)) as tf.Scalar;
    optimizer.minimize(loss, false, variables); // step 1 creates the slots
    const before = tf.memory().numTensors;
    optimizer.minimize(loss, false, variables); // step 2: tracked
    expect(tf.memory().numTensors).toBe(before);
    expect(tracker.records.map((r) => r.step)).toEqual([2, 2]);
    const seconds = tracker.seconds;
    optimizer.minimize(loss, false, variables); // step 3: untracked, the tracker does nothing
    expect(tracker.seconds).toBe(seconds);
    tracker.stop();
    optimizer.minimize(loss, false, variables); // step 4 would be tracked, but it is stopped
    expect(tracker.records).toHaveLength(2);
    x.dispose();
    model.dispose();
  });

  it('skips a matrix that is still zero instead of aborting the step', () => {
    const { model, optimizer } = setup();
    const tracker = spectrumTracker(optimizer, { every: 1 });
    tracker.start();
    // Zero gradients: the momentum and the Nesterov input stay 0, so M/‖M‖_F is undefined.
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const zeros = Object.fromEntries(weights.map((w) => [w.name, tf.zerosLike(w)]));
    expect(() => optimizer.applyGradients(zeros)).not.toThrow();
    expect(tracker.records).toHaveLength(0);
    tf.dispose(Object.values(zeros));
    tracker.stop();
    model.dispose();
  });

  it('refuses a bad interval or sink, naming the option', () => {
    const { optimizer } = setup();
    expect(() => spectrumTracker(optimizer, { every: 0 })).toThrow(/options\.every must be a positive integer, got 0/);
    expect(() => spectrumTracker(optimizer, { every: 2.5 })).toThrow(/options\.every/);
    expect(() => spectrumTracker(optimizer, { write: 'log.jsonl' as unknown as (line: string) => void })).toThrow(/options\.write must be a function/);
  });
});

describe('spectrumTracker on webgpu', () => {
  reportWebGpuSkipped(it);

  it.runIf(WEBGPU_MISSING === undefined)('reads nothing back synchronously, and delivers the records cpu makes once their reads arrive', async () => {
    // Muon alone on two kernels, the same weights and gradients on both backends (made from arrays
    // on each, so no tensor moves between backends), tracked every 2 steps for 5 steps. The
    // momentum is elementwise float32 arithmetic and Newton–Schulz float32 products of 16×8 and
    // 8×12 matrices: every statistic agrees with cpu's to 1e-4, relative (absolute below 1e-3).
    const shapes = [[16, 8], [8, 12]] as const;
    const initial = shapes.map(([m, n], i) => tf.randomNormal([m, n], 0, 0.3, 'float32', 40 + i).arraySync() as number[][]);
    const gradients = Array.from({ length: 5 }, (_, step) => shapes.map(([m, n], i) => tf.randomNormal([m, n], 0, 1, 'float32', 50 + 2 * step + i).arraySync() as number[][]));
    const track = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      const weights = initial.map((values, i) => tf.variable(tf.tensor2d(values), true, `tracked_${i}_${backend}`));
      const optimizer = muon({ learningRate: 0.02, coefficients: 'jordan' });
      const tracker = spectrumTracker(optimizer, { every: 2 });
      tracker.start();
      const step = (k: number): void => {
        const grads = Object.fromEntries(weights.map((w, i) => [w.name, tf.tensor2d(gradients[k]?.[i] as number[][])]));
        optimizer.applyGradients(grads);
        tf.dispose(Object.values(grads));
      };
      // Step 1 (untracked) outside the count: the adapter probes the backend's float precision once.
      step(0);
      const reads = await countSyncReads(() => [1, 2, 3, 4].forEach(step));
      await tracker.whenRecorded();
      tracker.stop();
      tf.dispose(weights);
      optimizer.dispose();
      return { reads, records: tracker.records.map((r) => ({ ...r, variable: r.variable.replace(`_${backend}`, '') })) };
    };
    const cpu = await track('cpu');
    const gpu = await track('webgpu');
    await useBackend('cpu');
    expect(gpu.reads).toBe(0);
    expect(cpu.records.map((r) => [r.step, r.variable])).toEqual([[2, 'tracked_0'], [2, 'tracked_1'], [4, 'tracked_0'], [4, 'tracked_1']]);
    expect(gpu.records.map((r) => [r.step, r.variable, r.shape])).toEqual(cpu.records.map((r) => [r.step, r.variable, r.shape]));
    const close = (actual: number, expected: number, what: string): void => {
      expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThan(1e-4 * Math.max(Math.abs(expected), 10));
    };
    gpu.records.forEach((record, i) => {
      const expected = cpu.records[i] as SpectrumRecord;
      for (const part of ['momentum', 'newtonSchulzInput'] as const) {
        for (const stat of ['q10', 'q50', 'q90', 'max', 'min', 'stableRank', 'topEnergy'] as const) close(record[part][stat], expected[part][stat], `${i} ${part}.${stat}`);
      }
      for (const stat of ['min', 'median', 'max', 'polarDistance'] as const) close(record.newtonSchulzOutput[stat], expected.newtonSchulzOutput[stat], `${i} output.${stat}`);
      close(record.updateRms, expected.updateRms, `${i} updateRms`);
    });
  });
});
