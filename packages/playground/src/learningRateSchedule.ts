import type { Schedule } from './playgroundState.js';

/**
 * The multiplier of the base learning rate at step `step` of a run of `steps` steps: 1
 * (constant), 1 − t (linear decay to zero) or ½(1 + cos πt) (cosine decay, Loshchilov & Hutter
 * 2017), with t = step/steps. Both decays stay above zero for step < steps, as the optimizers
 * require a positive rate.
 *
 * @example
 * scheduleFactor('cosine', 50, 100); // 0.5
 */
export function scheduleFactor(schedule: Schedule, step: number, steps: number): number {
  const t = Math.min(Math.max(step / steps, 0), 1);
  if (schedule === 'linear') return 1 - t;
  if (schedule === 'cosine') return 0.5 * (1 + Math.cos(Math.PI * t));
  return 1;
}
