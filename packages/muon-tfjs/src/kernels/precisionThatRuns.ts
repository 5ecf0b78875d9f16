import type { NewtonSchulzPrecision } from '../math/newtonSchulzSchedule.js';
import { warnOnce } from './warnOnce.js';

/**
 * The precision a kernel runs for a schedule that asks for `requested`: the same where the kernel
 * can (`missing` is undefined when it can, else why it cannot run `requested`), else float32, said
 * once per process and reason on the console. Float32 rather than an error: bfloat16 and float16
 * are speed settings whose float32 fallback is the more accurate map, and a model configured in
 * Node must still train in a browser (TF.js kernels) or on a CPU without bfloat16 dot products.
 */
export function precisionThatRuns(requested: NewtonSchulzPrecision, kernel: string, missing: string | undefined): NewtonSchulzPrecision {
  if (requested === 'float32' || missing === undefined) return requested;
  warnOnce(`muon-tfjs: precision '${requested}' was requested; ${kernel} runs Newton–Schulz in float32 (${missing})`);
  return 'float32';
}
