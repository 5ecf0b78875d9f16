import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { SILENT_TAPS } from './taps.js';
import { NEURON_SECOND_MOMENT_SLOT, scaleByNeuronRms } from './scaleByNeuronRms.js';

/** float32 holds ~7 significant digits; the hand values below are exact. */
const FP32 = 1e-6;

describe.each(TEST_BACKENDS)('scaleByNeuronRms, worked by hand, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('equalizes the output neurons (columns) and keeps the Frobenius norm', () => {
    // O = [[3, 0], [0, 4]] ([fanIn, fanOut]), β₂ = 0.5, ε = 0.
    //   mean over fanIn of O⊙O = [(9 + 0)/2, (0 + 16)/2] = [4.5, 8]
    //   v = 0.5·0 + 0.5·[4.5, 8] = [2.25, 4];  √v = [1.5, 2]
    //   Ô = [[3/1.5, 0], [0, 4/2]] = [[2, 0], [0, 2]];  ‖O‖_F = 5, ‖Ô‖_F = 2√2
    //   Ô·5/(2√2) = [[5/√2, 0], [0, 5/√2]]
    // Step 2, same O: v = 0.5·[2.25, 4] + 0.5·[4.5, 8] = [3.375, 6] (∝ [4.5, 8]: same output).
    const t = scaleByNeuronRms({ beta2: 0.5, epsilon: 0 });
    const o = tf.tensor2d([[3, 0], [0, 4]]);
    let state = { w: t.init('w', o) };
    expect(state.w[NEURON_SECOND_MOMENT_SLOT]?.shape).toEqual([1, 2]);
    const c = 5 / Math.SQRT2;
    for (const v of [[2.25, 4], [3.375, 6]]) {
      const { updates, state: next } = t.update({ w: o }, state, { w: o }, { step: 1, inputs: {}, taps: SILENT_TAPS });
      Array.from(updates['w']?.dataSync() ?? []).forEach((x, i) => expect(Math.abs(x - ([c, 0, 0, c][i] as number))).toBeLessThan(FP32));
      expect(Array.from(next['w']?.[NEURON_SECOND_MOMENT_SLOT]?.dataSync() ?? [])).toEqual(v);
      state = { w: next['w'] as Record<string, tf.Tensor> };
    }
  });

  it('keeps one value per output channel of a conv kernel [kh, kw, in, out]', () => {
    const t = scaleByNeuronRms({ beta2: 0.9, epsilon: 1e-10 });
    const kernel = tf.randomNormal([3, 3, 2, 5], 0, 1, 'float32', 41);
    const state = { k: t.init('k', kernel) };
    expect(state.k[NEURON_SECOND_MOMENT_SLOT]?.shape).toEqual([1, 5]);
    const { updates } = t.update({ k: kernel }, state, { k: kernel }, { step: 1, inputs: {}, taps: SILENT_TAPS });
    expect(updates['k']?.shape).toEqual([3, 3, 2, 5]);
    // Frobenius norm kept: ‖Ô‖ = ‖O‖ (to float32 rounding of two norms)
    const norm = (x: tf.Tensor) => tf.norm(x).dataSync()[0] as number;
    expect(Math.abs(norm(updates['k'] as tf.Tensor) / norm(kernel) - 1)).toBeLessThan(1e-6);
  });
});
