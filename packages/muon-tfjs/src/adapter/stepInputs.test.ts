import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { TestOptimizer } from '../testing/transformOptimizer.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';

/** p ← p − g·d, with d the `preconditioner` input of the step when provided, else 1. */
const preconditioned: GradientTransformation = {
  init: () => ({}),
  update: (grads, _state, _params, { inputs }) => ({
    updates: Object.fromEntries(Object.entries(grads).map(([name, g]) => {
      const d = inputs['preconditioner']?.[name];
      return [name, tf.neg(d === undefined ? g : tf.mul(g, d))];
    })),
    state: {},
  }),
};

let counter = 0;
function variable(values: number[]): tf.Variable {
  counter += 1;
  return tf.variable(tf.tensor1d(values), true, `inputs${counter}`);
}

describe.each(TEST_BACKENDS)('extra per-step inputs on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('reach the transformation on the next step only, then are released', () => {
    const w = variable([0, 0, 0]);
    const optimizer = new TestOptimizer(() => preconditioned);
    const grad = tf.tensor1d([1, 1, 1]);
    const count = tf.memory().numTensors;
    const d = tf.tensor1d([1, 2, 3]);
    optimizer.provideStepInputs('preconditioner', { [w.name]: d });
    d.dispose(); // the optimizer holds its own copy
    optimizer.applyGradients({ [w.name]: grad });
    expect(Array.from(w.dataSync())).toEqual([-1, -2, -3]);
    optimizer.applyGradients({ [w.name]: grad });
    expect(Array.from(w.dataSync())).toEqual([-2, -3, -4]);
    expect(tf.memory().numTensors).toBe(count);
  });

  it('are checked when provided, naming the variable, and kept when a step fails', () => {
    const w = variable([0, 0]);
    const optimizer = new TestOptimizer(() => preconditioned);
    expect(() => optimizer.provideStepInputs('preconditioner', { nowhere: tf.ones([2]) })).toThrow(/provideStepInputs\('preconditioner'\): no variable named 'nowhere' is registered/);
    expect(() => optimizer.provideStepInputs('preconditioner', { [w.name]: tf.ones([3]) })).toThrow(new RegExp(`the value for '${w.name}' is float32 \\[3\\], but the variable needs float32 \\[2\\]`));
    expect(() => optimizer.provideStepInputs('preconditioner', { [w.name]: tf.tensor1d([1, Number.NaN]) })).toThrow(new RegExp(`non-finite \\(NaN or Inf\\) values for '${w.name}'`));
    expect(() => optimizer.provideStepInputs('', {})).toThrow(/the kind must be a non-empty string/);
    optimizer.provideStepInputs('preconditioner', { [w.name]: tf.tensor1d([10, 10]) });
    expect(() => optimizer.applyGradients({ [w.name]: tf.tensor1d([Number.NaN, 1]) })).toThrow(/Non-finite/);
    optimizer.applyGradients({ [w.name]: tf.tensor1d([1, 1]) });
    expect(Array.from(w.dataSync())).toEqual([-10, -10]);
  });
});
