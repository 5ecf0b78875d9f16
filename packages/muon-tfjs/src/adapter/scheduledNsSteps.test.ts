import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import { type Orthogonalizer, newtonSchulzEach } from '../math/orthogonalizer.js';
import { piecewise } from '../math/schedule.js';
import { useBackend } from '../testing/backends.js';
import { MuonOptimizer, muon, normuon } from './optimizers.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// nsSteps as a schedule over training (issue 24 item 2): a piecewise schedule of counts, read at
// the step's index as the learning rate is (t = completed steps). With boundaries [2] and values
// [3, 5], steps 1 and 2 (t = 0, 1) run 3 Newton–Schulz iterations and steps 3 on (t ≥ 2) run 5:
// counted here by hand and read from the schedule each kernel call receives.

/** newtonSchulzEach, recording the iteration count of every call. */
function countingKernel(): { orthogonalize: Orthogonalizer; counts: number[] } {
  const counts: number[] = [];
  return { counts, orthogonalize: (matrices, schedule: NewtonSchulzSchedule) => (counts.push(schedule.steps), newtonSchulzEach(matrices, schedule)) };
}

let counter = 0;
function stepOnce(optimizer: TransformOptimizer, w: tf.Variable, seed: number): void {
  const grad = tf.randomNormal(w.shape, 0, 1, 'float32', seed);
  optimizer.applyGradients({ [w.name]: grad });
  grad.dispose();
}

describe('nsSteps over training', () => {
  beforeAll(() => useBackend('cpu'));
  const nsSteps = piecewise({ boundaries: [2], values: [3, 5] });

  it.each([
    ['Muon', (orthogonalize: Orthogonalizer) => muon({ nsSteps, execution: { orthogonalize } })],
    ['NorMuon', (orthogonalize: Orthogonalizer) => normuon({ nsSteps, execution: { orthogonalize } })],
  ] as const)('%s runs 3, 3, 5, 5 iterations over steps 1–4', (_, make) => {
    const w = tf.variable(tf.randomNormal([6, 4], 0, 1, 'float32', 1), true, `scheduledNs${++counter}`);
    const kernel = countingKernel();
    const optimizer = make(kernel.orthogonalize);
    for (let step = 1; step <= 4; step++) stepOnce(optimizer, w, step);
    expect(kernel.counts).toEqual([3, 3, 5, 5]);
  });

  it('a checkpoint taken after step 2 resumes at 5 iterations, and the config saves the schedule as data', async () => {
    const w = tf.variable(tf.randomNormal([6, 4], 0, 1, 'float32', 2), true, `scheduledNs${++counter}`);
    const first = muon({ nsSteps, execution: { orthogonalize: newtonSchulzEach } });
    stepOnce(first, w, 1);
    stepOnce(first, w, 2);
    const config = first.getConfig();
    expect(config['nsSteps']).toEqual({ kind: 'piecewise', boundaries: [2], values: [3, 5] });
    expect(JSON.parse(JSON.stringify(config))).toEqual(config);
    const rebuilt = MuonOptimizer.fromConfig(MuonOptimizer, { ...config, customObjects: {} }) as MuonOptimizer;
    expect(rebuilt.getConfig()).toEqual(config);
    const kernel = countingKernel();
    const resumed = muon({ nsSteps: rebuilt.options.nsSteps as typeof nsSteps, execution: { orthogonalize: kernel.orthogonalize } });
    await resumed.setWeights(await first.getWeights());
    stepOnce(resumed, w, 3);
    expect(resumed.iterations).toBe(3);
    expect(kernel.counts).toEqual([5]);
  });

  it('each count must suit the coefficients, as a fixed one must; the counts are integers ≥ 1', () => {
    expect(() => muon({ nsSteps: piecewise({ boundaries: [2], values: [3, 5] }), coefficients: 'polarExpress5' })).toThrow(/nsSteps=3 is fewer than the 5 iterations of the chosen schedule/);
    expect(() => muon({ nsSteps: piecewise({ boundaries: [2], values: [2.5, 5] }) })).toThrow(/MuonOptimizer: nsSteps \(a 'piecewise' schedule\) takes the value 2.5, but nsSteps must be an integer ≥ 1/);
    expect(() => muon({ nsSteps: { kind: 'linear', from: 3, to: 5, steps: 10 } as never })).toThrow(/MuonOptimizer: nsSteps must be a positive integer, a piecewise schedule, 'auto'/);
  });
});
