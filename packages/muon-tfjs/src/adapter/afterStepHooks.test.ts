import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { adamw } from './optimizers.js';

let counter = 0;
function variable(values: number[][]): tf.Variable {
  counter += 1;
  return tf.variable(tf.tensor2d(values), true, `hooked${counter}`);
}

describe.each(TEST_BACKENDS)('after-step hooks on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('run once the step is committed, with its index and variables, and apply their changes', () => {
    const a = variable([[1, 2], [3, 4]]);
    const optimizer = adamw({ learningRate: 0.1, weightDecay: 0 });
    const seen: { step: number; names: string[]; a: number[] }[] = [];
    optimizer.addAfterStepHook('clip', ({ step, variables, assign }) => {
      const w = variables[a.name] as tf.Variable;
      seen.push({ step, names: Object.keys(variables), a: Array.from(w.dataSync()) });
      assign(w, tf.clipByValue(w, 1.5, 3.5));
    });
    const count = tf.memory().numTensors;
    optimizer.applyGradients({ [a.name]: tf.tensor2d([[1, 1], [-1, -1]]) });
    // Adam's first step moves each weight by lr·sign(g) = ∓0.1: 0.9, 1.9, 3.1, 4.1 before the hook.
    expect(seen).toHaveLength(1);
    expect(seen[0]?.step).toBe(1);
    expect(seen[0]?.names).toEqual([a.name]);
    seen[0]?.a.forEach((x, i) => expect(x).toBeCloseTo([0.9, 1.9, 3.1, 4.1][i] as number, 6));
    Array.from(a.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([1.5, 1.9, 3.1, 3.5][i] as number, 6));
    // The hook's tensors are freed: what remains is the caller's gradient and AdamW's new m and v.
    expect(tf.memory().numTensors).toBe(count + 3);
    expect(optimizer.afterStepHookNames).toEqual(['clip']);
  });

  it("a hook that throws has none of its changes applied, and the error names it", () => {
    const a = variable([[1, 1], [1, 1]]);
    const b = variable([[2, 2], [2, 2]]);
    const optimizer = adamw({ learningRate: 0.1, weightDecay: 0 });
    optimizer.addAfterStepHook('rescale', ({ variables, assign }) => {
      assign(variables[a.name] as tf.Variable, tf.zeros([2, 2]));
      assign(variables[b.name] as tf.Variable, tf.zeros([2, 2]));
      throw new Error('out of ideas');
    });
    expect(() => optimizer.applyGradients({ [a.name]: tf.onesLike(a), [b.name]: tf.onesLike(b) })).toThrow(
      /After-step hook 'rescale' failed at step 1: out of ideas; none of its changes were applied \(the optimizer step itself is committed\)/,
    );
    // The optimizer step happened (−0.1 each), the hook's zeros did not.
    Array.from(a.dataSync()).forEach((x) => expect(x).toBeCloseTo(0.9, 6));
    Array.from(b.dataSync()).forEach((x) => expect(x).toBeCloseTo(1.9, 6));
    expect(optimizer.iterations).toBe(1);
  });

  it('refuses a wrong-shaped or non-finite staged value, an async hook, and a duplicate name', () => {
    const a = variable([[1, 1], [1, 1]]);
    const b = variable([[1, 1], [1, 1]]);
    const optimizer = adamw();
    const stop = optimizer.addAfterStepHook('shape', ({ assign }) => {
      assign(b, tf.zeros([2, 2]));
      assign(a, tf.zeros([4]));
    });
    expect(() => optimizer.applyGradients({ [a.name]: tf.onesLike(a) })).toThrow(
      new RegExp(`hook 'shape' failed at step 1: the value staged for '${a.name}' is float32 \\[4\\], but the variable is float32 \\[2, 2\\]`),
    );
    expect(Array.from(b.dataSync())).toEqual([1, 1, 1, 1]);
    stop();
    optimizer.addAfterStepHook('nan', ({ assign }) => {
      assign(b, tf.zeros([2, 2]));
      assign(a, tf.fill([2, 2], Number.NaN));
    });
    expect(() => optimizer.applyGradients({ [a.name]: tf.onesLike(a) })).toThrow(new RegExp(`hook 'nan' failed at step 2: it staged non-finite \\(NaN or Inf\\) values for '${a.name}'`));
    expect(Array.from(b.dataSync())).toEqual([1, 1, 1, 1]);
    expect(() => optimizer.addAfterStepHook('nan', () => undefined)).toThrow(/a hook named 'nan' is already registered/);
    const fresh = adamw();
    fresh.addAfterStepHook('async', (async () => undefined) as unknown as () => void);
    expect(() => fresh.applyGradients({ [a.name]: tf.onesLike(a) })).toThrow(/hook 'async' failed at step 1: the hook returned a promise/);
  });
});
