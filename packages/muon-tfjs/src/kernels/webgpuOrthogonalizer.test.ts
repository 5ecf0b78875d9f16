import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CoefficientPreset, composedPolynomial } from '../math/coefficients.js';
import { type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { matrixWithSingularValues, relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { polarFactor } from '../diagnostics/polarFactor.js';
import { useBackend } from '../testing/backends.js';
import { describeOrthogonalizerContract } from '../testing/orthogonalizerContract.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { describeFastestOrthogonalizer, fastestOrthogonalizer } from './fastestOrthogonalizer.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { countWebGpuDispatches } from './webgpuDispatches.js';
import { WEBGPU_CAPABILITIES, webgpuOrthogonalizer } from './webgpuOrthogonalizer.js';
import { fusedProduct, webgpuProgramRunner } from './webgpuPrograms.js';

/**
 * The WebGPU kernel on Dawn's webgpu package (SwiftShader's Vulkan driver here, a GPU's driver
 * where one exists). Tolerances: the contract's as for gramOrthogonalizer (gramOrthogonalizer.test.ts):
 * 1e-5 for the plain iteration, 1e-4 for the Gram one (its R ← ZRZ keeps round-off). Against the
 * TF.js kernel on cpu, which runs the same plan product for product in float32, only the order of
 * each dot product's sum differs (64×16 tiles with fma here, TF.js's loop there): measured
 * 1.3e-6 to 2.3e-6 relative Frobenius on the shapes below, plain and Gram; the bound is the
 * issue's 1e-5, a 4× margin.
 */
const PLAIN_TOL = 1e-5;
const GRAM_TOL = 1e-4;
const CPU_AGREEMENT = 1e-5;
/** float16's unit roundoff: an 11-bit significand, so half an ulp of 1 is 2⁻¹¹. */
const FLOAT16_UNIT_ROUNDOFF = 2 ** -11;
const PRESETS = ['jordan', 'cesista5', 'you6', 'polarExpress5', 'polarExpress8'] as const satisfies readonly CoefficientPreset[];

/** The contract's well-conditioned inputs: singular values 1e-2…1 (geometric), times 3. */
const spread = (k: number): number[] => Array.from({ length: k }, (_, i) => 3 * 1e-2 ** (1 - i / (k - 1)));

/** One output of `orthogonalize` on `values` (an m×n matrix), read back asynchronously. */
async function orthogonalizeOne(orthogonalize: Orthogonalizer, values: Float32Array, m: number, n: number, schedule: NewtonSchulzSchedule): Promise<Float32Array> {
  const input = tf.tensor2d(values, [m, n]);
  const [output] = orthogonalize([input], schedule);
  const data = (await (output as tf.Tensor2D).data()) as Float32Array;
  tf.dispose([input, output as tf.Tensor2D]);
  return data;
}

if (WEBGPU_MISSING === undefined) {
  describeOrthogonalizerContract('webgpuOrthogonalizer() (auto: Gram for rectangular, plain for square)', () => webgpuOrthogonalizer(), GRAM_TOL, ['webgpu']);
  describeOrthogonalizerContract('webgpuOrthogonalizer({algorithm: plain})', () => webgpuOrthogonalizer({ algorithm: 'plain' }), PLAIN_TOL, ['webgpu']);
}

describe('webgpuOrthogonalizer', () => {
  reportWebGpuSkipped(it);
  const onWebGpu = WEBGPU_MISSING === undefined;

  it('refuses to run on another backend, naming it', async () => {
    await useBackend('cpu');
    const g = tf.zeros([4, 8]) as tf.Tensor2D;
    expect(() => webgpuOrthogonalizer()([g], resolveNewtonSchulz())).toThrow(/webgpuOrthogonalizer runs on the webgpu backend; the current one is 'cpu'/);
    g.dispose();
  });

  describe.skipIf(!onWebGpu)('on webgpu', () => {
    beforeAll(() => useBackend('webgpu'));
    afterAll(() => useBackend('cpu'));

    it.each([
      [48, 96],
      [96, 48],
      [64, 64],
      [130, 200],
    ] as const)('matches the TF.js kernel on cpu within 1e-5 in float32, plain and Gram (%i×%i)', async (m, n) => {
      const g = tf.tidy(() => tf.randomNormal([m, n], 0, 1, 'float32', m + n));
      const values = (await g.data()) as Float32Array;
      g.dispose();
      for (const algorithm of ['plain', 'gram'] as const) {
        for (const preset of ['jordan', 'polarExpress5'] as const) {
          const schedule = resolveNewtonSchulz({ coefficients: preset });
          await useBackend('cpu');
          const expected = await orthogonalizeOne(gramOrthogonalizer({ algorithm }), values, m, n, schedule);
          await useBackend('webgpu');
          const got = await orthogonalizeOne(webgpuOrthogonalizer({ algorithm }), values, m, n, schedule);
          expect(relativeFrobenius(got, expected), `${algorithm} ${preset}`).toBeLessThan(CPU_AGREEMENT);
        }
      }
    });

    it('normalizes without overflow or underflow: X·1e30 and X·1e-30 give X’s result', async () => {
      // ‖X‖_F of entries ~1e30 overflows float32 (squares ~1e60) and of ~1e-30 underflows to 0;
      // the scaled form divides by max|x| first, so all three runs see the same normalized matrix
      // up to the float32 rounding of X·scale (2⁻²⁴ relative per entry), which jordan's composed
      // polynomial amplifies in the small singular directions (measured 1.2e-6): the plain
      // iteration's 1e-5 bounds it. An overflowing norm would give 0, an underflowing one Inf/NaN.
      const g = tf.randomNormal([24, 40], 0, 1, 'float32', 9) as tf.Tensor2D;
      // eps = 0: with the default 1e-7, X·1e-30 (‖X‖_F ~ 1e-28) is rightly mapped to nearly 0.
      const schedule = resolveNewtonSchulz({ eps: 0 });
      const orthogonalize = webgpuOrthogonalizer();
      const [plain, huge, tiny] = [1, 1e30, 1e-30].map((scale) => tf.tidy(() => orthogonalize([tf.mul(g, scale) as tf.Tensor2D], schedule)[0] as tf.Tensor2D));
      const reference = await (plain as tf.Tensor2D).data();
      expect(relativeFrobenius(await (huge as tf.Tensor2D).data(), reference)).toBeLessThan(PLAIN_TOL);
      expect(relativeFrobenius(await (tiny as tf.Tensor2D).data(), reference)).toBeLessThan(PLAIN_TOL);
      tf.dispose([g, plain as tf.Tensor2D, huge as tf.Tensor2D, tiny as tf.Tensor2D]);
    });

    it('dispatches one program per product and one for the normalization, whatever the batch', () => {
      const schedule = resolveNewtonSchulz({ coefficients: 'jordan' });
      const steps = schedule.steps;
      const one = [tf.randomNormal([32, 64], 0, 1, 'float32', 1)] as tf.Tensor2D[];
      const four = [1, 2, 3, 4].map((seed) => tf.randomNormal([32, 64], 0, 1, 'float32', seed)) as tf.Tensor2D[];
      const plain = webgpuOrthogonalizer({ algorithm: 'plain' });
      const single = countWebGpuDispatches(() => plain(one, schedule));
      // 1 normalization + 3 products per iteration (A = XXᵀ; B = cAA + bA; X ← BX + aX).
      expect(single.dispatches).toBe(1 + 3 * steps);
      expect(single.byProgram.get('muonFusedProduct')).toBe(3 * steps);
      const batched = countWebGpuDispatches(() => plain(four, schedule));
      // The same programs for four matrices; TF.js's stack and unstack move them in and out.
      expect(batched.byProgram.get('muonFrobeniusNormalization')).toBe(1);
      expect(batched.byProgram.get('muonFusedProduct')).toBe(3 * steps);
      // Gram (restart after 3): R = XXᵀ, Z per iteration, Q ← QZ where Q exists, R ← Z(RZ) or restart (2 each), QX.
      const gram = countWebGpuDispatches(() => webgpuOrthogonalizer({ algorithm: 'gram' })(one, schedule));
      expect(gram.dispatches).toBe(1 + 1 + steps + (steps - 1 - schedule.restartAfter.length) + 2 * (steps - 1) + 1);
      // The TF.js kernel dispatches several programs per product (matMul, mul, add, transpose).
      const tfjs = countWebGpuDispatches(() => gramOrthogonalizer({ algorithm: 'plain' })(one, schedule));
      expect(tfjs.dispatches).toBeGreaterThan(2 * single.dispatches);
      tf.dispose([...one, ...four, ...single.result, ...batched.result, ...gram.result, ...tfjs.result]);
    });

    it('executes the plan of the planner it is given, algorithm and side', async () => {
      // A planner forcing Gram on a tall matrix: the same numbers as algorithm 'gram', and not the plain ones.
      const values = Float32Array.from({ length: 96 * 48 }, (_, i) => Math.cos(3 * i));
      const schedule = resolveNewtonSchulz({ coefficients: 'cesista5' });
      const planned: string[] = [];
      const gramPlanner: OrthogonalizationPlanner = (rows, cols, s) => {
        const plan = orthogonalizationPlanner(WEBGPU_CAPABILITIES, 'gram')(rows, cols, s);
        planned.push(`${rows}x${cols} ${plan.algorithm} ${String(plan.transposed)}`);
        return plan;
      };
      const viaPlanner = await orthogonalizeOne(webgpuOrthogonalizer({ planner: gramPlanner }), values, 96, 48, schedule);
      expect(planned).toEqual(['96x48 gram true']);
      expect(Array.from(viaPlanner)).toEqual(Array.from(await orthogonalizeOne(webgpuOrthogonalizer({ algorithm: 'gram' }), values, 96, 48, schedule)));
      expect(Array.from(viaPlanner)).not.toEqual(Array.from(await orthogonalizeOne(webgpuOrthogonalizer({ algorithm: 'plain' }), values, 96, 48, schedule)));
    });

    it('reads nothing back synchronously', () => {
      const backend = tf.backend();
      const readSync = vi.spyOn(backend, 'readSync');
      const inputs = [tf.randomNormal([32, 64]), tf.randomNormal([32, 64]), tf.randomNormal([64, 16])] as tf.Tensor2D[];
      const outputs = webgpuOrthogonalizer()(inputs, resolveNewtonSchulz());
      expect(readSync).not.toHaveBeenCalled();
      readSync.mockRestore();
      tf.dispose([...inputs, ...outputs]);
    });

    it('is what fastestOrthogonalizer runs here, and describes itself so', async () => {
      expect(describeFastestOrthogonalizer()).toMatchObject({ kernel: 'webgpu', precision: 'float32' });
      expect(describeFastestOrthogonalizer('float16').precision).toBe('float16');
      expect(describeFastestOrthogonalizer('bfloat16').precision).toBe('float32');
      const g = tf.randomNormal([40, 24], 0, 1, 'float32', 4) as tf.Tensor2D;
      const values = (await g.data()) as Float32Array;
      g.dispose();
      const schedule = resolveNewtonSchulz({ coefficients: 'polarExpress5' });
      const fastest = await orthogonalizeOne(fastestOrthogonalizer(), values, 40, 24, schedule);
      expect(Array.from(fastest)).toEqual(Array.from(await orthogonalizeOne(webgpuOrthogonalizer(), values, 40, 24, schedule)));
    });

    it('runs a bfloat16 schedule in float32, saying so once', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      const values = Float32Array.from({ length: 24 * 40 }, (_, i) => Math.sin(i));
      const orthogonalize = webgpuOrthogonalizer();
      const float32 = await orthogonalizeOne(orthogonalize, values, 24, 40, resolveNewtonSchulz());
      const bfloat16 = resolveNewtonSchulz({ precision: 'bfloat16' });
      for (let run = 0; run < 2; run++) expect(Array.from(await orthogonalizeOne(orthogonalize, values, 24, 40, bfloat16))).toEqual(Array.from(float32));
      const ours = warn.mock.calls.filter(([message]) => String(message).startsWith('muon-tfjs:'));
      expect(ours).toEqual([[expect.stringMatching(/^muon-tfjs: precision 'bfloat16' was requested; the WebGPU kernel runs Newton–Schulz in float32 \(WGSL has no bfloat16/)]]);
      warn.mockRestore();
    });
  });

  /**
   * float16 products: operands rounded to binary16, float32 accumulation. The rounding is WGSL's
   * core pack2x16float, so these run on every adapter (SwiftShader here has no shader-f16, and
   * needs none). Bounds as for bfloat16 (bfloat16Orthogonalization.test.ts) with float16's unit
   * roundoff u = 2⁻¹¹: each product perturbs the float32 map by at most 2u, so P products per
   * iteration and T iterations by about 2u·P·T to first order; P = 3 for the plain iteration.
   * Measured on SwiftShader: 1.7u–4.7u from the float32 map (u ≈ 4.9e-4, so 8e-4 to 2.3e-3) on the
   * inputs below, against bounds of 30u–48u; polarExpress8 3.4u from the exact polar factor.
   * bfloat16 measured 3u–7u of its u = 2⁻⁸ (0.012–0.027) on the same inputs: float16 is about 12× closer.
   */
  describe.skipIf(!onWebGpu)("precision 'float16' on webgpu", () => {
    beforeAll(() => useBackend('webgpu'));
    afterAll(() => useBackend('cpu'));
    const bound = (schedule: NewtonSchulzSchedule): number => 2 * FLOAT16_UNIT_ROUNDOFF * 3 * schedule.steps;

    it('rounds each operand to binary16 and accumulates in float32', async () => {
      const runner = webgpuProgramRunner('test');
      const dot = async (left: number[], right: number[], halfOperands: boolean): Promise<number> => {
        const l = tf.tensor3d(left, [1, 1, left.length]);
        const r = tf.tensor3d(right, [1, right.length, 1]);
        const out = fusedProduct(runner, l, r, { halfOperands });
        const [value] = await out.data();
        tf.dispose([l, r, out]);
        return value as number;
      };
      // 1 + 2⁻²⁰ is a float32 but lies between the binary16 neighbours 1 and 1 + 2⁻¹⁰.
      expect([1, 1 + 2 ** -10]).toContain(await dot([1 + 2 ** -20], [1], true));
      expect(await dot([1 + 2 ** -20], [1], false)).toBe(1 + 2 ** -20);
      // 1 + 2048 · 2⁻¹¹ = 2 (each term exact in binary16): a binary16 accumulator would stay at 1.
      expect(await dot([1, ...Array<number>(2048).fill(2 ** -11)], Array<number>(2049).fill(1), true)).toBe(2);
    });

    it.each([
      [48, 96],
      [96, 48],
      [64, 64],
    ] as const)('within 2u per product of the float32 map on %i×%i, every preset (plain, as auto plans it)', async (m, n) => {
      const { g } = matrixWithSingularValues(m, n, spread(Math.min(m, n)), 11);
      const values = Float32Array.from(g.to1DArray());
      const orthogonalize = webgpuOrthogonalizer();
      for (const preset of PRESETS) {
        const float32 = resolveNewtonSchulz({ coefficients: preset });
        const reference = await orthogonalizeOne(orthogonalize, values, m, n, float32);
        const got = await orthogonalizeOne(orthogonalize, values, m, n, resolveNewtonSchulz({ coefficients: preset, precision: 'float16' }));
        const distance = relativeFrobenius(got, reference);
        expect(distance, preset).toBeLessThan(bound(float32));
        // Not float32 in disguise: binary16 rounding shows (measured ≥ 1.65u).
        expect(distance, preset).toBeGreaterThan(FLOAT16_UNIT_ROUNDOFF);
      }
    });

    it('polarExpress8: the exact polar factor UVᵀ within the same bound; jordan: the float64 map', async () => {
      const { g, u, v } = matrixWithSingularValues(48, 96, spread(48), 11);
      const values = Float32Array.from(g.to1DArray());
      const polarExpress8 = resolveNewtonSchulz({ coefficients: 'polarExpress8', precision: 'float16' });
      const polar = await orthogonalizeOne(webgpuOrthogonalizer(), values, 48, 96, polarExpress8);
      const exact = polarFactor({ rows: 48, cols: 96, data: Float64Array.from(values) });
      expect(relativeFrobenius(polar, exact.data)).toBeLessThan(bound(polarExpress8));
      const jordan = resolveNewtonSchulz({ coefficients: 'jordan', precision: 'float16' });
      const s = spread(48);
      const frobenius = Math.hypot(...s);
      const map = u.mmul(Matrix.diag(s.map((x) => composedPolynomial(jordan, x / frobenius)))).mmul(v.transpose()).to1DArray();
      expect(relativeFrobenius(await orthogonalizeOne(webgpuOrthogonalizer(), values, 48, 96, jordan), map)).toBeLessThan(bound(jordan));
    });
  });
});
