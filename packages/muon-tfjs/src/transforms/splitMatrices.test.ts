import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { polarFactor, singularValues } from '../diagnostics/polarFactor.js';
import { composedRange } from '../math/composedRange.js';
import { resolveCoefficients } from '../math/coefficients.js';
import { type Orthogonalizer, newtonSchulzEach } from '../math/orthogonalizer.js';
import { HybridOptimizer } from '../adapter/HybridOptimizer.js';
import { MuonOptimizer, muon, normuon } from '../adapter/optimizers.js';
import { muonWithAdamW } from '../adapter/MuonWithAdamWOptimizer.js';
import type { LayersModelLike } from '../adapter/describeVariables.js';
import type { MuonOptions } from '../optimizers/muon.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';

/** 4 experts [in 32, out 16], each expert's gradient at its own scale (as experts that see different token counts). */
const EXPERTS = 4;
const SHAPE = [EXPERTS, 32, 16];
const EXPERT_SCALES = [1, 0.25, 4, 0.05];
const EXPERTS_RULE = { name: 'moe/experts', reductionAxes: [1], outputAxes: [2] } as const;

/**
 * Float32 round-off of the singular values of a Newton–Schulz output: 5 quintic iterations of
 * [32, 16] products (each entry a sum of ≤ 32 terms) lose ~1e-6 relative per product; 1e-4 leaves
 * two orders of margin and is still 3 orders below the flattened view's miss (> 0.1).
 */
const SIGMA_TOL = 1e-4;

let counter = 0;
function zeroWeight(shape: readonly number[], name = 'moe/experts'): tf.Variable {
  counter += 1;
  return tf.variable(tf.zeros([...shape]), true, `m${counter}/${name}`);
}

function expertsGradient(seed: number): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.randomNormal(SHAPE, 0, 1, 'float32', seed), tf.tensor3d(EXPERT_SCALES, [EXPERTS, 1, 1])));
}

/** Expert e's [in, out] matrix of a weight [E, in, out], in float64. */
function expert(values: ArrayLike<number> & { subarray(begin: number, end: number): ArrayLike<number> }, e: number): { rows: number; cols: number; data: Float64Array } {
  const size = (SHAPE[1] as number) * (SHAPE[2] as number);
  return { rows: SHAPE[1] as number, cols: SHAPE[2] as number, data: Float64Array.from(values.subarray(e * size, (e + 1) * size)) };
}

/**
 * Per expert: the float64 singular values of the update (−weight after one step from zero with
 * lr 1, β 0, lrAdjust none: the update is the Newton–Schulz output O itself) and the band jordan × 5
 * maps that expert's own normalized spectrum into (`composedRange` over [σ_min, σ_max] of G_e/‖G_e‖_F).
 */
function perExpert(options: MuonOptions): { sigmas: Float64Array[]; bands: { min: number; max: number }[] } {
  const w = zeroWeight(SHAPE);
  const g = expertsGradient(3);
  muon({ learningRate: 1, momentum: 0, lrAdjust: 'none', ...options }).applyGradients({ [w.name]: g });
  const update = Float64Array.from(w.dataSync(), (x) => -x);
  const grad = g.dataSync();
  const jordan = resolveCoefficients('jordan');
  const sigmas: Float64Array[] = [];
  const bands: { min: number; max: number }[] = [];
  for (let e = 0; e < EXPERTS; e++) {
    sigmas.push(singularValues(expert(update, e)));
    const input = singularValues(expert(grad, e));
    const frobenius = Math.hypot(...input);
    bands.push(composedRange(jordan, (input.at(-1) as number) / frobenius, (input[0] as number) / frobenius));
  }
  return { sigmas, bands };
}

