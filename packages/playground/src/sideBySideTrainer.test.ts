import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FLOAT32_CPU } from './createOptimizer.js';
import { createPlaygroundTask } from './playgroundTask.js';
import { DEFAULT_STATE, type PlaygroundState } from './playgroundState.js';
import { SideBySideTrainer, type LayerSpectra } from './sideBySideTrainer.js';

// The playground runs in a browser, where the native addon does not exist: its TF.js kernels are
// what these tests pin down (the addon's fused step reads its operands on the host, by design).
(globalThis as { process: { env: Record<string, string | undefined> } }).process.env.MUON_TFJS_DISABLE_NATIVE = '1';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const VIEW = { layer: 'hidden2/kernel', preset: 'jordan', nsSteps: 5 } as const;
/** Decides the optimizers' all-or-nothing check on the device, as they do on WebGL/WebGPU ('auto'): no read in the step. */
function guardOnDevice(trainer: SideBySideTrainer): SideBySideTrainer {
  for (const run of trainer.runs) run.optimizer.optimizer.finiteGuard = 'device';
  return trainer;
}

describe('SideBySideTrainer', () => {
  it('starts every optimizer from the same weights and lowers every loss on the toy task', async () => {
    const state: PlaygroundState = { ...DEFAULT_STATE, dataset: 'xor', steps: 120 };
    const trainer = new SideBySideTrainer(createPlaygroundTask(state, {}).task, state, FLOAT32_CPU);
    const first = trainer.runs.map((r) => r.model.getWeights().map((w) => Array.from(w.dataSync())));
    expect(first[1]).toEqual(first[0]);
    expect(first[2]).toEqual(first[0]);
    trainer.trainStep(state);
    await trainer.readBack();
    // Optimizer state is created on the first step; after it, steps and read-backs must not leak tensors.
    const before = tf.memory().numTensors;
    const spectra: LayerSpectra[] = [];
    for (let s = 1; s < state.steps; s++) {
      trainer.trainStep(state, s % 30 === 29 ? VIEW : undefined);
      if (s % 7 === 0) spectra.push(...(await trainer.readBack()));
    }
    spectra.push(...(await trainer.readBack()));
    // The same batch reaches every model: their first losses (same weights) are identical.
    expect(trainer.runs[1]?.losses[0]).toBe(trainer.runs[0]?.losses[0]);
    for (const run of trainer.runs) {
      expect(run.losses.length).toBe(state.steps);
      // Mean of the last 10 batch losses clearly below the first 10 (ln 2 ≈ 0.69 at the start).
      expect(mean(run.losses.slice(-10))).toBeLessThan(0.9 * mean(run.losses.slice(0, 10)));
      expect(run.heldOut.map(([step]) => step)).toEqual([25, 50, 75, 100]);
      expect(run.divergence).toBeUndefined();
    }
    expect(spectra.map((s) => s.step)).toEqual([30, 60, 90, 120]);
    const last = spectra.at(-1);
    expect(last?.momentum?.singularValues.length).toBe(32);
    // Jordan's quintic maps every normalized σ into about [0.68, 1.13] after 5 steps (README): the
    // NS output is nearly flat, its top direction holds far less energy than the momentum's.
    expect(last?.orthogonalized?.topEnergy).toBeLessThan(last?.momentum?.topEnergy as number);
    expect(last?.updates.adamw?.singularValues.length).toBe(32);
    expect(last?.updates.lion?.singularValues.length).toBe(32);
    expect(trainer.matrixWeights()).toEqual(['hidden1/kernel', 'hidden2/kernel']);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('trains Dion2 beside Muon from the same weights, and records its update: a quarter of the layer orthogonalized', async () => {
    const state: PlaygroundState = { ...DEFAULT_STATE, dataset: 'xor', steps: 60, optimizers: ['muon', 'dion2'] };
    const trainer = new SideBySideTrainer(createPlaygroundTask(state, {}).task, state, FLOAT32_CPU);
    trainer.trainStep(state);
    await trainer.readBack();
    const before = tf.memory().numTensors;
    const spectra: LayerSpectra[] = [];
    for (let s = 1; s < state.steps; s++) trainer.trainStep(state, s % 20 === 19 ? VIEW : undefined);
    spectra.push(...(await trainer.readBack()));
    const [muon, dion2] = trainer.runs;
    expect(dion2?.losses[0]).toBe(muon?.losses[0]);
    expect(dion2?.losses.length).toBe(state.steps);
    expect(mean(dion2?.losses.slice(-10) ?? [])).toBeLessThan(0.9 * mean(dion2?.losses.slice(0, 10) ?? []));
    expect(dion2?.divergence).toBeUndefined();
    expect(spectra.map((s) => s.step)).toEqual([20, 40, 60]);
    for (const { updates } of spectra) {
      // hidden2/kernel is 32×32: Dion2 orthogonalizes the 8 (¼) slices of largest momentum, so 8
      // singular values of its update are near one size; the other 24 are its weight decay
      // lr·wd·W alone, about a hundredth as large (wd 0.01, σ(W) about 1).
      const sigma = updates.dion2?.singularValues ?? new Float64Array();
      expect(sigma.length).toBe(32);
      expect((sigma[7] as number) / (sigma[0] as number)).toBeGreaterThan(0.5);
      expect((sigma[8] as number) / (sigma[0] as number)).toBeLessThan(0.05);
    }
    // The spectra view's layers are still those Muon orthogonalizes.
    expect(trainer.matrixWeights()).toEqual(['hidden1/kernel', 'hidden2/kernel']);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('reads nothing synchronously in a step, an evaluation or a spectrum', async () => {
    const state: PlaygroundState = { ...DEFAULT_STATE, steps: 30 };
    const trainer = new SideBySideTrainer(createPlaygroundTask(state, {}).task, state, FLOAT32_CPU, 10);
    // The trainer's own reads only: the optimizers' device guard reads its flags with the library's
    // readOnHost, synchronously on cpu by design (the library's webgpu suites count its reads there).
    for (const run of trainer.runs) run.optimizer.optimizer.checkFinite = false;
    trainer.trainStep(state, VIEW);
    await trainer.readBack();
    // Engine.readSync is where dataSync, arraySync and bufferSync reach the backend.
    const syncReads = vi.spyOn(tf.engine(), 'readSync');
    for (let s = 1; s < state.steps; s++) trainer.trainStep(state, s % 5 === 0 ? VIEW : undefined);
    const spectra = await trainer.readBack();
    expect(syncReads).not.toHaveBeenCalled();
    expect(spectra.map((s) => s.step)).toEqual([6, 11, 16, 21, 26]);
    expect(trainer.runs.map((r) => r.heldOut.length)).toEqual([3, 3, 3]);
    trainer.dispose();
  });

  it('marks a run whose loss turns non-finite as diverged with advice, and trains the others on', async () => {
    const state: PlaygroundState = { ...DEFAULT_STATE, dataset: 'xor', steps: 40, settings: { ...DEFAULT_STATE.settings, lion: { lr: 1e30, schedule: 'constant' } } };
    for (const guard of ['host', 'device'] as const) {
      const trainer = new SideBySideTrainer(createPlaygroundTask(state, {}).task, state, FLOAT32_CPU);
      if (guard === 'device') guardOnDevice(trainer);
      for (let s = 0; s < state.steps; s++) {
        trainer.trainStep(state);
        await trainer.readBack();
      }
      const [muon, adamw, lion] = trainer.runs;
      // Lion's first step moves every weight by ±1e30, so the next forward pass overflows: its loss
      // reads NaN, and the optimizer refuses that step's NaN gradient (at once on the host, on a
      // later step on the device).
      expect(lion?.divergence, guard).toBe('Lion diverged: lower its learning rate');
      expect(lion?.losses.length).toBeLessThan(state.steps);
      for (const run of [muon, adamw]) {
        expect(run?.divergence).toBeUndefined();
        expect(run?.losses.length).toBe(state.steps);
        expect(run?.losses.every(Number.isFinite)).toBe(true);
      }
      expect(trainer.training).toBe(true);
      trainer.dispose();
    }
  });
});
