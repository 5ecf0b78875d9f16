import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { toMatrix } from '../math/matrixView.js';
import { newtonSchulz } from '../math/newtonSchulz.js';
import { type Orthogonalizer, newtonSchulzEach } from '../math/orthogonalizer.js';
import { shapeScale } from '../math/shapeScale.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { MuonOptimizer, muon } from './optimizers.js';

/** Both sides run the same float32 Newton–Schulz on the same block; only summation order differs. */
const TOLERANCE = 1e-5;

let counter = 0;
function randomVariable(shape: number[], seed: number): tf.Variable {
  counter += 1;
  return tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed), true, `blocks${counter}/qkv`);
}

/** The expected first Muon step of one block alone: p_b − lr·s_b·NS(u_b), u = 0.0975·g (Nesterov, β 0.95). */
function expectedBlock(p: tf.Tensor, g: tf.Tensor, begin: number, width: number, lr: number): tf.Tensor {
  return tf.tidy(() => {
    const axis = p.rank - 1;
    const slice = (t: tf.Tensor): tf.Tensor => tf.slice(t, p.shape.map((_, i) => (i === axis ? begin : 0)), p.shape.map((n, i) => (i === axis ? width : n)));
    const block = slice(g);
    const o = tf.reshape(newtonSchulz(toMatrix(tf.mul(block, 0.0975)), {}), block.shape);
    const m = toMatrix(block).shape;
    return tf.sub(slice(p), tf.mul(o, lr * shapeScale({ fanIn: m[0] as number, fanOut: m[1] as number }, 'matchAdamW')));
  });
}

function expectClose(actual: tf.Tensor, expected: tf.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] as number;
  expect(diff).toBeLessThan(TOLERANCE);
}

describe.each(TEST_BACKENDS)('Muon per column block, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each([
    ['a fused Q | K | V kernel in 3 equal blocks', [6, 12], 3, [4, 4, 4]],
    ['fused grouped-query Q | K | V of widths 6, 3, 3', [6, 12], [6, 3, 3], [6, 3, 3]],
    ['a conv kernel [2, 2, 3, 8] in 2 blocks', [2, 2, 3, 8], 2, [4, 4]],
  ] as const)('%s: each block is Newton–Schulz of that block alone, with its own shape scale', (_, shape, blocks, widths) => {
    // lrAdjust matchAdamW: s = 0.2·√max(fanIn, fanOut) differs between a block and the whole.
    const p = randomVariable([...shape], 1);
    const g = tf.randomNormal([...shape], 0, 1, 'float32', 2);
    const before = p.clone();
    const seen: number[][][] = [];
    const spy: Orthogonalizer = (matrices, options) => {
      seen.push(matrices.map((m) => m.shape));
      return newtonSchulzEach(matrices, options);
    };
    // Without its model, muon() knows the conv kernel only from a matrixViews rule (matrices pass it through).
    const matrixViews = [{ name: 'qkv', convKernel: true }] as const;
    const optimizer = muon({ learningRate: 0.1, lrAdjust: 'matchAdamW', blockColumns: [{ name: 'qkv', blocks }], matrixViews, execution: { orthogonalize: spy } });
    optimizer.applyGradients({ [p.name]: g });
    let begin = 0;
    const expected = widths.map((w) => {
      const block = expectedBlock(before, g, begin, w, 0.1);
      begin += w;
      return block;
    });
    expectClose(p, tf.concat(expected, shape.length - 1));
    // One kernel call for the step, with every block: same-shape blocks can be batched there.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toHaveLength(widths.length);
    // The state stays whole, keyed by the variable: m = 0.05·g.
    expectClose(optimizer.getSlot(p.name, 'momentum') as tf.Variable, tf.mul(g, 0.05));
  });

  it('keeps the momentum across steps as if each block were trained alone', () => {
    // The same two steps on a [6, 12] kernel split in 3, and on three [6, 4] variables.
    const whole = randomVariable([6, 12], 3);
    const parts = tf.split(whole, 3, 1).map((t, b) => tf.variable(t, true, `blocks_alone_${backend}_${b}`));
    const split = muon({ learningRate: 0.05, blockColumns: [{ name: whole.name, blocks: 3 }], execution: { orthogonalize: newtonSchulzEach } });
    const alone = muon({ learningRate: 0.05, execution: { orthogonalize: newtonSchulzEach } });
    for (const seed of [4, 5]) {
      const g = tf.randomNormal([6, 12], 0, 1, 'float32', seed);
      split.applyGradients({ [whole.name]: g });
      alone.applyGradients(Object.fromEntries(tf.split(g, 3, 1).map((gb, b) => [(parts[b] as tf.Variable).name, gb])));
    }
    expectClose(whole, tf.concat(parts, 1));
    // No tensor of the split survives a step: only the caller's gradient is new.
    const g = tf.randomNormal([6, 12], 0, 1, 'float32', 6);
    const count = tf.memory().numTensors;
    split.applyGradients({ [whole.name]: g });
    expect(tf.memory().numTensors).toBe(count);
  });

  it('names the variable when its columns do not split, and round-trips the rules in its config', () => {
    const p = randomVariable([4, 10], 6);
    const optimizer = muon({ blockColumns: [{ name: 'qkv', blocks: 3 }] });
    expect(() => optimizer.applyGradients({ [p.name]: tf.onesLike(p) })).toThrow(new RegExp(`blockColumns 'qkv' splits '${p.name}' of shape \\[4, 10\\] into 3 blocks, but its last axis 10 is not a multiple of 3`));
    expect(() => muon({ blockColumns: [{ name: 'qkv', blocks: [2, 0] }] })).toThrow(/blockColumns\[0\]\.blocks must be a positive integer or a list of positive integer widths/);
    const rules = [{ name: 'block1_attention/qkv', blocks: [6, 3, 3] }];
    const copy = new MuonOptimizer(muon({ blockColumns: rules }).getConfig() as object);
    expect(copy.options.blockColumns).toEqual(rules);
  });
});
