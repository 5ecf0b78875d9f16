import * as tf from '@tensorflow/tfjs-core';
import { fromMatrix, matrixShape, toMatrix } from '../math/matrixView.js';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/** Options of {@link scaleByNeuronRms}. */
export interface ScaleByNeuronRmsOptions {
  /** EMA rate of the per-neuron second moment, in [0, 1). */
  readonly beta2: number;
  /** Added to √v in the denominator, and to the norm of the rescaled update. */
  readonly epsilon: number;
}

/** The slot holding NorMuon's per-neuron second moment, shape `[1, fanOut]`. */
export const NEURON_SECOND_MOMENT_SLOT = 'neuronSecondMoment';

/**
 * NorMuon's neuron-wise normalization (Li et al., arXiv 2510.05491), chained after
 * {@link scaleByMuon}: for the orthogonalized update O as the `[fanIn, fanOut]` matrix,
 *
 *   v ← β₂v + (1−β₂)·mean over fanIn of O⊙O      one value per output neuron (column)
 *   Ô = O / (√v + ε),  then  Ô ← Ô·‖O‖_F / (‖Ô‖_F + ε)
 *
 * Orthogonalization equalizes the singular values, not the neurons: rows of UVᵀ can still have very
 * different norms, which this second moment evens out (Adam-style, per neuron) after the fact.
 *
 * The last step follows the reference code (`zichongli5/NorMuon` `normuon_update`), which keeps the
 * Frobenius norm of O, rather than the paper's Algorithm 1, which rescales to 0.2·√(fanIn·fanOut)
 * (AdamW's RMS). Keeping ‖O‖_F makes NorMuon a drop-in for Muon: the same shape scale
 * (`lrAdjust: 'original'`, √max(1, fanOut/fanIn), as the reference) and the same learning rate
 * (0.02). The paper's scaling is then `lrAdjust: 'matchAdamW'` (0.2·√max(fanIn, fanOut)): with
 * ‖O‖_F = √min(fanIn, fanOut) for a semi-orthogonal O the two agree exactly, and within the
 * Newton–Schulz band otherwise.
 *
 * No bias correction, as the reference: a constant factor of v cancels in the renormalization.
 * PyTorch's `(out, in)` rows are our columns: TF.js kernels are input-first. State:
 * `neuronSecondMoment`, float32 `[1, fanOut]`.
 */
export function scaleByNeuronRms({ beta2, epsilon }: ScaleByNeuronRmsOptions): GradientTransformation {
  return {
    stabilizers: [{ option: 'epsilon', value: epsilon }],
    // A negative v makes √v NaN, which a restored checkpoint must not smuggle in.
    nonNegativeSlots: [NEURON_SECOND_MOMENT_SLOT],
    init(_name, param) {
      return { [NEURON_SECOND_MOMENT_SLOT]: tf.zeros([1, matrixShape(param.shape).fanOut]) };
    },
    update(updates, state) {
      const next = mapNames(updates, (name, u) => {
        const v = entry(entry(state, name, 'state'), NEURON_SECOND_MOMENT_SLOT, 'neuron second moment');
        return tf.tidy(() => {
          const o = toMatrix(u);
          return tf.add(tf.mul(v, beta2), tf.mul(tf.mean(tf.square(o), 0, true), 1 - beta2));
        });
      });
      const normalized = mapNames(updates, (name, u) =>
        tf.tidy(() => {
          const o = toMatrix(u);
          const scaled = tf.div(o, tf.add(tf.sqrt(entry(next, name, 'second moment')), epsilon));
          const ratio = tf.div(tf.norm(o), tf.add(tf.norm(scaled), epsilon));
          return fromMatrix(tf.mul(scaled, ratio) as tf.Tensor2D, u.shape);
        }),
      );
      return { updates: normalized, state: mapNames(updates, (name) => ({ [NEURON_SECOND_MOMENT_SLOT]: entry(next, name, 'second moment') })) };
    },
  };
}
