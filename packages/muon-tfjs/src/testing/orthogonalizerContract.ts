import * as tf from '@tensorflow/tfjs-core';
import { Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CoefficientPreset, composedPolynomial } from '../math/coefficients.js';
import { newtonSchulz } from '../math/newtonSchulz.js';
import { type NewtonSchulzSchedule, resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { newtonSchulzReference } from '../diagnostics/newtonSchulzReference.js';
import { polarFactor } from '../diagnostics/polarFactor.js';
import { TEST_BACKENDS, type TestBackend, useBackend } from './backends.js';
import { matrixWithSingularValues, maxAbsDiff, relativeFrobenius } from '../diagnostics/float64Matrices.js';

const PRESETS = ['jordan', 'cesista5', 'you6', 'polarExpress5', 'polarExpress8', 'turboMuon'] as const satisfies readonly CoefficientPreset[];

/** Singular values spread geometrically from `lower` to 1, then scaled to unit Frobenius norm. */
function spectrum(count: number, lower: number): number[] {
  const raw = Array.from({ length: count }, (_, i) => lower ** (1 - i / (count - 1)));
  const norm = Math.hypot(...raw);
  return raw.map((s) => s / norm);
}

/** ‖XXᵀ − I‖_F (XᵀX for tall X) in float64, the orthogonality error the benchmarks report. */
export function orthogonalityError(values: ArrayLike<number>, rows: number, cols: number): number {
  const x = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) x.set(i, j, values[i * cols + j] as number);
  const gram = rows <= cols ? x.mmul(x.transpose()) : x.transpose().mmul(x);
  return gram.sub(Matrix.eye(gram.rows)).norm('frobenius');
}

/**
 * The contract every {@link Orthogonalizer} meets, run on `backends` (default `cpu` and `wasm`): it
 * computes the map of `newtonSchulz` (same coefficients) within `tolerance` (relative Frobenius
 * error against the float64 U·p(S)·Vᵀ), is no less orthogonal than the plain iteration beyond
 * round-off, keeps the order and shapes of its inputs, maps zero to zero, and leaks no tensors.
 * Outputs are read with `await data()`, which every backend serves (webgpu has no synchronous read in Node).
 */
