import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { chain } from './chain.js';
import type { GradientTransformation, StepContext } from './gradientTransformation.js';
import { SILENT_TAPS } from './taps.js';

const context = (step: number): StepContext => ({ step, inputs: {}, taps: SILENT_TAPS });

/** u ↦ k·u, keeping a slot `count_<k>` that counts its calls. */
function scaleAndCount(k: number): GradientTransformation {
  const slot = `count_${k}`;
  return {
    init: () => ({ [slot]: tf.scalar(0) }),
    update: (updates, state) => ({
      updates: Object.fromEntries(Object.entries(updates).map(([n, u]) => [n, tf.mul(u, k)])),
      state: Object.fromEntries(Object.keys(updates).map((n) => [n, { [slot]: tf.add(state[n]?.[slot] as tf.Tensor, 1) }])),
    }),
  };
}

describe('chain', () => {
  beforeAll(() => useBackend('cpu'));

  it('applies its members left to right and unions their state', () => {
    const t = chain(scaleAndCount(2), scaleAndCount(3));
    const param = tf.ones([2]);
    const state = { p: t.init('p', param) };
    expect(Object.keys(state.p).sort()).toEqual(['count_2', 'count_3']);
    const { updates, state: next } = t.update({ p: tf.tensor1d([1, -1]) }, state, { p: param }, context(1));
    // 2·3·g
    expect(Array.from(updates['p']?.dataSync() ?? [])).toEqual([6, -6]);
    expect(next['p']?.['count_2']?.dataSync()[0]).toBe(1);
    expect(next['p']?.['count_3']?.dataSync()[0]).toBe(1);
  });

  it('frees the intermediate updates it replaced, and nothing else', () => {
    const t = chain(scaleAndCount(2), scaleAndCount(3), scaleAndCount(5));
    const param = tf.ones([3]);
    const state = { p: t.init('p', param) };
    const grad = tf.ones([3]);
    const before = tf.memory().numTensors;
    const { updates, state: next } = t.update({ p: grad }, state, { p: param }, context(1));
    // Left: the final update and three new count slots; the two intermediates were freed.
    expect(tf.memory().numTensors).toBe(before + 1 + 3);
    expect(grad.isDisposed).toBe(false);
    expect(updates['p']?.dataSync()[0]).toBe(30);
    tf.dispose([updates['p'] as tf.Tensor, ...Object.values(next['p'] ?? {})]);
  });

  it('refuses two members that keep a slot of the same name, naming it and the variable', () => {
    const t = chain(scaleAndCount(2), scaleAndCount(2));
    expect(() => t.init('layer/kernel', tf.ones([2]))).toThrow(/two transformations both keep a slot named 'count_2' for 'layer\/kernel'/);
  });
});