describe.each(TEST_BACKENDS)('matrixViews: a weight with batch axes is orthogonalized per matrix, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it("puts each expert's singular values in the band jordan promises for that expert's spectrum (float64 SVD); the flattened view misses it", () => {
    const { sigmas, bands } = perExpert({ matrixViews: [EXPERTS_RULE] });
    sigmas.forEach((s, e) => {
      const band = bands[e] as { min: number; max: number };
      // Each expert's normalized spectrum is within [1e-2, 1], where jordan's band is [0.682, 1.134] (README).
      expect(band.min).toBeGreaterThan(0.68);
      expect(band.max).toBeLessThan(1.14);
      for (const sigma of s) {
        expect(sigma).toBeGreaterThan(band.min - SIGMA_TOL);
        expect(sigma).toBeLessThan(band.max + SIGMA_TOL);
      }
    });
    // The same gradient flattened into one [128, 16] matrix (what a rank-3 weight got before
    // matrixViews, here asked for by a convKernel rule): the small experts' blocks get almost
    // nothing, the large one almost all of the update.
    const flattened = perExpert({ matrixViews: [{ name: 'moe/experts', convKernel: true }] }).sigmas;
    // Measured: 0.003 (the 0.05-scaled expert) to 1.11 (the 4-scaled one), against [0.68, 1.13].
    expect(Math.min(...flattened.map((s) => s.at(-1) as number))).toBeLessThan(0.01);
  });

  it("with polarExpress8 (convergent), each expert's update is that expert's float64 polar factor", () => {
    const w = zeroWeight(SHAPE);
    const g = expertsGradient(11);
    muon({ learningRate: 1, momentum: 0, lrAdjust: 'none', coefficients: 'polarExpress8', matrixViews: [EXPERTS_RULE] }).applyGradients({ [w.name]: g });
    const update = Float64Array.from(w.dataSync(), (x) => -x);
    for (let e = 0; e < EXPERTS; e++) {
      // polarExpress8 in float32 against the exact polar factor: newtonSchulz.test.ts's bound for one matrix.
      expect(relativeFrobenius(expert(update, e).data, polarFactor(expert(g.dataSync(), e)).data)).toBeLessThan(1e-5);
    }
  });

  it("heads along the rows of a 2-D output projection (a reshape rule): each head's update is its row block's float64 polar factor", () => {
    // [4·8, 16]: 4 heads of 8 rows each, seen as [4, 8, 16] (dion's per-head split of an output projection).
    const w = zeroWeight([32, 16], 'attention/out');
    const g = tf.randomNormal([32, 16], 0, 1, 'float32', 13);
    const rule = { name: 'attention/out', reshape: [4, -1, 16], reductionAxes: [1], outputAxes: [2] };
    muon({ learningRate: 1, momentum: 0, lrAdjust: 'none', coefficients: 'polarExpress8', matrixViews: [rule] }).applyGradients({ [w.name]: g });
    const update = Float64Array.from(w.dataSync(), (x) => -x);
    const grad = g.dataSync();
    for (let head = 0; head < 4; head++) {
      const rows = (values: ArrayLike<number>) => Float64Array.from({ length: 8 * 16 }, (_, i) => values[head * 8 * 16 + i] as number);
      expect(relativeFrobenius(rows(update), polarFactor({ rows: 8, cols: 16, data: rows(grad) }).data)).toBeLessThan(1e-5);
    }
  });

  it('hands the experts to the kernel in one call, keeps the momentum in the weight shape, and leaks no tensor', () => {
    const w = zeroWeight(SHAPE);
    const dense = zeroWeight([32, 16], 'dense/kernel');
    const seen: number[][][] = [];
    const spy: Orthogonalizer = (matrices, schedule) => {
      seen.push(matrices.map((m) => m.shape));
      return newtonSchulzEach(matrices, schedule);
    };
    const g = expertsGradient(4);
    const gDense = tf.randomNormal([32, 16], 0, 1, 'float32', 5);
    const optimizer = muon({ momentum: 0.9, matrixViews: [EXPERTS_RULE], execution: { orthogonalize: spy } });
    optimizer.applyGradients({ [w.name]: g, [dense.name]: gDense });
    // One call: the 4 experts and the dense kernel, all [32, 16], which a batching kernel stacks into one computation.
    expect(seen).toEqual([Array.from({ length: EXPERTS + 1 }, () => [32, 16])]);
    const momentum = optimizer.getSlot(w.name, 'momentum') as tf.Variable;
    expect(momentum.shape).toEqual(SHAPE);
    const expected = tf.mul(g, 0.1).dataSync();
    momentum.dataSync().forEach((m, i) => expect(Math.abs(m - (expected[i] as number))).toBeLessThan(1e-7));
    const count = tf.memory().numTensors;
    optimizer.applyGradients({ [w.name]: g, [dense.name]: gDense });
    expect(tf.memory().numTensors).toBe(count);
  });

  it('scales each expert by its own [in, out] shape, not by the flattened one', () => {
    // Experts [4, 16, 64]: 'original' gives √(64/16) = 2 per expert; the flattened [64, 64] would give 1.
    const shape = [4, 16, 64];
    const g = tf.randomNormal(shape, 0, 1, 'float32', 6);
    const step = (lrAdjust: 'original' | 'none'): Float32Array => {
      const w = zeroWeight(shape);
      muon({ momentum: 0, lrAdjust, matrixViews: [EXPERTS_RULE], execution: { orthogonalize: newtonSchulzEach } }).applyGradients({ [w.name]: g });
      return w.dataSync() as Float32Array;
    };
    const scaled = step('original');
    step('none').forEach((x, i) => expect(scaled[i]).toBeCloseTo(2 * x, 6));
  });
});

