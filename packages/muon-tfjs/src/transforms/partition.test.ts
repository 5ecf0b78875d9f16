import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import type { GradientTransformation, StepContext, TensorMap } from './gradientTransformation.js';
import { partition } from './partition.js';
import { SILENT_TAPS } from './taps.js';

const context: StepContext = { step: 1, inputs: {}, taps: SILENT_TAPS };

/** Adds `k` to every update and records which names each call received. */
function addConstant(k: number, calls: string[][]): GradientTransformation {
  return {
    init: () => ({}),
    update(updates) {
      calls.push(Object.keys(updates));
      return { updates: Object.fromEntries(Object.entries(updates).map(([n, u]) => [n, tf.add(u, k)])), state: {} };
    },
  };
}

describe('partition', () => {
  beforeAll(() => useBackend('cpu'));

  it('routes each parameter to the transformation of its label, in one call per label, any labels', () => {
    const calls: Record<string, string[][]> = { a: [], b: [], c: [] };
    const t = partition((name) => (name.startsWith('x') ? 'a' : name.startsWith('y') ? 'b' : 'c'), {
      a: addConstant(1, calls.a as string[][]),
      b: addConstant(10, calls.b as string[][]),
      c: addConstant(100, calls.c as string[][]),
    });
    const zeros = (n: number): TensorMap => Object.fromEntries(['x1', 'x2', 'y1', 'z1'].slice(0, n).map((k) => [k, tf.zeros([2])]));
    const grads = zeros(4);
    const { updates } = t.update(grads, {}, grads, context);
    expect(Object.fromEntries(Object.entries(updates).map(([n, u]) => [n, u.dataSync()[0]]))).toEqual({ x1: 1, x2: 1, y1: 10, z1: 100 });
    expect(calls).toEqual({ a: [['x1', 'x2']], b: [['y1']], c: [['z1']] });
  });

  it('names the variable and the label when the label has no transformation', () => {
    const t = partition<string>(() => 'nowhere', { somewhere: addConstant(0, []) });
    expect(() => t.init('layer/bias', tf.zeros([2]))).toThrow(/variable 'layer\/bias' has label 'nowhere', which names no transformation/);
  });

  it('passes a transformation\'s refusal through init, naming the variable', () => {
    const refusing: GradientTransformation = {
      init: (name) => {
        throw new Error(`refusing '${name}'`);
      },
      update: () => ({ updates: {}, state: {} }),
    };
    const t = partition(() => 'r', { r: refusing });
    expect(() => t.init('w', tf.zeros([1]))).toThrow(/refusing 'w'/);
  });
});
