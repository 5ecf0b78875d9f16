import type * as tf from '@tensorflow/tfjs-core';
import { gramIteration } from './gramIteration.js';
import { plainNewtonSchulz } from './newtonSchulz.js';
import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';
import type { OrthogonalizationPlan } from './planOrthogonalization.js';

/**
 * Runs a plan (from `planOrthogonalization`) on a matrix or a batch of same-shape matrices in
 * TF.js: the algorithm and side it names, under the resolved schedule. Decides nothing itself.
 */
export function executePlan<T extends tf.Tensor2D | tf.Tensor3D>(g: T, schedule: NewtonSchulzSchedule, plan: OrthogonalizationPlan): T {
  return plan.algorithm === 'gram' ? gramIteration(g, schedule, plan.transposed) : plainNewtonSchulz(g, schedule, plan.transposed);
}
