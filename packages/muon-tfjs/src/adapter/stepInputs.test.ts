import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { TestOptimizer } from '../testing/transformOptimizer.js';
import { HESSIAN_DIAGONAL_INPUT } from '../transforms/scaleBySophia.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { muon, sophia } from './optimizers.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';

/** p ← p − g·d, with d the `preconditioner` input of the step when provided, else 1. */
const preconditioned: GradientTransformation = {
  stepInputKinds: ['preconditioner'],
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

  it('refuses a kind no transformation of the optimizer reads, listing the kinds it reads, and keeps nothing', () => {
    const w = tf.variable(tf.randomNormal([3, 2], 0, 1, 'float32', 1), true, `inputs${++counter}`);
    const twin = tf.variable(w.clone(), true, `inputs${++counter}`);
    const refused = muon();
    const plain = muon();
    const count = tf.memory().numTensors;
    expect(() => refused.provideStepInputs('hessianDiagonal', { [w.name]: tf.ones([3, 2]) })).toThrow(
      "MuonOptimizer.provideStepInputs('hessianDiagonal'): no transformation of this optimizer reads inputs of that kind; it reads none",
    );
    expect(tf.memory().numTensors).toBe(count + 1); // the caller's tensor only: no copy was kept
    refused.applyGradients({ [w.name]: tf.onesLike(w) });
    plain.applyGradients({ [twin.name]: tf.onesLike(w) });
    expect(Array.from(w.dataSync())).toEqual(Array.from(twin.dataSync()));
    expect(refused.stepInputKinds).toEqual([]);
    expect(() => sophia().provideStepInputs('hessian', {})).toThrow(
      "SophiaOptimizer.provideStepInputs('hessian'): no transformation of this optimizer reads inputs of that kind; it reads 'hessianDiagonal'",
    );
  });

  it("a hybrid reads the kinds its groups' transformations read", () => {
    const kernel = tf.variable(tf.zeros([3, 2]), true, `inputs${++counter}`);
    const bias = tf.variable(tf.zeros([2]), true, `inputs${++counter}`);
    const hybrid = new HybridOptimizer({ groups: { muon: { optimizer: 'muon' }, adamw: { optimizer: 'sophia' } } });
    expect(hybrid.stepInputKinds).toEqual([HESSIAN_DIAGONAL_INPUT]);
    hybrid.provideStepInputs(HESSIAN_DIAGONAL_INPUT, { [bias.name]: tf.ones([2]) });
    hybrid.applyGradients({ [kernel.name]: tf.ones([3, 2]), [bias.name]: tf.ones([2]) });
    // h ← β₂·0 + (1 − β₂)·1 with Sophia's β₂ = 0.99: the input reached the Sophia group.
    (hybrid.getSlot(bias.name, 'hessian') as tf.Variable).dataSync().forEach((h) => expect(h).toBeCloseTo(0.01, 7));
  });
});
