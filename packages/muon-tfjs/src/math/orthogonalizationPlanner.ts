import type { NewtonSchulzSchedule } from './newtonSchulzSchedule.js';
import { type KernelCapabilities, checkAlgorithm, type NewtonSchulzAlgorithm, type OrthogonalizationPlan, planOrthogonalization } from './planOrthogonalization.js';

/** Gives the plan of a `rows × cols` matrix under a schedule; see {@link orthogonalizationPlanner}. */
export type OrthogonalizationPlanner = (rows: number, cols: number, schedule: NewtonSchulzSchedule) => OrthogonalizationPlan;

/**
 * A kernel's planner: {@link planOrthogonalization} under the kernel's capabilities and algorithm,
 * computed once per (schedule, shape) and then served from a cache, so an optimizer step looks
 * plans up instead of re-deciding. Schedules are held weakly (a dropped optimizer frees its plans).
 *
 * @example
 * const plan = orthogonalizationPlanner({ symmetricProductsAtHalfCost: true, bfloat16Products: false, float16Products: false });
 * plan(768, 3072, resolveNewtonSchulz()); // { algorithm: 'gram', transposed: false, flops: … }
 */
export function orthogonalizationPlanner(capabilities: KernelCapabilities, algorithm: NewtonSchulzAlgorithm = 'auto'): OrthogonalizationPlanner {
  checkAlgorithm(algorithm);
  const plans = new WeakMap<NewtonSchulzSchedule, Map<string, OrthogonalizationPlan>>();
  return (rows, cols, schedule) => {
    let byShape = plans.get(schedule);
    if (byShape === undefined) {
      byShape = new Map();
      plans.set(schedule, byShape);
    }
    const key = `${rows}x${cols}`;
    let plan = byShape.get(key);
    if (plan === undefined) {
      plan = planOrthogonalization(rows, cols, schedule, capabilities, algorithm);
      byShape.set(key, plan);
    }
    return plan;
  };
}
