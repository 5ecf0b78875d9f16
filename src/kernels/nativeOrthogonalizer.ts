import * as tf from '@tensorflow/tfjs-core';
import { resolveCoefficients } from '../math/coefficients.js';
import { GRAM_MIN_SCHEDULE_DEVIATION, defaultGramRestarts, type NewtonSchulzAlgorithm, scheduleDeviation } from '../math/gramNewtonSchulz.js';
import { DEFAULT_NS_EPS } from '../math/newtonSchulz.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { loadNativeAddon } from './nativeAddon.js';

/** Options of {@link nativeOrthogonalizer}. */
export interface NativeOrthogonalizerOptions {
  /**
   * `'auto'` (default) picks Gram or plain per shape by flop count (syrk counted at half a gemm),
   * and plain for convergent schedules (see `usesGramIteration`).
   */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /** 1-based iterations after which the Gram iteration restarts from X. Default: `defaultGramRestarts`. */
  readonly restartAfter?: readonly number[];
}

const MODES: Record<NewtonSchulzAlgorithm, number> = { auto: 0, plain: 1, gram: 2 };

/**
 * An {@link Orthogonalizer} running Newton–Schulz in native code over OpenBLAS (Node only): the
 * same map as `newtonSchulz` with the same options, computed with sgemm and ssyrk (the symmetric
 * products XXᵀ and R² at half the flops) and, for rectangular matrices, the Gram iteration.
 *
 * Reads each matrix with `dataSync()` (a copy out of the wasm heap, or the CPU backend's own array)
 * and returns new tensors on the current backend. Throws if the addon is not built; use
 * `fastestOrthogonalizer()` for the automatic fallback.
 */
export function nativeOrthogonalizer(settings: NativeOrthogonalizerOptions = {}): Orthogonalizer {
  const status = loadNativeAddon();
  if (!status.available) throw new Error(`muon-tfjs native kernel unavailable: ${status.reason}`);
  const { addon } = status;
  const mode = MODES[settings.algorithm ?? 'auto'];
  if (mode === undefined) throw new Error(`algorithm must be 'auto', 'plain' or 'gram'; got ${JSON.stringify(settings.algorithm)}`);
  const fixedRestarts = settings.restartAfter;
  if (fixedRestarts !== undefined && !fixedRestarts.every((t) => Number.isInteger(t) && t >= 1)) {
    throw new Error(`restartAfter must list iteration numbers ≥ 1; got ${JSON.stringify(fixedRestarts)}`);
  }
  return (matrices, options) => {
    const schedule = resolveCoefficients(options.coefficients, options.steps);
    const eps = options.eps ?? DEFAULT_NS_EPS;
    if (!(eps >= 0) || !Number.isFinite(eps)) throw new Error(`eps must be a finite number ≥ 0; got ${eps}`);
    const shapes = new Int32Array(2 * matrices.length);
    const inputs = matrices.map((g, i) => {
      if (g.rank !== 2 || g.dtype !== 'float32') {
        throw new Error(`nativeOrthogonalizer expects float32 matrices; matrices[${i}] has shape [${g.shape.join(', ')}] and dtype ${g.dtype}`);
      }
      shapes[2 * i] = g.shape[0];
      shapes[2 * i + 1] = g.shape[1];
      return g.dataSync<'float32'>();
    });
    const coefficients = Float64Array.from(schedule.iterations.flat());
    const restarts = Int32Array.from(fixedRestarts ?? defaultGramRestarts(schedule.iterations.length));
    // 'auto' in the addon weighs flops only; convergent schedules stay plain (see usesGramIteration).
    const callMode = mode === MODES.auto && scheduleDeviation(schedule) < GRAM_MIN_SCHEDULE_DEVIATION ? MODES.plain : mode;
    const outputs = addon.orthogonalize(inputs, shapes, coefficients, schedule.normalizationScale, eps, restarts, callMode);
    return outputs.map((values, i) => tf.tensor2d(values, (matrices[i] as tf.Tensor2D).shape, 'float32'));
  };
}