export function describeOrthogonalizerContract(name: string, make: () => Orthogonalizer, tolerance: number, backends: readonly TestBackend[] = TEST_BACKENDS): void {
  describe.each(backends)(`${name} on %s`, (backend) => {
    let orthogonalize: Orthogonalizer;
    beforeAll(async () => {
      await useBackend(backend);
      orthogonalize = make();
    });

    it.each([
      [48, 96],
      [96, 48],
      [64, 64],
      [40, 200],
    ] as const)('maps singular values through the composed polynomial (%i×%i, every preset)', async (m, n) => {
      const s = spectrum(Math.min(m, n), 1e-2).map((x) => 3 * x);
      const { g } = matrixWithSingularValues(m, n, s, 11);
      const input = tf.tensor2d(g.to2DArray());
      // The float64 input the kernel sees (float32 values, exactly), for the float64 map.
      const seen = { rows: m, cols: n, data: Float64Array.from(await input.data()) };
      for (const preset of PRESETS) {
        const schedule = resolveNewtonSchulz({ coefficients: preset });
        // U·p(S)·Vᵀ of the normalized input: X/‖X‖_F, or for turboMuon the AOL-rescaled
        // diag(s)·X with s computed in float64, so the kernel's rescaling is checked too.
        const expected = newtonSchulzReference(seen, schedule);
        const [output] = orthogonalize([input], schedule);
        expect(output?.shape).toEqual([m, n]);
        expect(relativeFrobenius(await (output as tf.Tensor2D).data(), expected.data), preset).toBeLessThan(tolerance);
        output?.dispose();
      }
      input.dispose();
    });

    it('agrees with newtonSchulz and is as orthogonal as it, up to round-off, on Gaussian matrices', async () => {
      for (const [m, n, preset] of [
        [64, 160, 'jordan'],
        [160, 64, 'polarExpress5'],
        [64, 160, 'polarExpress8'],
        [72, 72, 'cesista5'],
        [160, 64, 'turboMuon'],
      ] as const) {
        const g = tf.randomNormal([m, n], 0, 1, 'float32', m * n) as tf.Tensor2D;
        const plain = newtonSchulz(g, { coefficients: preset });
        const [output] = orthogonalize([g], resolveNewtonSchulz({ coefficients: preset }));
        const got = await (output as tf.Tensor2D).data();
        const reference = await plain.data();
        expect(relativeFrobenius(got, reference), `${m}×${n} ${preset}`).toBeLessThan(tolerance);
        // The same polynomial gives the same ‖XXᵀ − I‖ (0.3·√k for jordan, ~1e-5 for polarExpress8):
        // any excess must stay at round-off level, 1e-4 relative to ‖I‖_F = √min(m, n).
        const excess = orthogonalityError(got, m, n) - orthogonalityError(reference, m, n);
        expect(excess, `${m}×${n} ${preset}`).toBeLessThan(1e-4 * Math.sqrt(Math.min(m, n)));
        tf.dispose([g, plain, output as tf.Tensor2D]);
      }
    });

    it.each([
      ['condition number 1e6', (i: number, k: number) => 1e-6 ** (i / (k - 1))],
      ['rank 8 of 64, exact zeros beyond', (i: number) => (i < 8 ? 1e-2 ** (i / 7) : 0)],
    ] as const)('stays at the plain iteration’s accuracy on ill-conditioned input (%s, 64×256, jordan)', async (_, singularValue) => {
      // Momentum matrices are often nearly low-rank. Gram iterations lose accuracy the longer they
      // run between restarts (R is updated, not recomputed from X): on these inputs without any
      // restart the error is 7e-5 (TF.js cpu) to 4.8e-4 (wasm, addon), against ≤ 1.9e-5 for the plain
      // iteration on every kernel and backend and ≤ 1.8e-5 with the default restarts. The bound,
      // 4e-5, is twice the plain iteration's worst and below every no-restart case.
      const [m, n] = [64, 256];
      const s = Array.from({ length: m }, (_, i) => singularValue(i, m));
      const { g, u, v } = matrixWithSingularValues(m, n, s, 23);
      const frobenius = Math.hypot(...s);
      const schedule = resolveNewtonSchulz({ coefficients: 'jordan' });
      const expected = u.mmul(Matrix.diag(s.map((x) => composedPolynomial(schedule, x / frobenius)))).mmul(v.transpose()).to1DArray();
      const input = tf.tensor2d(g.to2DArray());
      const [output] = orthogonalize([input], schedule);
      expect(relativeFrobenius(await (output as tf.Tensor2D).data(), expected)).toBeLessThan(4e-5);
      tf.dispose([input, output as tf.Tensor2D]);
    });

    it('returns the polar factor UVᵀ with the convergent polarExpress8 schedule', async () => {
      const g = tf.randomNormal([64, 160], 0, 1, 'float32', 5) as tf.Tensor2D;
      const [output] = orthogonalize([g], resolveNewtonSchulz({ coefficients: 'polarExpress8' }));
      const exact = polarFactor({ rows: 64, cols: 160, data: Float64Array.from(await g.data()) });
      expect(relativeFrobenius(await (output as tf.Tensor2D).data(), exact.data)).toBeLessThan(tolerance);
      tf.dispose([g, output as tf.Tensor2D]);
    });

    it('handles a whole step in one call: mixed shapes, repeats, order kept', async () => {
      const shapes = [
        [24, 40],
        [40, 24],
        [24, 40],
        [16, 16],
        [24, 40],
      ] as const;
      const inputs = shapes.map(([m, n], i) => tf.randomNormal([m, n], 0, 1, 'float32', 100 + i) as tf.Tensor2D);
      const cesista5 = resolveNewtonSchulz({ coefficients: 'cesista5' });
      const outputs = orthogonalize(inputs, cesista5);
      expect(outputs.map((o) => o.shape)).toEqual(shapes.map((s) => [...s]));
      for (const [i, g] of inputs.entries()) {
        const [alone] = orthogonalize([g], cesista5);
        // Batched and single runs may sum in another order: equal up to fp32 round-off.
        expect(maxAbsDiff(await (outputs[i] as tf.Tensor2D).data(), await (alone as tf.Tensor2D).data())).toBeLessThan(1e-5);
        alone?.dispose();
      }
      tf.dispose([...inputs, ...outputs]);
    });

    it.each(['jordan', 'turboMuon'] as const)('maps a zero matrix to zero, without NaN (%s)', async (preset) => {
      const zero = tf.zeros([8, 20]) as tf.Tensor2D;
      const [output] = orthogonalize([zero], resolveNewtonSchulz({ coefficients: preset }));
      expect(Array.from(await (output as tf.Tensor2D).data()).every((x) => x === 0)).toBe(true);
      tf.dispose([zero, output as tf.Tensor2D]);
    });

    it('returns only its outputs: no other tensor is left behind', () => {
      const inputs = [tf.randomNormal([16, 48]), tf.randomNormal([16, 48]), tf.randomNormal([48, 16])] as tf.Tensor2D[];
      const before = tf.memory().numTensors;
      const outputs = orthogonalize(inputs, resolveNewtonSchulz());
      expect(tf.memory().numTensors).toBe(before + outputs.length);
      tf.dispose([...inputs, ...outputs]);
    });

    it('rejects a bad dtype or eps with the value at fault', () => {
      const ints = tf.zeros([4, 4], 'int32') as tf.Tensor2D;
      expect(() => orthogonalize([ints], resolveNewtonSchulz())).toThrow(/int32/);
      // eps is checked once, where the schedule is resolved: no kernel ever receives a bad one.
      expect(() => orthogonalize([tf.zeros([4, 4]) as tf.Tensor2D], resolveNewtonSchulz({ eps: -1 }))).toThrow(/eps must be .* got -1/);
    });

    it('refuses a schedule that resolveNewtonSchulz did not make, saying what to pass', () => {
      const g = tf.zeros([4, 4]) as tf.Tensor2D;
      const count = tf.memory().numTensors;
      const options = { coefficients: 'jordan' } as unknown as NewtonSchulzSchedule;
      expect(() => orthogonalize([g], options)).toThrow(/the schedule must be made by resolveNewtonSchulz\(options\) \(once, then passed to every call\); got an object with keys coefficients/);
      // A copy is not checked: it may hold any values.
      expect(() => orthogonalize([g], { ...resolveNewtonSchulz(), eps: -1 })).toThrow(/resolveNewtonSchulz/);
      expect(tf.memory().numTensors).toBe(count);
      g.dispose();
    });
  });
}
