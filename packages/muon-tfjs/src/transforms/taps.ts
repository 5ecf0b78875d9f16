import type * as tf from '@tensorflow/tfjs-core';
import type { GradientTransformation } from './gradientTransformation.js';

/**
 * Observation points of a step (optax's monitor/snapshot idea): a transformation reports what it
 * receives, computes or emits at a named point, per variable. The adapter decides before each step
 * which points have a listener due on that step; an emitter asks {@link Taps.heard} first and does
 * no work at all (no op, no tensor, no read-back) for a point nobody hears.
 */
export interface Taps {
  /** True when some listener wants `point` on this step. */
  heard(point: string): boolean;
  /**
   * Hands `value` to the listeners of `point`. The tensor is valid only during the call (it may be
   * an intermediate freed by the step); a listener that keeps it clones it under `tf.keep`.
   */
  emit(point: string, variable: string, value: tf.Tensor): void;
}

/** The taps of a step that nobody observes. */
export const SILENT_TAPS: Taps = Object.freeze({
  heard: () => false,
  emit: () => undefined,
});

/** Tap points of {@link observe}: what the wrapped transformation receives and emits. */
export function observedPoints(label: string): { readonly input: string; readonly output: string } {
  return { input: `${label}/input`, output: `${label}/output` };
}

/**
 * Wraps a transformation so that what it receives (the updates of the stage before, per
 * variable) and what it emits are reported at the points `<label>/input` and `<label>/output`.
 * Changes nothing else: the same updates and state pass through.
 * @example
 * const traced = chain(observe('adam', scaleByAdam(options)), scaleByLearningRate(1e-3));
 * optimizer.tap('adam/output', ({ variable, value }) => console.log(variable, value.norm().dataSync()));
 */
export function observe(label: string, inner: GradientTransformation): GradientTransformation {
  const points = observedPoints(label);
  return {
    ...inner,
    tapPoints: [...new Set([points.input, ...(inner.tapPoints ?? []), points.output])],
    update(grads, state, params, context) {
      const { taps } = context;
      if (taps.heard(points.input)) {
        for (const [name, g] of Object.entries(grads)) taps.emit(points.input, name, g);
      }
      const result = inner.update(grads, state, params, context);
      if (taps.heard(points.output)) {
        for (const [name, u] of Object.entries(result.updates)) taps.emit(points.output, name, u);
      }
      return result;
    },
  };
}
