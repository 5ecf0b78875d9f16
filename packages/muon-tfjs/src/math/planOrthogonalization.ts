import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';

/**
 * Which algorithm computes the Newton–Schulz map: `'plain'` iterates on X (as `newtonSchulz`),
 * `'gram'` iterates on the Gram matrix R = XXᵀ, `'auto'` lets {@link planOrthogonalization} pick.
 */
export type NewtonSchulzAlgorithm = 'auto' | 'plain' | 'gram';

const NEWTON_SCHULZ_ALGORITHMS: readonly NewtonSchulzAlgorithm[] = ['auto', 'plain', 'gram'];

/** Throws, naming the value, unless `algorithm` is one of {@link NewtonSchulzAlgorithm}. */
export function checkAlgorithm(algorithm: NewtonSchulzAlgorithm): void {
  if (!NEWTON_SCHULZ_ALGORITHMS.includes(algorithm)) {
    throw new Error(`algorithm must be 'auto', 'plain' or 'gram'; got ${JSON.stringify(algorithm)}`);
  }
}

/** What a kernel declares about its arithmetic, the one input of the cost model that differs between kernels. */
export interface KernelCapabilities {
  /**
   * The symmetric products XXᵀ and R² = RRᵀ cost half a general matmul, because the kernel computes
   * one triangle only (the native kernel: BLAS ssyrk, or oneDNN matmuls over block rows of the
   * upper triangle, (b + 1)/2b of a gemm for b blocks). TF.js has no such op.
   */
  readonly symmetricProductsAtHalfCost: boolean;
  /**
   * The kernel runs a schedule's `precision: 'bfloat16'` as bfloat16 products (the native kernel
   * with oneDNN on a CPU with AVX512-BF16 or AMX); kernels without it run such schedules in float32.
   */
  readonly bfloat16Products: boolean;
  /** The kernel runs a schedule's `precision: 'float16'` as float16 products (the WebGPU kernel). */
  readonly float16Products: boolean;
}

/** A kernel with general matmuls only (every TF.js backend). */
export const GENERAL_MATMUL_CAPABILITIES: KernelCapabilities = Object.freeze({ symmetricProductsAtHalfCost: false, bfloat16Products: false, float16Products: false });

/** The decision for one matrix shape: what a kernel executes, and what it costs. */
export interface OrthogonalizationPlan {
  /** The iteration to run. */
  readonly algorithm: 'plain' | 'gram';
  /** Iterate on the transpose: the Gram side is `cols × cols` (tall matrices), else `rows × rows`. */
  readonly transposed: boolean;
  /** Flops (multiply-add = 2) of the run, under the kernel's capabilities; native threads are balanced by it. */
  readonly flops: number;
}

/**
 * Flops (multiply-add = 2) of `steps` plain iterations on an m×n matrix, m ≤ n, with general matmuls:
 * XXᵀ (2m²n), A² (2m³), BX (2m²n) per iteration. With `symmetric`, the symmetric products XXᵀ and
 * A² = AAᵀ cost half (BLAS syrk computes one triangle), as in the native kernel.
 */
export function plainNewtonSchulzFlops(m: number, n: number, steps: number, symmetric = false): number {
  const half = symmetric ? 0.5 : 1;
  return steps * (2 * half * m * m * n + 2 * half * m * m * m + 2 * m * m * n);
}

/**
 * Flops of the Gram iteration with general matmuls: R = XXᵀ and the final QX (2m²n each), per
 * iteration R² (2m³), QZ (2m³, not on the first iteration or after a restart) and R ← Z(RZ) (4m³,
 * not on the last iteration), and per restart X ← QX and R ← XXᵀ (4m²n). With `symmetric`, XXᵀ and
 * R² = RRᵀ cost half (syrk), as in the native kernel.
 */
