import type { OrthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { NewtonSchulzAlgorithm } from '../math/planOrthogonalization.js';

/**
 * The planner a kernel runs with: the one given in its settings, else its own (made by
 * `ownPlanner` from the kernel's capabilities and `algorithm`). Refuses both at once, since a
 * given planner would silently ignore `algorithm`.
 */
export function kernelPlanner(settings: { readonly algorithm?: NewtonSchulzAlgorithm; readonly planner?: OrthogonalizationPlanner }, ownPlanner: () => OrthogonalizationPlanner): OrthogonalizationPlanner {
  if (settings.planner === undefined) return ownPlanner();
  if (settings.algorithm !== undefined) {
    throw new Error(`give a kernel either algorithm or planner, not both (got algorithm ${JSON.stringify(settings.algorithm)} and a planner)`);
  }
  return settings.planner;
}
