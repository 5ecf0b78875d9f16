import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CoefficientPreset, composedPolynomial } from '../math/coefficients.js';
import { type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { matrixWithSingularValues, relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { polarFactor, singularValues } from '../diagnostics/polarFactor.js';
import { useBackend } from '../testing/backends.js';
import { describeFastestOrthogonalizer } from './fastestOrthogonalizer.js';
import { NATIVE_PRECISION_CODES, loadNativeAddon } from './nativeAddon.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';

/**
 * Newton–Schulz with bfloat16 products (native addon built with oneDNN, CPU with AVX512-BF16 or
 * AMX). Skipped, with the reason, where they cannot run; CI installs libdnnl-dev and sets
 * MUON_TFJS_REQUIRE_ONEDNN=1, so there an addon without oneDNN is a failure, not a skip.
 *
 * Tolerances come from bfloat16's unit roundoff u = 2⁻⁸ (8-bit significand, round to nearest):
 * each product rounds its two operands, a relative perturbation of at most 2u, so a run of P
 * products perturbs the float32 map by about 2u·P to first order, before the iteration damps
 * (large singular values) or amplifies (small ones) it. P = 3 per plain iteration (XXᵀ, A², BX),
 * at most 4 per Gram iteration (R², QZ, RZ, Z·RZ). On inputs whose normalized singular values lie
 * in the presets' design interval [1e-2, 1] the measured distances are 3u–7u (plain) and 9u–14u
 * (Gram) against bounds of 30u–48u. On ill-conditioned and low-rank inputs the rounding of the
 * near-null directions is amplified by the polynomials' slope at 0 (a₁…a_T, 486 for jordan) and
 * the whole-matrix distance reaches 0.15–2.1 (docs/performance.md): there the tests bound what
 * a Muon update needs, the leading block and the output's norm.
 */
const status = loadNativeAddon();
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const info = status.available ? status.addon.info() : undefined;
const bfloat16 = info?.bfloat16 === true;
const why = !status.available ? status.reason : (info?.products.bfloat16 ?? '');
const UNIT_ROUNDOFF = 2 ** -8;
const PRESETS = ['jordan', 'cesista5', 'you6', 'polarExpress5', 'polarExpress8'] as const satisfies readonly CoefficientPreset[];

/** First-order bound of the bfloat16-vs-float32 distance: 2u per product, `perIteration` products per iteration. */
const bound = (schedule: NewtonSchulzSchedule, perIteration: number): number => 2 * UNIT_ROUNDOFF * perIteration * schedule.steps;

describe('bfloat16 products', () => {
  it(bfloat16 ? 'run here (oneDNN with bfloat16 dot products)' : `are unavailable here (${why}): bfloat16 tests skipped`, async () => {
    await useBackend('cpu');
    if (env.MUON_TFJS_REQUIRE_ONEDNN === '1') expect(info?.onednn ?? why).toMatch(/^oneDNN/);
    const choice = describeFastestOrthogonalizer('bfloat16');
    expect(choice.precision).toBe(bfloat16 ? 'bfloat16' : 'float32');
    if (!bfloat16) expect(choice.bfloat16Missing).toBeDefined();
  });

  it.runIf(bfloat16)('round each operand to the nearest bfloat16 (ties to even) and accumulate in float32', () => {
    if (!status.available) return;
    const product = (a: number[], b: number[], precision: number): number => status.addon.matmul(Float32Array.from(a), Float32Array.from(b), 1, a.length, 1, precision)[0] as number;
    const bf16 = NATIVE_PRECISION_CODES.bfloat16;
    // bfloat16 keeps 7 fraction bits: the neighbours of 1 are 1 and 1 + 2⁻⁷.
    expect(product([1 + 2 ** -8], [1], bf16)).toBe(1); // tie → even (1)
    expect(product([1 + 3 * 2 ** -8], [1], bf16)).toBe(1 + 2 ** -6); // tie → even (1 + 2⁻⁶)
    expect(product([1 + 2 ** -8 + 2 ** -20], [1], bf16)).toBe(1 + 2 ** -7); // above the tie → up
    expect(product([-(1 + 3 * 2 ** -8)], [1], bf16)).toBe(-(1 + 2 ** -6));
    expect(product([1 + 2 ** -8], [1], NATIVE_PRECISION_CODES.float32)).toBe(1 + 2 ** -8); // float32 keeps it
    // 1 + 256 · 2⁻⁸ = 2: a bfloat16 accumulator would stay at 1 (1 + 2⁻⁸ rounds back to 1).
    expect(product([1, ...Array<number>(256).fill(2 ** -8)], Array<number>(257).fill(1), bf16)).toBe(2);
  });
});

describe.skipIf(!bfloat16)('bfloat16 Newton–Schulz against float32 and the exact maps', () => {
  beforeAll(() => useBackend('cpu'));

  /** The contract's well-conditioned inputs: singular values 1e-2…1 (geometric), times 3. */
  const spread = (k: number): number[] => Array.from({ length: k }, (_, i) => 3 * 1e-2 ** (1 - i / (k - 1)));

  it.each([
    [48, 96],
    [96, 48],
    [64, 64],
  ] as const)('plain: within 2u per product of the float32 map on %i×%i, every preset', (m, n) => {
    const { g } = matrixWithSingularValues(m, n, spread(Math.min(m, n)), 11);
    const input = tf.tensor2d(g.to2DArray());
    const orthogonalize = nativeOrthogonalizer({ algorithm: 'plain' });
    for (const preset of PRESETS) {
      const float32 = resolveNewtonSchulz({ coefficients: preset });
      const [reference, got] = [float32, resolveNewtonSchulz({ coefficients: preset, precision: 'bfloat16' })].map((s) => orthogonalize([input], s)[0] as tf.Tensor2D);
      const distance = relativeFrobenius((got as tf.Tensor2D).dataSync(), (reference as tf.Tensor2D).dataSync());
      expect(distance, preset).toBeLessThan(bound(float32, 3));
      // Not float32 in disguise: bfloat16 rounding shows (measured ≥ 2.8u).
      expect(distance, preset).toBeGreaterThan(UNIT_ROUNDOFF);
      tf.dispose([reference as tf.Tensor2D, got as tf.Tensor2D]);
    }
    input.dispose();
  });

  it('plain, polarExpress8: the exact polar factor UVᵀ within the same bound', () => {
    const { g } = matrixWithSingularValues(48, 96, spread(48), 11);
    const input = tf.tensor2d(g.to2DArray());
    const schedule = resolveNewtonSchulz({ coefficients: 'polarExpress8', precision: 'bfloat16' });
    const [got] = nativeOrthogonalizer()([input], schedule);
    expect(relativeFrobenius((got as tf.Tensor2D).dataSync(), polarFactor(input).data)).toBeLessThan(bound(schedule, 3));
    tf.dispose([input, got as tf.Tensor2D]);
  });

  it('auto plans the plain iteration for bfloat16 (the Gram one diverges with polarExpress)', () => {
    const { g } = matrixWithSingularValues(48, 96, spread(48), 11);
    const input = tf.tensor2d(g.to2DArray());
    for (const preset of ['jordan', 'polarExpress5'] as const) {
      const schedule = resolveNewtonSchulz({ coefficients: preset, precision: 'bfloat16' });
      const [auto, plain] = [nativeOrthogonalizer(), nativeOrthogonalizer({ algorithm: 'plain' })].map((o) => o([input], schedule)[0] as tf.Tensor2D);
      expect(relativeFrobenius((auto as tf.Tensor2D).dataSync(), (plain as tf.Tensor2D).dataSync()), preset).toBe(0);
      tf.dispose([auto as tf.Tensor2D, plain as tf.Tensor2D]);
    }
    input.dispose();
  });

  it('Gram with the default restarts: within 2u per product of the float32 map for jordan, cesista5, you6', () => {
    // The presets with moderate coefficients (first a ≤ 4.1); polarExpress5/8 (first a = 8.3) are not run in
    // Gram form in bfloat16 (above).
    const { g } = matrixWithSingularValues(48, 96, spread(48), 11);
    const input = tf.tensor2d(g.to2DArray());
    const gram = nativeOrthogonalizer({ algorithm: 'gram' });
    for (const preset of ['jordan', 'cesista5', 'you6'] as const) {
      const float32 = resolveNewtonSchulz({ coefficients: preset });
      const [reference, got] = [float32, resolveNewtonSchulz({ coefficients: preset, precision: 'bfloat16' })].map((s) => gram([input], s)[0] as tf.Tensor2D);
      expect(relativeFrobenius((got as tf.Tensor2D).dataSync(), (reference as tf.Tensor2D).dataSync()), preset).toBeLessThan(bound(float32, 4));
      tf.dispose([reference as tf.Tensor2D, got as tf.Tensor2D]);
    }
    input.dispose();
  });

  it.each([
    ['condition number 1e6', (i: number, k: number) => 1e-6 ** (i / (k - 1))],
    ['rank 8 of 64, exact zeros beyond', (i: number) => (i < 8 ? 1e-2 ** (i / 7) : 0)],
  ] as const)('ill-conditioned input (%s, 64×256): the leading block within the bound, the norm bounded', (_, singularValue) => {
    const [m, n] = [64, 256];
    const s = Array.from({ length: m }, (_, i) => singularValue(i, m));
    const { g, u, v } = matrixWithSingularValues(m, n, s, 23);
    const input = tf.tensor2d(g.to2DArray());
    // The leading directions: normalized singular values in the design interval [1e-2, 1].
    const frobenius = Math.hypot(...s);
    const k = s.filter((x) => x / frobenius >= 1e-2).length;
    const uk = u.subMatrix(0, m - 1, 0, k - 1);
    const vk = v.subMatrix(0, n - 1, 0, k - 1);
    const leading = (values: Float32Array): number[] => uk.transpose().mmul(Matrix.from1DArray(m, n, Array.from(values))).mmul(vk).to1DArray();
    for (const preset of PRESETS) {
      const float32 = resolveNewtonSchulz({ coefficients: preset });
      const [reference, got] = [float32, resolveNewtonSchulz({ coefficients: preset, precision: 'bfloat16' })].map((schedule) => nativeOrthogonalizer()([input], schedule)[0] as tf.Tensor2D);
      const values = (got as tf.Tensor2D).dataSync<'float32'>();
      expect(values.every(Number.isFinite), preset).toBe(true);
      expect(relativeFrobenius(leading(values), leading((reference as tf.Tensor2D).dataSync<'float32'>())), preset).toBeLessThan(bound(float32, 3));
      // Amplified round-off in the near-null directions still maps through the polynomial: no
      // singular value beyond the schedule's largest value on [0, 1] plus the bound.
      let largest = 0;
      for (let i = 0; i <= 1000; i++) largest = Math.max(largest, Math.abs(composedPolynomial(float32, i / 1000)));
      expect(singularValues(got as tf.Tensor2D)[0], preset).toBeLessThan(largest + bound(float32, 3));
      tf.dispose([reference as tf.Tensor2D, got as tf.Tensor2D]);
    }
    input.dispose();
  });
});
