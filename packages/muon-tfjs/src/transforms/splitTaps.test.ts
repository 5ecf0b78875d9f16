import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { polarFactor } from '../diagnostics/polarFactor.js';
import { relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { type Orthogonalizer, newtonSchulzEach } from '../math/orthogonalizer.js';
import { shapeScale } from '../math/shapeScale.js';
import { HybridOptimizer } from '../adapter/HybridOptimizer.js';
import { MuonOptimizer, muon } from '../adapter/optimizers.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';

/**
 * polarExpress8 in float32 against the exact float64 polar factor of a well-conditioned Gaussian
 * block: the same bound newtonSchulz.test.ts pins for one matrix (relative Frobenius < 1e-5).
 */
const FP32_REL_TOL = 1e-5;

/** The kernels below are conv kernels: declared so, as muon() has no layer class to tell. */
const CONV_RULE = { name: 'conv/kernel', convKernel: true } as const;

let counter = 0;
function zeroKernel(shape: readonly number[]): tf.Variable {
  counter += 1;
  return tf.variable(tf.zeros([...shape]), true, `taps${counter}/conv/kernel`);
}

/**
 * The expected first step from a zero kernel with β = 0 (so Nesterov feeds g itself):
 * −lr·s·P for each block's exact polar factor P, in float64, as one flat row-major array of
 * the kernel. `blocks` cuts the kernel's flat data into consecutive `[rows, cols]` matrices.
 */
function expectedStep(g: tf.Tensor, blocks: number, rows: number, cols: number, step: number): Float64Array {
  const data = g.dataSync();
  const out = new Float64Array(data.length);
  for (let b = 0; b < blocks; b++) {
    const block = { rows, cols, data: Float64Array.from(data.subarray(b * rows * cols, (b + 1) * rows * cols)) };
    polarFactor(block).data.forEach((x, i) => {
      out[b * rows * cols + i] = -step * x;
    });
  }
  return out;
}

describe.each(TEST_BACKENDS)('Muon per conv tap (convOrthogonalization: perTap), on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('orthogonalizes each [in, out] tap on its own, scaled by s(in, out)/√taps, against the float64 polar factor', () => {
    // [3, 3, 4, 6]: 9 taps of [4, 6]; matchAdamW s = 0.2·√6 for a tap (0.2·√36 for the flattened kernel).
    const shape = [3, 3, 4, 6];
    const g = tf.randomNormal(shape, 0, 1, 'float32', 7);
    const lr = 0.1;
    // Without its model, muon() knows a conv kernel only from a matrixViews rule.
    const options = { learningRate: lr, momentum: 0, coefficients: 'polarExpress8', lrAdjust: 'matchAdamW', matrixViews: [CONV_RULE] } as const;

    const perTap = zeroKernel(shape);
    muon({ ...options, convOrthogonalization: 'perTap' }).applyGradients({ [perTap.name]: g });
    const tapStep = lr * shapeScale({ fanIn: 4, fanOut: 6 }, 'matchAdamW') / 3;
    expect(relativeFrobenius(perTap.dataSync(), expectedStep(g, 9, 4, 6, tapStep))).toBeLessThan(FP32_REL_TOL);

    // The default, flatten, is the polar factor of the one [36, 6] matrix: a different update.
    const flat = zeroKernel(shape);
    muon(options).applyGradients({ [flat.name]: g });
    const flatStep = lr * shapeScale({ fanIn: 36, fanOut: 6 }, 'matchAdamW');
    const flatExpected = expectedStep(g, 1, 36, 6, flatStep);
    expect(relativeFrobenius(flat.dataSync(), flatExpected)).toBeLessThan(FP32_REL_TOL);
    expect(relativeFrobenius(perTap.dataSync(), flatExpected)).toBeGreaterThan(0.1);
  });

  it('hands every tap to the kernel in one call, keeps the momentum whole, and leaves matrices whole', () => {
    const conv = zeroKernel([2, 3, 5, 4]);
    const dense = zeroKernel([8, 4]);
    const seen: number[][][] = [];
    const spy: Orthogonalizer = (matrices, schedule) => {
      seen.push(matrices.map((m) => m.shape));
      return newtonSchulzEach(matrices, schedule);
    };
    const gConv = tf.randomNormal([2, 3, 5, 4], 0, 1, 'float32', 8);
    const gDense = tf.randomNormal([8, 4], 0, 1, 'float32', 9);
    const optimizer = muon({ learningRate: 0.05, momentum: 0.9, convOrthogonalization: 'perTap', matrixViews: [CONV_RULE], execution: { orthogonalize: spy } });
    optimizer.applyGradients({ [conv.name]: gConv, [dense.name]: gDense });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual([...Array.from({ length: 6 }, () => [5, 4]), [8, 4]]);
    // m = (1 − β)·g, in the kernel's own shape, as without the split.
    const momentum = optimizer.getSlot(conv.name, 'momentum') as tf.Variable;
    expect(momentum.shape).toEqual([2, 3, 5, 4]);
    expect(relativeFrobenius(momentum.dataSync(), tf.mul(gConv, 0.1).dataSync())).toBeLessThan(1e-7);
    // The dense kernel's step is the one a flatten Muon takes.
    const denseAlone = zeroKernel([8, 4]);
    muon({ learningRate: 0.05, momentum: 0.9, execution: { orthogonalize: newtonSchulzEach } }).applyGradients({ [denseAlone.name]: gDense });
    expect(relativeFrobenius(dense.dataSync(), denseAlone.dataSync())).toBeLessThan(1e-7);
    // No tensor of the split survives a step.
    const count = tf.memory().numTensors;
    optimizer.applyGradients({ [conv.name]: gConv, [dense.name]: gDense });
    expect(tf.memory().numTensors).toBe(count);
  });

  it('splits the taps of each column block when both options are set', () => {
    // [3, 1, 2, 8] in 2 column blocks of 4: 2 × 3 taps of [2, 4].
    const conv = zeroKernel([3, 1, 2, 8]);
    const seen: number[][][] = [];
    const spy: Orthogonalizer = (matrices, schedule) => {
      seen.push(matrices.map((m) => m.shape));
      return newtonSchulzEach(matrices, schedule);
    };
    muon({ convOrthogonalization: 'perTap', blockColumns: [{ name: 'conv', blocks: 2 }], matrixViews: [CONV_RULE], execution: { orthogonalize: spy } })
      .applyGradients({ [conv.name]: tf.randomNormal([3, 1, 2, 8], 0, 1, 'float32', 10) });
    expect(seen[0]).toEqual(Array.from({ length: 6 }, () => [2, 4]));
  });

  it('reports the tap matrices in the routing table, refuses an unknown mode, and round-trips its config', () => {
    const conv = zeroKernel([3, 3, 16, 32]);
    const hybridOptimizer = new HybridOptimizer({
      groups: { muon: { optimizer: 'muon', options: { learningRate: 0.02, convOrthogonalization: 'perTap' } } },
      variables: [{ name: conv.name, shape: conv.shape, layerClass: 'Conv2D' }],
    });
    const [row] = hybridOptimizer.describeRouting();
    expect(row?.matrix).toEqual([16, 32]);
    expect(row?.matrices).toBe(9);
    expect(row?.scale).toBe(Number((Math.sqrt(2) / 3).toPrecision(4))); // √max(1, 32/16) / √9, as the table rounds it
    expect(() => muon({ convOrthogonalization: 'batched' as never })).toThrow(/MuonOptimizer: unknown convOrthogonalization 'batched'; expected one of flatten, perTap/);
    const copy = new MuonOptimizer(muon({ convOrthogonalization: 'perTap' }).getConfig() as object);
    expect(copy.options.convOrthogonalization).toBe('perTap');
  });
});
