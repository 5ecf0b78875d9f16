import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLOAT32_CPU } from './createOptimizer.js';
import { createPlaygroundTask } from './playgroundTask.js';
import { DEFAULT_STATE, type PlaygroundState } from './playgroundState.js';
import { SideBySideTrainer } from './sideBySideTrainer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('SideBySideTrainer', () => {
  it('starts every optimizer from the same weights and lowers every loss on the toy task', async () => {
    const state: PlaygroundState = { ...DEFAULT_STATE, dataset: 'xor', steps: 120 };
    const trainer = new SideBySideTrainer(createPlaygroundTask(state, {}).task, state, FLOAT32_CPU);
    const first = trainer.runs.map((r) => r.model.getWeights().map((w) => Array.from(w.dataSync())));
    expect(first[1]).toEqual(first[0]);
    expect(first[2]).toEqual(first[0]);
    await trainer.trainStep(state);
    // Optimizer state is created on the first step; after it, steps must not leak tensors.
    const before = tf.memory().numTensors;
    let spectra;
    for (let s = 1; s < state.steps; s++) {
      spectra = await trainer.trainStep(state, s % 30 === 29 ? { layer: 'hidden2/kernel', preset: 'jordan', nsSteps: 5 } : undefined);
    }
    // The same batch reaches every model: their first losses (same weights) are identical.
    expect(trainer.runs[1]?.losses[0]).toBe(trainer.runs[0]?.losses[0]);
    for (const run of trainer.runs) {
      // Mean of the last 10 batch losses clearly below the first 10 (ln 2 ≈ 0.69 at the start).
      expect(mean(run.losses.slice(-10))).toBeLessThan(0.9 * mean(run.losses.slice(0, 10)));
      expect(run.heldOut.length).toBe(4);
    }
    expect(spectra?.momentum?.singularValues.length).toBe(32);
    // Jordan's quintic maps every normalized σ into about [0.68, 1.13] after 5 steps (README): the
    // NS output is nearly flat, its top direction holds far less energy than the momentum's.
    expect(spectra?.orthogonalized?.topEnergy).toBeLessThan(spectra?.momentum?.topEnergy as number);
    expect(spectra?.updates.adamw?.singularValues.length).toBe(32);
    expect(trainer.matrixWeights()).toEqual(['hidden1/kernel', 'hidden2/kernel']);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });
});