describe('matrixViews: refusals, routing, serialization and checkpoints', () => {
  beforeAll(() => useBackend('cpu'));
  afterEach(() => vi.restoreAllMocks());

  it('refuses a rank-3 weight with no view, naming it, its shape and the option, and leaves it untouched', () => {
    const w = zeroWeight(SHAPE, 'custom/kernel');
    const optimizer = muon();
    expect(() => optimizer.applyGradients({ [w.name]: expertsGradient(7) })).toThrow(
      new RegExp(`variable '${w.name}' has shape \\[4, 32, 16\\] \\(rank 3\\) and is not known to be a convolution kernel.*option matrixViews, e\\.g\\. \\{ name: '${w.name}', reductionAxes: \\[1\\], outputAxes: \\[2\\] \\} \\(4 matrices \\[32, 16\\]`),
    );
    expect(Array.from(w.dataSync()).every((x) => x === 0)).toBe(true);
    expect(optimizer.iterations).toBe(0);
    expect(optimizer.getSlot(w.name, 'momentum')).toBeUndefined();
  });

  it('refuses at construction a hybrid that routes it to Muon by a rule, and a rule that does not fit its shape', () => {
    const variables = [{ name: 'moe/experts', shape: SHAPE }];
    expect(() => new HybridOptimizer({ groups: { muon: { optimizer: 'muon', options: {} } }, label: () => 'muon', variables })).toThrow(
      /Routing sends 'moe\/experts' of shape \[4, 32, 16\] to Muon \(group 'muon', label function\), but variable 'moe\/experts' .*matrixViews/,
    );
    expect(
      () => new HybridOptimizer({ groups: { muon: { optimizer: 'muon', options: { matrixViews: [{ name: 'experts', reductionAxes: [1], outputAxes: [3] }] } } }, label: () => 'muon', variables }),
    ).toThrow(/matrixViews 'experts' does not fit 'moe\/experts': A weight of shape \[4, 32, 16\] has no axis 3/);
    expect(() => muon({ matrixViews: [{ name: 'x', reductionAxes: [1.5], outputAxes: [2] }] })).toThrow(/matrixViews\[0\]\.reductionAxes \('x'\) must be an integer axis/);
    expect(() => muon({ matrixViews: [{ name: '', convKernel: true }] })).toThrow(/matrixViews\[0\]\.name must be a non-empty string/);
    expect(() => muon({ matrixViews: [{ name: 'x', convKernel: true, outputAxes: [2] } as never] })).toThrow(/must be either \{ name, convKernel: true \} or/);
    expect(() => muon({ matrixViews: [{ name: 'x', reshape: [0, 4], reductionAxes: [0], outputAxes: [1] }] })).toThrow(/matrixViews\[0\]\.reshape \('x'\) must be a list of positive sizes/);
  });

  it('muonWithAdamW(model) sends a custom layer\'s rank-3 weight to AdamW with a warning naming it, to Muon under a rule; conv kernels by their layer class', () => {
    const model: LayersModelLike = {
      layers: [
        { getClassName: () => 'Conv2D', trainableWeights: [{ name: 'conv/kernel', shape: [3, 3, 4, 16] }] },
        { getClassName: () => 'MoE', trainableWeights: [{ name: 'moe/experts', shape: SHAPE }] },
        { getClassName: () => 'Dense', trainableWeights: [{ name: 'head/kernel', shape: [16, 10] }] },
      ],
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const routes = (options: Parameters<typeof muonWithAdamW>[1]) => new Map(muonWithAdamW(model, options).describeRouting().map((r) => [r.variable, r]));
    const plain = routes({});
    expect(plain.get('moe/experts')).toMatchObject({ label: 'adamw' });
    expect(plain.get('conv/kernel')).toMatchObject({ label: 'muon', matrix: [36, 16] });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/'moe\/experts' of shape \[4, 32, 16\] goes to 'adamw' .*MoE layer.*matrixViews/));
    warn.mockClear();
    const viewed = routes({ muon: { matrixViews: [{ name: 'experts', reductionAxes: [1], outputAxes: [2] }] } });
    expect(viewed.get('moe/experts')).toMatchObject({ label: 'muon', matrix: [32, 16], matrices: 4, scale: 1 });
    expect(warn).not.toHaveBeenCalled();
  });

  it('round-trips the rules through getConfig/fromConfig, and a hybrid its conv kernels', () => {
    const matrixViews = [EXPERTS_RULE, { name: 'conv', convKernel: true }] as const;
    const copy = MuonOptimizer.fromConfig(MuonOptimizer, JSON.parse(JSON.stringify(muon({ matrixViews }).getConfig()))) as MuonOptimizer;
    expect(copy.options.matrixViews).toEqual(matrixViews);
    const model: LayersModelLike = { layers: [{ getClassName: () => 'Conv2D', trainableWeights: [{ name: 'conv2d/kernel', shape: [3, 3, 4, 16] }] }] };
    const hybrid = new HybridOptimizer({ groups: { muon: { optimizer: 'muon', options: {} } }, variables: [{ name: 'conv2d/kernel', shape: [3, 3, 4, 16], layerClass: 'Conv2D' }] });
    // The layer class is not in the saved config, so the route records that it is a conv kernel.
    const config = JSON.parse(JSON.stringify(hybrid.getConfig())) as { routes: { convKernel?: boolean }[] };
    expect(config.routes[0]?.convKernel).toBe(true);
    const restored = HybridOptimizer.fromConfig(HybridOptimizer, config as never) as HybridOptimizer;
    expect(restored.routeOf('conv2d/kernel', [3, 3, 4, 16])).toBe('muon');
    expect(restored.describeRouting()[0]).toMatchObject({ matrix: [36, 16] });
    expect(model.layers).toHaveLength(1);
  });

  it('restores a config saved before routes recorded convolution kernels: a rank ≥ 3 Muon weight keeps its flattened view, with a warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const legacy = { groups: [{ name: 'muon', optimizer: 'muon', options: {} }], routes: [{ name: 'old/conv/kernel', group: { name: 'muon' }, shape: [3, 3, 4, 16] }] };
    const restored = HybridOptimizer.fromConfig(HybridOptimizer, legacy as never) as HybridOptimizer;
    expect(restored.routeOf('old/conv/kernel', [3, 3, 4, 16])).toBe('muon');
    expect(restored.describeRouting()[0]).toMatchObject({ matrix: [36, 16] });
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/'old\/conv\/kernel' of shape \[3, 3, 4, 16\] comes from a config saved before routes recorded convolution kernels/));
    // Saved again, the route records it.
    const saved = JSON.parse(JSON.stringify(restored.getConfig())) as { routes: { convKernel?: boolean }[] };
    expect(saved.routes[0]?.convKernel).toBe(true);
  });

  it('restores a checkpoint: the resumed step equals the uninterrupted one, for Muon and for NorMuon (stacked per-expert slots)', async () => {
    for (const create of [() => muon({ matrixViews: [EXPERTS_RULE] }), () => normuon({ matrixViews: [EXPERTS_RULE] })]) {
      const w = zeroWeight(SHAPE);
      const original = create();
      original.applyGradients({ [w.name]: expertsGradient(8) });
      const saved = await original.getWeights();
      const twin = tf.variable(w.clone(), true, `${w.name}_twin`);
      const resumed = create();
      await resumed.setWeights(saved.map(({ name, tensor }) => ({ name: name.replace(w.name, twin.name), tensor })));
      original.applyGradients({ [w.name]: expertsGradient(9) });
      resumed.applyGradients({ [twin.name]: expertsGradient(9) });
      expect(Array.from(twin.dataSync())).toEqual(Array.from(w.dataSync()));
    }
    // Slots not shaped like the weight are one per expert, stacked: NorMuon's [1, 16] second
    // moment, and under nsSteps 'auto' each expert's own [16] lower bound (its own schedule).
    const w = zeroWeight(SHAPE);
    const optimizer = normuon({ matrixViews: [EXPERTS_RULE] });
    optimizer.applyGradients({ [w.name]: expertsGradient(10) });
    expect(optimizer.getSlot(w.name, 'neuronSecondMoment')?.shape).toEqual([4, 1, 16]);
    const auto = muon({ nsSteps: 'auto', matrixViews: [EXPERTS_RULE] });
    auto.applyGradients({ [w.name]: expertsGradient(12) });
    const bounds = auto.getSlot(w.name, 'nsLowerBound') as tf.Variable;
    expect(bounds.shape).toEqual([4, 16]);
    // Each row is one expert's measured grid point, repeated along its columns.
    (bounds.arraySync() as number[][]).forEach((row) => expect(new Set(row).size).toBe(1));
  });

  it('a refused first step (a non-finite gradient) leaves no tensor behind, per expert as per tap', () => {
    for (const [shape, options] of [
      [SHAPE, { matrixViews: [EXPERTS_RULE] }],
      [[3, 3, 4, 8], { convOrthogonalization: 'perTap', matrixViews: [{ name: 'moe/experts', convKernel: true }] }],
    ] as const) {
      const w = zeroWeight(shape);
      const optimizer = muon(options);
      const g = tf.fill([...shape], Number.POSITIVE_INFINITY);
      const count = tf.memory().numTensors;
      expect(() => optimizer.applyGradients({ [w.name]: g })).toThrow(/Non-finite/);
      expect(tf.memory().numTensors).toBe(count);
    }
  });

  it('keeps such a Muon out of the fused step, and says why', () => {
    const [row] = muon({ matrixViews: [EXPERTS_RULE] }).describeExecution();
    expect(row).toMatchObject({ strategy: 'composed', reason: expect.stringMatching(/matrixViews sees some weights as batches of matrices/) });
  });
});
