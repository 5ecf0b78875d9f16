import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/** Options of {@link scaleBySophia}. */
export interface ScaleBySophiaOptions {
  /** EMA rate of the momentum. */
  readonly beta1: number;
  /** EMA rate of the Hessian-diagonal estimate, applied when a new estimate arrives. */
  readonly beta2: number;
  /** ρ: the ratio |m|/(ρ·h) is clipped at 1. */
  readonly rho: number;
  /** Added to ρ·h, so that a zero estimate gives a sign step instead of a division by zero. */
  readonly epsilon: number;
}

/** The extra per-step input Sophia reads: a Hessian-diagonal estimate per variable ({@link gaussNewtonBartlett}). */
export const HESSIAN_DIAGONAL_INPUT = 'hessianDiagonal';

/**
 * Tap points of {@link scaleBySophia}: `unclippedFraction`, per variable, the scalar fraction of
 * entries whose ratio |m|/(ρ·h) is below 1 (the reference's `win_rate`; its README advises tuning
 * ρ to keep it in 0.1–0.5).
 */
export const SOPHIA_TAPS = Object.freeze({ unclippedFraction: 'sophia/unclippedFraction' } as const);

/**
 * SophiaG's direction (Liu et al., arXiv 2305.14342, Algorithm 3; `Liuhong99/Sophia` `sophia.py`):
 *
 *   m ← β₁m + (1−β₁)g
 *   h ← β₂h + (1−β₂)ĥ      only on steps that receive an estimate ĥ (every k steps)
 *   u = sign(m)·min(|m|/(ρ·h + ε), 1) = clip(m/(ρ·h + ε), −1, 1)
 *
 * ĥ arrives as the extra step input `hessianDiagonal` ({@link HESSIAN_DIAGONAL_INPUT}); it already
 * includes the batch factor B of the Gauss–Newton–Bartlett estimator (ĥ = B·ĝ⊙ĝ), which the
 * reference applies at each step as `rho·bs·hessian`, so ρ means the same as there. Until the first
 * estimate h = 0 and the step is sign(m), as in the reference. State: `m` and `hessian`, float32,
 * the parameter's shape.
 */
export function scaleBySophia({ beta1, beta2, rho, epsilon }: ScaleBySophiaOptions): GradientTransformation {
  return {
    // ε = 0 is valid here when ρ > 0 (checked by the options): only a positive ε can vanish.
    stabilizers: epsilon > 0 ? [{ option: 'epsilon', value: epsilon }] : [],
    tapPoints: Object.values(SOPHIA_TAPS),
    stepInputKinds: [HESSIAN_DIAGONAL_INPUT],
    // A negative h would flip the sign of m/(ρ·h + ε): a step uphill, not a smaller one.
    nonNegativeStepInputs: [HESSIAN_DIAGONAL_INPUT],
    nonNegativeSlots: ['hessian'],
    init: (_name, param) => ({ m: tf.zerosLike(param), hessian: tf.zerosLike(param) }),
    update(grads, state, _params, { inputs, taps }) {
      const estimates = inputs[HESSIAN_DIAGONAL_INPUT] ?? {};
      const next = mapNames(grads, (name, g) => {
        const slots = entry(state, name, 'state');
        const h = entry(slots, 'hessian', 'Hessian estimate');
        const estimate = estimates[name];
        return {
          m: tf.tidy(() => tf.add(tf.mul(entry(slots, 'm', 'momentum'), beta1), tf.mul(g, 1 - beta1))),
          hessian: estimate === undefined ? tf.clone(h) : tf.tidy(() => tf.add(tf.mul(h, beta2), tf.mul(estimate, 1 - beta2))),
        };
      });
      const updates = mapNames(grads, (name) => {
        const { m, hessian } = entry(next, name, 'state');
        return tf.tidy(() => tf.clipByValue(tf.div(m, tf.add(tf.mul(hessian, rho), epsilon)), -1, 1));
      });
      if (taps.heard(SOPHIA_TAPS.unclippedFraction)) {
        for (const [name, u] of Object.entries(updates)) {
          const fraction = tf.tidy(() => tf.mean(tf.cast(tf.less(tf.abs(u), 1), 'float32')));
          taps.emit(SOPHIA_TAPS.unclippedFraction, name, fraction);
          fraction.dispose();
        }
      }
      return { updates, state: next };
    },
  };
}
