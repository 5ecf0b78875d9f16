import * as tf from '@tensorflow/tfjs-core';
import { checkNewtonSchulzInput } from '../math/newtonSchulz.js';
import { type NewtonSchulzSchedule, checkResolvedSchedule } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { type KernelCapabilities, type NewtonSchulzAlgorithm, type OrthogonalizationPlan } from '../math/planOrthogonalization.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { kernelPlanner } from './kernelPlanner.js';
import { precisionThatRuns } from './precisionThatRuns.js';
import { warnOnce } from './warnOnce.js';
import { sameShapeGroups } from './sameShapeGroups.js';
import { type FusedProductTerms, type WebGpuProgramRunner, fusedProduct, normalizeFrobeniusOnGpu, webgpuProgramRunner } from './webgpuPrograms.js';

/**
 * What the WebGPU kernel's planner plans under: general products (the symmetric ones computed
 * whole, no syrk) and products with float16 operands for a schedule that asks for them, which
 * therefore never plans the Gram iteration under `'auto'` (its R ← ZRZ compounds the operands'
 * round-off, as measured for bfloat16; `planOrthogonalization`).
 */
export const WEBGPU_CAPABILITIES: KernelCapabilities = Object.freeze({ symmetricProductsAtHalfCost: false, bfloat16Products: false, float16Products: true });

/** Why the WebGPU kernel runs a bfloat16 schedule in float32. */
export const WEBGPU_BFLOAT16_MISSING = "WGSL has no bfloat16 conversion; precision 'float16' runs half-precision products here";

/** Options of {@link webgpuOrthogonalizer}. */
export interface WebGpuOrthogonalizerOptions {
  /** Default `'auto'`: the cheaper algorithm per shape under {@link WEBGPU_CAPABILITIES}. */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /** Plans the matrices instead of the kernel's own planner; excludes `algorithm`. */
  readonly planner?: OrthogonalizationPlanner;
}

/**
 * Runs a plan on a batch `[batch, rows, cols]` of same-shape matrices with the fused programs. The
 * iteration is `gramIteration`'s or `plainNewtonSchulz`'s (src/math), product for product, each
 * product one dispatch with its scale-and-add folded in, and the transposed side (tall matrices)
 * taken by the programs' operand transposes instead of explicit transposes:
 *
 *   plain, per iteration (3 dispatches): A = XXᵀ; B = c·AA + b·A (A symmetric, so A² = AAᵀ = AA);
 *     X ← BX + a·X. On the transposed side A = XᵀX and X ← XB + a·X.
 *   Gram, as `gramIteration`: R = XXᵀ; per iteration Z = c·RR + b·R + a·I (1 dispatch), Q ← QZ
 *     (after the first), then R ← Z(RZ) (2) or, at a restart, X ← QX and R = XXᵀ (2); QX at the end.
 *
 * plus one dispatch for the normalization. Decides nothing itself.
 */
function runPlan(runner: WebGpuProgramRunner, g: tf.Tensor3D, schedule: NewtonSchulzSchedule, plan: OrthogonalizationPlan, halfOperands: boolean): tf.Tensor3D {
  const transposed = plan.transposed;
  const product = (left: tf.Tensor3D, right: tf.Tensor3D, terms: FusedProductTerms = {}): tf.Tensor3D => fusedProduct(runner, left, right, { ...terms, halfOperands });
  // XXᵀ for wide X, XᵀX for tall X: always the min(rows, cols)² Gram matrix.
  const gramOf = (x: tf.Tensor3D): tf.Tensor3D => product(x, x, transposed ? { transposeLeft: true } : { transposeRight: true });
  // MX for wide X, XM for tall X (M symmetric, so XM = (MXᵀ)ᵀ), plus `a`·X where given.
  const apply = (m: tf.Tensor3D, x: tf.Tensor3D, a?: number): tf.Tensor3D => {
    const terms: FusedProductTerms = a === undefined ? {} : { addend: { beta: a, tensor: x } };
    return transposed ? product(x, m, terms) : product(m, x, terms);
  };
  let x = normalizeFrobeniusOnGpu(runner, g, schedule.normalizationScale, schedule.eps);
  if (plan.algorithm === 'plain') {
    for (const [a, b, c] of schedule.iterations) {
      const gram = gramOf(x);
      x = apply(product(gram, gram, { alpha: c, addend: { beta: b, tensor: gram } }), x, a);
    }
    return x;
  }
  let r = gramOf(x);
  let q: tf.Tensor3D | undefined;
  for (let t = 1; t <= schedule.steps; t++) {
    const [a, b, c] = schedule.iterations[t - 1] as readonly [number, number, number];
    const z = product(r, r, { alpha: c, addend: { beta: b, tensor: r }, diagonal: a });
    q = q === undefined ? z : product(q, z);
    if (t === schedule.steps) break;
    if (schedule.restartAfter.includes(t)) {
      x = apply(q, x);
      r = gramOf(x);
      q = undefined;
    } else {
      r = product(z, product(r, z));
    }
  }
  return q === undefined ? x : apply(q, x);
}