export function gramNewtonSchulzFlops(m: number, n: number, steps: number, restartAfter: readonly number[], symmetric = false): number {
  const half = symmetric ? 0.5 : 1;
  let flops = 2 * half * m * m * n + 2 * m * m * n;
  let qIdentity = true;
  for (let t = 1; t <= steps; t++) {
    flops += 2 * half * m * m * m + (qIdentity ? 0 : 2 * m * m * m);
    qIdentity = false;
    if (t === steps) break;
    if (restartAfter.includes(t)) {
      flops += 2 * m * m * n + 2 * half * m * m * n;
      qIdentity = true;
    } else {
      flops += 4 * m * m * m;
    }
  }
  return flops;
}

/**
 * Under `'auto'`, schedules that deviate less than this from the polar factor run the plain
 * iteration. The Gram iteration's extra round-off measures ‖XXᵀ − I‖_F/√k ≈ 1e-6 (768×3072,
 * polarExpress8: 8.7e-7 against 3.0e-7 for the plain iteration through the same BLAS): invisible
 * next to a schedule's own error of ≥ 1e-4 (jordan: 0.3), but the whole error of a convergent one.
 * So 'auto' never returns a less orthogonal answer than the plain iteration beyond 1% of the
 * schedule's own error.
 */
export const GRAM_MIN_SCHEDULE_DEVIATION = 1e-4;

/**
 * The plain-vs-Gram decision for a `rows × cols` matrix: the one cost model of the library, made
 * here, in TypeScript, for every kernel (the native one receives the plan and executes it).
 *
 * One formula, with the kernel's {@link KernelCapabilities} as input rather than one model per
 * kernel or one model for all: the native kernel really computes XXᵀ and R² with ssyrk at half the
 * flops, which moves the break-even aspect ratio from about 1.5 to 2 (at 256×128, 5 steps: Gram
 * 44m³ against plain 50m³ with general matmuls, but 35m³ each with syrk, a tie that stays plain).
 * A single capability-free count would make one of the kernels run the slower algorithm near the
 * break-even; two formulas (as before, one in C++) drift apart.
 *
 * The iteration always runs on the smaller Gram side (`transposed` for tall matrices). Under
 * `'auto'` the Gram iteration is taken when it costs fewer flops and the schedule's own error
 * dwarfs its extra round-off ({@link GRAM_MIN_SCHEDULE_DEVIATION}), and never for bfloat16 or
 * float16 products: there R ← ZRZ compounds the operands' round-off through Z's large coefficients (measured on
 * the orthogonalizer contract's 48×96 input, native kernel: relative error to the float32 map
 * 0.54 for polarExpress5 and 5e5 or NaN for polarExpress8 with the default restarts, against
 * 0.020–0.026 for the plain iteration; docs/performance.md). `'plain'` and `'gram'` force.
 * Pure and cheap, but kernels call it through {@link orthogonalizationPlanner}, once per shape.
 */
export function planOrthogonalization(rows: number, cols: number, schedule: NewtonSchulzSchedule, capabilities: KernelCapabilities, algorithm: NewtonSchulzAlgorithm = 'auto'): OrthogonalizationPlan {
  checkAlgorithm(algorithm);
  const transposed = rows > cols;
  const m = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  const symmetric = capabilities.symmetricProductsAtHalfCost;
  const plain = plainNewtonSchulzFlops(m, n, schedule.steps, symmetric);
  const gram = gramNewtonSchulzFlops(m, n, schedule.steps, schedule.restartAfter, symmetric);
  const halfProducts = (schedule.precision === 'bfloat16' && capabilities.bfloat16Products) || (schedule.precision === 'float16' && capabilities.float16Products);
  const useGram = algorithm === 'auto' ? gram < plain && schedule.deviation >= GRAM_MIN_SCHEDULE_DEVIATION && !halfProducts : algorithm === 'gram';
  return Object.freeze({ algorithm: useGram ? 'gram' : 'plain', transposed, flops: useGram ? gram : plain });
}
