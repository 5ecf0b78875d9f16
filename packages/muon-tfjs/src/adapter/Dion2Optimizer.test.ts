import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { polarFactor } from '../diagnostics/polarFactor.js';
import { newtonSchulzEach } from '../math/orthogonalizer.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { HybridOptimizer, hybrid } from './HybridOptimizer.js';
import { Dion2Optimizer, dion2, muon } from './optimizers.js';

/**
 * polarExpress8 is convergent (its composed polynomial is within 1e-14 of 1 on normalized σ in
 * [1e-3, 1]; the submatrices below have normalized σ ≥ 0.2), so its float32 output differs from
 * the float64 polar factor by rounding only: eight iterations, each a few products of entries ≤ 1
 * with coefficients ≤ 24, ≈ 8·24·2⁻²⁴ ≈ 1.1e-5 at worst. The hand values are exact in float64.
 */
const POLAR_FP32 = 2e-5;
/** float32 rounding of a product of a few factors of order 1 (weights, momenta). */
const FP32 = 1e-6;

const rowsOf = (t: tf.Tensor): number[][] => t.arraySync() as number[][];
const maxAbsDiff = (a: readonly number[][], b: readonly number[][]): number => Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - (b[i]?.[j] ?? Number.NaN)))));

describe.each(TEST_BACKENDS)('Dion2, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('two steps worked by hand on a [3, 4] kernel at α = 0.5: rows chosen by L1 norm, polar factor of the submatrix, error feedback', () => {
    // [fanIn, fanOut] = [3, 4]: the rows are the shorter side, so rows are selected, k = ⌈0.5·3⌉ = 2.
    // Step 1: M = G₁ = [[1, 0, 2, 0], [0, 3, 0, 1], [0.5, 0.5, 0, 0.5]], row L1 norms 3, 4, 1.5:
    //   rows 1 and 0 are selected. They are orthogonal, so the polar factor of the submatrix is each
    //   row over its length: row 1 → [0, 3, 0, 1]/√10, row 0 → [1, 0, 2, 0]/√5; row 2's update is 0.
    //   p = ones, lr 0.1, wd 0.5, s = √(4/3) ('spectral'): p ← 0.95 − 0.1·√(4/3)·O.
    //   Momentum: rows 0, 1 × μ = 0.9 → [0.9, 0, 1.8, 0], [0, 2.7, 0, 0.9]; row 2 kept: [0.5, 0.5, 0, 0.5].
    const p = tf.variable(tf.ones([3, 4]), true, `dion2_hand_${backend}`);
    const optimizer = dion2({ learningRate: 0.1, weightDecay: 0.5, fraction: 0.5, errorFeedbackDecay: 0.9, coefficients: 'polarExpress8', execution: { orthogonalize: newtonSchulzEach } });
    const s = Math.sqrt(4 / 3);
    optimizer.applyGradients({ [p.name]: tf.tensor2d([[1, 0, 2, 0], [0, 3, 0, 1], [0.5, 0.5, 0, 0.5]]) });
    const o1 = [[1 / Math.sqrt(5), 0, 2 / Math.sqrt(5), 0], [0, 3 / Math.sqrt(10), 0, 1 / Math.sqrt(10)], [0, 0, 0, 0]];
    const p1 = o1.map((row) => row.map((o) => 0.95 - 0.1 * s * o));
    expect(maxAbsDiff(rowsOf(p), p1)).toBeLessThan(0.1 * s * POLAR_FP32);
    // Row 2 was not selected: its update is exactly 0, only the decay touched it.
    expect(rowsOf(p)[2]).toEqual([0.95, 0.95, 0.95, 0.95].map(Math.fround));
    const momentum1 = [[0.9, 0, 1.8, 0], [0, 2.7, 0, 0.9], [0.5, 0.5, 0, 0.5]];
    expect(maxAbsDiff(rowsOf(optimizer.getSlot(p.name, 'momentum') as tf.Variable), momentum1)).toBeLessThan(FP32);

    // Step 2: G₂ puts [1, 1, 1, 1] on row 2 only: M = [[0.9, 0, 1.8, 0], [0, 2.7, 0, 0.9], [1.5, 1.5, 1, 1.5]],
    //   L1 norms 2.7, 3.6, 5.5: rows 2 and 1 are selected, row 0 (not selected) keeps its momentum
    //   and gets no update. Their rows are not orthogonal: the reference is the float64 SVD polar
    //   factor of the 2×4 submatrix.
    optimizer.applyGradients({ [p.name]: tf.tensor2d([[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]]) });
    const reference = polarFactor({ rows: 2, cols: 4, data: Float64Array.from([0, 2.7, 0, 0.9, 1.5, 1.5, 1, 1.5]) });
    const o2 = [[0, 0, 0, 0], Array.from(reference.data.subarray(0, 4)), Array.from(reference.data.subarray(4, 8))];
    const p2 = p1.map((row, i) => row.map((x, j) => 0.95 * x - 0.1 * s * (o2[i]?.[j] as number)));
    expect(maxAbsDiff(rowsOf(p), p2)).toBeLessThan(0.1 * s * POLAR_FP32 + FP32);
    const momentum2 = [[0.9, 0, 1.8, 0], [0, 2.43, 0, 0.81], [1.35, 1.35, 0.9, 1.35]];
    expect(maxAbsDiff(rowsOf(optimizer.getSlot(p.name, 'momentum') as tf.Variable), momentum2)).toBeLessThan(FP32);
    optimizer.dispose();
  });

  it('a [4, 3] kernel selects columns (its shorter side): the transpose of the [3, 4] case', () => {
    // Gᵀ of the first step above: columns 1 and 0 are selected; the update is Oᵀ, scaled by √(3/4).
    const p = tf.variable(tf.zeros([4, 3]), true, `dion2_columns_${backend}`);
    const optimizer = dion2({ learningRate: 1, weightDecay: 0, fraction: 0.5, coefficients: 'polarExpress8', execution: { orthogonalize: newtonSchulzEach } });
    optimizer.applyGradients({ [p.name]: tf.transpose(tf.tensor2d([[1, 0, 2, 0], [0, 3, 0, 1], [0.5, 0.5, 0, 0.5]])) });
    const s = Math.sqrt(3 / 4);
    const expected = [[1 / Math.sqrt(5), 0, 0], [0, 3 / Math.sqrt(10), 0], [2 / Math.sqrt(5), 0, 0], [0, 1 / Math.sqrt(10), 0]].map((row) => row.map((o) => -s * o));
    expect(maxAbsDiff(rowsOf(p), expected)).toBeLessThan(POLAR_FP32);
    expect(rowsOf(p).map((row) => row[2])).toEqual([0, 0, 0, 0]);
    optimizer.dispose();
  });

  it("α = 1 is Muon without Nesterov (classical momentum: the (1−β) of Muon's EMA is removed by the normalization)", () => {
    // Same schedule, kernel, shape scale and decay; three steps of seeded gradients on a wide and a
    // tall kernel. Dion2's momentum is Σ β^(t−s) G_s, Muon's (1−β) times it: Newton–Schulz sees
    // inputs equal up to that factor, which the Frobenius normalization divides out (eps 1e-7
    // against ‖M‖ ≈ 10 changes the result by 1e-8). What remains is float32 rounding through five
    // jordan iterations (coefficients summing to ≈ 10 in magnitude): ≈ 5·10·2⁻²⁴ ≈ 3e-6 per entry
    // of O, and the selection's row order (a permutation, which Newton–Schulz commutes with) only
    // changes the order of sums.
    const shapes = [[6, 10], [12, 5]];
    const variables = (tag: string) => shapes.map((shape, i) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 60 + i), true, `dion2_muon_${tag}_${i}_${backend}`));
    const ours = variables('dion2');
    const theirs = variables('muon');
    const common = { learningRate: 0.05, weightDecay: 0.1, coefficients: 'jordan', nsSteps: 5, eps: 1e-7, lrAdjust: 'original', execution: { orthogonalize: newtonSchulzEach } } as const;
    const d = dion2({ ...common, fraction: 1, errorFeedbackDecay: 0.9 });
    const m = muon({ ...common, momentum: 0.9, nesterov: false });
    for (let step = 0; step < 3; step++) {
      const grads = shapes.map((shape, i) => tf.randomNormal(shape, 0, 1, 'float32', 70 + 10 * step + i));
      d.applyGradients(Object.fromEntries(ours.map((v, i) => [v.name, grads[i] as tf.Tensor])));
      m.applyGradients(Object.fromEntries(theirs.map((v, i) => [v.name, grads[i] as tf.Tensor])));
    }
    ours.forEach((v, i) => {
      const w = theirs[i] as tf.Variable;
      // Three updates of lr·s·O (s ≤ √2, lr 0.05): 3·0.05·√2·3e-6 ≈ 6e-7; 2e-6 allows the weights' own rounding.
      expect(tf.max(tf.abs(tf.sub(v, w))).dataSync()[0]).toBeLessThan(2e-6);
      // Dion2 keeps β·M_t (the selected slices, all of them here, decayed after use), Muon (1−β)·M_t.
      // Normwise: a few float32 roundings per step over three steps, ≈ 6·2⁻²⁴ ≈ 4e-7 of the largest entry.
      const expected = tf.mul(m.getSlot(w.name, 'momentum') as tf.Tensor, 0.9 / (1 - 0.9));
      const error = tf.div(tf.max(tf.abs(tf.sub(d.getSlot(v.name, 'momentum') as tf.Tensor, expected))), tf.max(tf.abs(expected)));
      expect(error.dataSync()[0]).toBeLessThan(1e-6);
    });
    d.dispose();
    m.dispose();
  });

  it('a checkpoint (getWeights/setWeights) resumes bit-identically: the momentum is keyed by variable name', async () => {
    const w = tf.variable(tf.randomNormal([8, 5], 0, 1, 'float32', 80), true, `dion2_resume_w_${backend}`);
    const u = tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', 81), true, `dion2_resume_u_${backend}`);
    const x = tf.randomNormal([6, 8], 0, 1, 'float32', 82);
    const loss = (): tf.Scalar => tf.sum(tf.square(tf.matMul(tf.matMul(x, w), u)));
    const start = [w, u].map((v) => v.clone());
    const make = () => dion2({ learningRate: 0.05, fraction: 0.4 });
    const uninterrupted = make();
    for (let step = 0; step < 6; step++) uninterrupted.minimize(loss, false, [w, u]);
    const expected = [w, u].map((v) => Array.from(v.dataSync()));
    uninterrupted.dispose();

    [w, u].forEach((v, i) => v.assign(start[i] as tf.Tensor));
    const first = make();
    for (let step = 0; step < 3; step++) first.minimize(loss, false, [w, u]);
    const checkpoint = (await first.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    expect(checkpoint.map(({ name }) => name).sort()).toEqual(['iter', `${u.name}/momentum`, `${w.name}/momentum`].sort());
    first.dispose();
    const resumed = make();
    // Restored in reverse order: the state follows the names, not the positions.
    await resumed.setWeights([...checkpoint.slice(0, 1), ...checkpoint.slice(1).reverse()]);
    for (let step = 0; step < 3; step++) resumed.minimize(loss, false, [w, u]);
    expect([w, u].map((v) => Array.from(v.dataSync()))).toEqual(expected);
    resumed.dispose();
  });

  it('joins a hybrid as the dion2 kind, refuses vectors there, and round-trips its config', () => {
    const kernel = tf.variable(tf.zeros([4, 3]), true, `dion2_hybrid_kernel_${backend}`);
    const bias = tf.variable(tf.zeros([3]), true, `dion2_hybrid_bias_${backend}`);
    const groups = { muon: { optimizer: 'dion2', options: { fraction: 0.5 } }, adamw: { optimizer: 'adamw' } } as const;
    const optimizer = hybrid([kernel, bias], { groups });
    expect(optimizer.describeRouting().map((r) => [r.label, r.optimizer])).toEqual([['muon', 'dion2'], ['adamw', 'adamw']]);
    optimizer.applyGradients({ [kernel.name]: tf.ones([4, 3]), [bias.name]: tf.ones([3]) });
    expect(optimizer.getSlot(kernel.name, 'momentum')?.shape).toEqual([4, 3]);
    const copy = HybridOptimizer.fromConfig(HybridOptimizer, { ...optimizer.getConfig(), customObjects: {} });
    expect(copy.getConfig()).toEqual(optimizer.getConfig());
    expect(() => hybrid([bias], { groups: { muon: { optimizer: 'dion2' } }, label: () => 'muon' })).toThrow(/Dion2 needs rank ≥ 2/);
    const original = dion2({ learningRate: 0.03, fraction: 0.5, errorFeedbackDecay: 0.9, coefficients: 'jordan', nsSteps: 4, eps: 1e-7, weightDecay: 0.1, lrAdjust: 'original', precision: 'bfloat16' });
    const rebuilt = Dion2Optimizer.fromConfig(Dion2Optimizer, { ...original.getConfig(), customObjects: {} }) as Dion2Optimizer;
    expect(rebuilt.getConfig()).toEqual(original.getConfig());
    expect(rebuilt.options.schedule.steps).toBe(4);
    optimizer.dispose();
  });

  it('matrixViews: experts [2, 3, 4] are two matrices, each selecting its own slices, as two [3, 4] weights would; without a rule the weight is refused', () => {
    // The experts' gradients differ in which rows are largest, so a selection over the flattened
    // [6, 4] matrix would pick other rows (and scale by √(4/6)); per expert it is each [3, 4]'s.
    const grads = [
      [[1, 0, 2, 0], [0, 3, 0, 1], [0.5, 0.5, 0, 0.5]],
      [[0.1, 0.2, 0, 0], [0, 0.1, 0.3, 0], [2, 0, 0, 1]],
    ];
    const experts = tf.variable(tf.ones([2, 3, 4]), true, `dion2_experts_${backend}`);
    const separate = grads.map((_, e) => tf.variable(tf.ones([3, 4]), true, `dion2_expert${e}_${backend}`));
    const options = { learningRate: 0.1, weightDecay: 0.5, fraction: 0.5, coefficients: 'polarExpress8', execution: { orthogonalize: newtonSchulzEach } } as const;
    const viewed = dion2({ ...options, matrixViews: [{ name: 'dion2_experts', reductionAxes: [1], outputAxes: [2] }] });
    const apart = dion2(options);
    for (let step = 0; step < 2; step++) {
      viewed.applyGradients({ [experts.name]: tf.tensor3d(grads) });
      apart.applyGradients(Object.fromEntries(separate.map((v, e) => [v.name, tf.tensor2d(grads[e] as number[][])])));
    }
    const stacked = experts.arraySync() as number[][][];
    separate.forEach((v, e) => expect(maxAbsDiff(stacked[e] as number[][], rowsOf(v))).toBeLessThan(FP32));
    const unviewed = tf.variable(tf.ones([2, 3, 4]), true, `dion2_unviewed_${backend}`);
    const refusing = dion2();
    expect(() => refusing.applyGradients({ [unviewed.name]: tf.ones([2, 3, 4]) })).toThrow(
      `dion2: variable '${unviewed.name}' has shape [2, 3, 4] (rank 3) and is not known to be a convolution kernel`,
    );
    expect(Array.from(unviewed.dataSync())).toEqual(new Array(24).fill(1));
    expect(refusing.iterations).toBe(0);
    expect(() => hybrid([unviewed], { groups: { muon: { optimizer: 'dion2' } }, label: () => 'muon' })).toThrow(/Dion2 .*matrixViews/);
    for (const optimizer of [viewed, apart, refusing]) optimizer.dispose();
  });

  it('refuses misuse by name: fraction outside (0, 1], errorFeedbackDecay outside [0, 1), a flat or unknown execution setting, a vector, and changes nothing', () => {
    for (const fraction of [0, -0.25, 1.5, Number.NaN]) {
      expect(() => dion2({ fraction })).toThrow(`Dion2Optimizer: fraction must be in (0, 1] (the share of slices orthogonalized per step), got ${String(fraction)}`);
    }
    expect(() => dion2({ errorFeedbackDecay: 1 })).toThrow('Dion2Optimizer: errorFeedbackDecay must be in [0, 1), got 1');
    // @ts-expect-error layer-aware Newton–Schulz is Muon's
    expect(() => dion2({ nsSteps: 'auto' })).toThrow(/Dion2Optimizer: nsSteps must be a positive integer, got "auto"/);
    // @ts-expect-error momentum is Muon's name; Dion2's decay is errorFeedbackDecay
    expect(() => dion2({ momentum: 0.9 })).toThrow(/Dion2Optimizer: unknown option 'momentum'/);
    // The kernel is an execution setting, as Muon's.
    // @ts-expect-error orthogonalize sits in execution
    expect(() => dion2({ orthogonalize: newtonSchulzEach })).toThrow("Dion2Optimizer: option 'orthogonalize' has moved; write execution: { orthogonalize }");
    // @ts-expect-error blockColumns is Muon's, not an execution setting
    expect(() => dion2({ execution: { blockColumns: 2 } })).toThrow("Dion2Optimizer: unknown execution setting 'blockColumns'; valid settings are orthogonalize, fused");
    // @ts-expect-error fused is a boolean
    expect(() => dion2({ execution: { fused: 'yes' } })).toThrow('Dion2Optimizer: execution.fused must be a boolean, got yes');
    const vector = tf.variable(tf.ones([5]), true, `dion2_vector_${backend}`);
    const optimizer = dion2();
    expect(() => optimizer.applyGradients({ [vector.name]: tf.ones([5]) })).toThrow(`variable '${vector.name}' has shape [5] (rank 1)`);
    expect(Array.from(vector.dataSync())).toEqual([1, 1, 1, 1, 1]);
    expect(optimizer.iterations).toBe(0);
    expect(optimizer.variableNames).toEqual([]);
    optimizer.dispose();
  });
});