/**
 * An {@link Orthogonalizer} for the webgpu backend: Newton–Schulz as WGSL compute programs, one
 * dispatch per product with the polynomial's scale-and-add folded into the product's epilogue, the
 * normalization on the device too, and every group of same-shape matrices run as one batch (one
 * dispatch per product for the whole group). Plain or Gram per shape, as the planner decides
 * (`planOrthogonalization` under {@link WEBGPU_CAPABILITIES}). 3 dispatches per plain iteration
 * against 6 or more TF.js kernels for the same products in `gramOrthogonalizer` (matMuls, muls,
 * adds, transposes); count them with `countWebGpuDispatches`.
 *
 * Precision: float32 products; a schedule with `precision: 'float16'` rounds each product's two
 * operands to IEEE binary16 (11-bit significand, unit roundoff 2⁻¹¹) and accumulates in float32, the
 * normalization and the iterates between products staying float32. The rounding uses WGSL's core
 * `pack2x16float`, so it runs on every adapter, `shader-f16` or not: TF.js 4.22's webgpu backend
 * neither requests that feature for its device nor lets a program start with `enable f16;` (its
 * own declarations come first), so half-precision arithmetic itself is out of reach through it.
 * It gives float16's accuracy, not its speed. A bfloat16 schedule runs in float32, said once.
 *
 * Normalization: the Frobenius one only. A schedule with `normalization: 'aol'` (`turboMuon`) runs
 * in the TF.js kernel (`gramOrthogonalizer`, with this kernel's plans, in float32) on the same
 * backend, said once: correct, without the fused programs' dispatch savings.
 *
 * Reads nothing back: safe inside a training step on webgpu. Throws on another backend.
 */
export function webgpuOrthogonalizer(settings: WebGpuOrthogonalizerOptions = {}): Orthogonalizer {
  const plan = kernelPlanner(settings, () => orthogonalizationPlanner(WEBGPU_CAPABILITIES, settings.algorithm));
  const aolKernel = gramOrthogonalizer({ planner: plan });
  return (matrices, schedule) => {
    checkResolvedSchedule(schedule, 'webgpuOrthogonalizer');
    matrices.forEach((g) => checkNewtonSchulzInput(g, 'webgpuOrthogonalizer'));
    if (schedule.normalization === 'aol') {
      warnOnce('muon-tfjs: the WebGPU kernel normalizes by the Frobenius norm only; AOL schedules (turboMuon) run in the TF.js kernel on the webgpu backend');
      return aolKernel(matrices, schedule);
    }
    const runner = webgpuProgramRunner('webgpuOrthogonalizer');
    const halfOperands = precisionThatRuns(schedule.precision, 'the WebGPU kernel', schedule.precision === 'bfloat16' ? WEBGPU_BFLOAT16_MISSING : undefined) === 'float16';
    const outputs: tf.Tensor2D[] = new Array<tf.Tensor2D>(matrices.length);
    for (const indices of sameShapeGroups(matrices)) {
      const [rows, cols] = (matrices[indices[0] as number] as tf.Tensor2D).shape;
      const results = tf.tidy(() => {
        // One matrix is reshaped (no copy, no dispatch); several are stacked into one batch.
        const batch = indices.length === 1 ? tf.reshape(matrices[indices[0] as number] as tf.Tensor2D, [1, rows, cols]) : tf.stack(indices.map((i) => matrices[i] as tf.Tensor2D));
        const result = runPlan(runner, batch as tf.Tensor3D, schedule, plan(rows, cols, schedule), halfOperands);
        return indices.length === 1 ? [tf.reshape(result, [rows, cols])] : tf.unstack(result);
      }) as tf.Tensor2D[];
      indices.forEach((i, k) => {
        outputs[i] = results[k] as tf.Tensor2D;
      });
    }
    return outputs;
  };
}
