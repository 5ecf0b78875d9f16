import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { linearDecay } from 'muon-tfjs';
import { describe, expect, it } from 'vitest';
import { ScheduledMomentumOptimizer } from './scheduledMomentum.js';

describe('ScheduledMomentumOptimizer', () => {
  it('takes each step with the scheduled rate: hand-worked v ← 0.9v + g, p ← p − lr_t·v', async () => {
    await tf.setBackend('cpu');
    // lr_t = 0.3·(1 − t/3): 0.3, 0.2, 0.1; g = 1 every step: v = 1, 1.9, 2.71.
    const p = tf.variable(tf.scalar(0));
    const optimizer = new ScheduledMomentumOptimizer(linearDecay({ peak: 0.3, steps: 3 }), 0.9);
    const values: number[] = [];
    for (let t = 0; t < 3; t++) {
      optimizer.applyGradients([{ name: p.name, tensor: tf.scalar(1) }]);
      values.push(p.dataSync()[0] as number);
    }
    const expected = [-0.3, -0.3 - 0.2 * 1.9, -0.3 - 0.2 * 1.9 - 0.1 * 2.71];
    values.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 6));
    optimizer.dispose();
    p.dispose();
  });
});
