import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveCoefficients } from '../math/coefficients.js';
import { type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { newtonSchulzEach, type Orthogonalizer } from '../math/orthogonalizer.js';
import { useBackend } from '../testing/backends.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { muon } from './optimizers.js';

// Count every resolution of Newton–Schulz settings, wherever it happens (this file runs in its own
// process: vitest forks per file).
vi.mock(import('../math/newtonSchulzSchedule.js'), async (original) => {
  const actual = await original();
  return { ...actual, resolveNewtonSchulz: vi.fn(actual.resolveNewtonSchulz) };
});
vi.mock(import('../math/coefficients.js'), async (original) => {
  const actual = await original();
  return { ...actual, resolveCoefficients: vi.fn(actual.resolveCoefficients) };
});

describe('the Newton–Schulz schedule is resolved once, at construction', () => {
  beforeAll(() => useBackend('cpu'));

  it('counts resolutions (the library sees the counting mocks)', () => {
    expect(vi.isMockFunction(resolveNewtonSchulz) && vi.isMockFunction(resolveCoefficients)).toBe(true);
    vi.mocked(resolveNewtonSchulz).mockClear();
    vi.mocked(resolveCoefficients).mockClear();
    muon({ nsSteps: 7 });
    expect(resolveNewtonSchulz).toHaveBeenCalledWith({ coefficients: 'jordan', eps: 1e-7, precision: 'float32', steps: 7 });
    expect(resolveCoefficients).toHaveBeenCalledWith('jordan', 7);
  });

  it.each([
    ['muon, recording kernel', false],
    ['muon, default kernel (fastestOrthogonalizer)', true],
  ] as const)('%s: one resolution, then the same frozen schedule at every one of 3 steps', (_, defaultKernel) => {
    const seen: NewtonSchulzSchedule[] = [];
    const recording: Orthogonalizer = (matrices, schedule) => {
      seen.push(schedule);
      return newtonSchulzEach(matrices, schedule);
    };
    const w = tf.variable(tf.randomNormal([24, 40], 0, 1, 'float32', 1), true, `resolved_once_${String(defaultKernel)}`);
    vi.mocked(resolveNewtonSchulz).mockClear();
    vi.mocked(resolveCoefficients).mockClear();
    const optimizer = muon({ coefficients: 'polarExpress5', ...(defaultKernel ? {} : { execution: { orthogonalize: recording } }) });
    expect(resolveNewtonSchulz).toHaveBeenCalledTimes(1);
    expect(resolveCoefficients).toHaveBeenCalledTimes(1);
    for (let step = 0; step < 3; step++) optimizer.applyGradients({ [w.name]: tf.randomNormal([24, 40], 0, 1, 'float32', 10 + step) });
    expect(resolveNewtonSchulz).toHaveBeenCalledTimes(1);
    expect(resolveCoefficients).toHaveBeenCalledTimes(1);
    if (!defaultKernel) {
      expect(seen).toHaveLength(3);
      for (const schedule of seen) expect(schedule).toBe(optimizer.options.schedule);
    }
    expect(Object.isFrozen(optimizer.options.schedule)).toBe(true);
    // Derived, so not part of what a spread or JSON of the options (a saved config) holds.
    expect(Object.keys(optimizer.options)).not.toContain('schedule');
    expect(optimizer.options.schedule.iterations).toEqual(resolveCoefficients('polarExpress5').iterations);
    optimizer.dispose();
    w.dispose();
  });

  it('the hybrid too, and its config leaves the derived schedule out', () => {
    const kernel = tf.variable(tf.randomNormal([16, 16], 0, 1, 'float32', 2), true, 'resolved_once_hybrid/kernel');
    const bias = tf.variable(tf.zeros([16]), true, 'resolved_once_hybrid/bias');
    vi.mocked(resolveNewtonSchulz).mockClear();
    const optimizer = muonWithAdamW([kernel, bias], { muon: { nsSteps: 6 } });
    for (let step = 0; step < 3; step++) {
      optimizer.applyGradients({ [kernel.name]: tf.randomNormal([16, 16], 0, 1, 'float32', 20 + step), [bias.name]: tf.ones([16]) });
    }
    expect(resolveNewtonSchulz).toHaveBeenCalledTimes(1);
    expect(optimizer.muonOptions.schedule.steps).toBe(6);
    expect(optimizer.getConfig().muon).not.toHaveProperty('schedule');
    optimizer.dispose();
  });
});
