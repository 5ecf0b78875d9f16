import * as tf from '@tensorflow/tfjs-core';
import { executePlan } from '../math/executePlan.js';
import { checkNewtonSchulzInput } from '../math/newtonSchulz.js';
import { checkResolvedSchedule } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { GENERAL_MATMUL_CAPABILITIES, type NewtonSchulzAlgorithm } from '../math/planOrthogonalization.js';
import { kernelPlanner } from './kernelPlanner.js';
import { precisionThatRuns } from './precisionThatRuns.js';
import { sameShapeGroups } from './sameShapeGroups.js';

/** Options of {@link gramOrthogonalizer}. */
export interface GramOrthogonalizerOptions {
  /** Default `'auto'`: the cheaper algorithm per shape with general matmuls (`planOrthogonalization`). */
  readonly algorithm?: NewtonSchulzAlgorithm;
  /** Plans the matrices instead of the kernel's own planner (e.g. to give two kernels the same plans); excludes `algorithm`. */
  readonly planner?: OrthogonalizationPlanner;
  /**
   * Stack same-shape matrices into one batched (3-D) matmul chain. Default: on every backend except
   * `wasm`, where batched matmuls fall off XNNPACK onto a 10–30× slower loop.
   */
  readonly batchSameShapes?: boolean;
}

/**
 * An {@link Orthogonalizer} over TF.js (any backend, browser included): Gram or plain Newton–Schulz
 * per matrix as its planner decides (once per shape, with general matmuls: TF.js has no syrk),
 * same-shape matrices batched together where the backend's batched matmul is fast. Float32 only:
 * a schedule asking for bfloat16 runs in float32, said once ({@link precisionThatRuns}).
 */
export function gramOrthogonalizer(settings: GramOrthogonalizerOptions = {}): Orthogonalizer {
  const plan = kernelPlanner(settings, () => orthogonalizationPlanner(GENERAL_MATMUL_CAPABILITIES, settings.algorithm));
  return (matrices, schedule) => {
    checkResolvedSchedule(schedule, 'gramOrthogonalizer');
    matrices.forEach((g) => checkNewtonSchulzInput(g, 'gramOrthogonalizer'));
    precisionThatRuns(schedule.precision, 'the TF.js kernel', 'TF.js kernels compute in float32');
    const run = <T extends tf.Tensor2D | tf.Tensor3D>(g: T): T => executePlan(g, schedule, plan(g.shape[g.rank - 2] as number, g.shape[g.rank - 1] as number, schedule));
    const batch = settings.batchSameShapes ?? tf.getBackend() !== 'wasm';
    if (!batch) return matrices.map(run);
    const outputs: tf.Tensor2D[] = new Array<tf.Tensor2D>(matrices.length);
    for (const indices of sameShapeGroups(matrices)) {
      if (indices.length === 1) {
        const i = indices[0] as number;
        outputs[i] = run(matrices[i] as tf.Tensor2D);
        continue;
      }
      const results = tf.tidy(() => tf.unstack(run(tf.stack(indices.map((i) => matrices[i] as tf.Tensor2D)) as tf.Tensor3D)) as tf.Tensor2D[]);
      indices.forEach((i, k) => {
        outputs[i] = results[k] as tf.Tensor2D;
      });
    }
    return outputs;
  };
}
