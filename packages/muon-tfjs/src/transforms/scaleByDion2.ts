import * as tf from '@tensorflow/tfjs-core';
import { fromMatrix, matrixShape, toMatrix } from '../math/matrixView.js';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { fromSliceView, gatherRows, largestL1Rows, scaleRows, scatterRows, selectedCount, selectedSide, sliceView } from '../math/submatrixSelection.js';
import { type GradientTransformation, entry, mapNames } from './gradientTransformation.js';

/** Options of {@link scaleByDion2}. */
export interface ScaleByDion2Options {
  /** α in (0, 1]: the fraction of the shorter side's slices orthogonalized at each step. */
  readonly fraction: number;
  /** The factor the selected slices of the momentum are multiplied by after they are used, in [0, 1). */
  readonly errorFeedbackDecay: number;
  /** The orthogonalization's schedule, resolved once and handed to the kernel at every step. */
  readonly newtonSchulz: NewtonSchulzSchedule;
  /** The kernel that orthogonalizes the selected submatrices of a step together. */
  readonly orthogonalize: Orthogonalizer;
}

/** The slot holding Dion2's momentum (the accumulated gradient with error feedback), same shape as its parameter. */
export const DION2_MOMENTUM_SLOT = 'momentum';

/**
 * Dion2's core (Ahn et al., arXiv 2512.16928; microsoft/dion `dion/dion2.py`,
 * `dion2_pre_orthogonalize` and `dion2_post_orthogonalize`): Muon that orthogonalizes only the
 * α-fraction of the momentum's slices with the largest L1 norm, and keeps the rest in the
 * momentum (error feedback). For the `[fanIn, fanOut]` view of each kernel, with its slices taken
 * along the shorter side ({@link selectedSide}) and k = max(1, ⌈α·n⌉) of its n slices:
 *
 *   M ← M + G                                   (no decay here: dion2.py `_foreach_add_(M, G)`)
 *   S = the k slices of M of largest L1 norm    (`M.norm(p=1)`, `topk`)
 *   O = Newton–Schulz(M_S)                      (the k × long submatrix only)
 *   M_S ← μ·M_S                                 (error feedback: `ef_decay`, the selected slices only)
 *   update: O on the slices S, 0 on the others  (`scatter_add_` of −lr·O into the weight)
 *
 * A slice left out keeps its whole accumulated momentum until it is selected, so nothing of the
 * gradient is lost, only delayed. At α = 1 every slice is selected at every step: M ← μ·M + G
 * before Newton–Schulz, Muon's classical momentum without Nesterov, whose (1−β) factor against
 * our Muon's EMA the Frobenius normalization removes (`scaleByMuon`, `nesterov: false`).
 *
 * The shape scale, weight decay and learning rate come after, as in Muon (`dion2Transformation`).
 * State: `momentum`, float32, the parameter's shape. Parameters of rank < 2 are refused.
 */
export function scaleByDion2({ fraction, errorFeedbackDecay, newtonSchulz, orthogonalize }: ScaleByDion2Options): GradientTransformation {
  return {
    stabilizers: [{ option: 'eps', value: newtonSchulz.eps }],
    init(name, param) {
      if (param.rank < 2) {
        throw new Error(
          `Dion2 orthogonalizes matrices, but variable '${name}' has shape [${param.shape.join(', ')}] (rank ${param.rank}). ` +
            'Biases, norm gains and other vectors belong to AdamW: use hybrid() with a dion2 group and an adamw group.',
        );
      }
      return { [DION2_MOMENTUM_SLOT]: tf.zerosLike(param) };
    },
    update(grads, state) {
      const names = Object.keys(grads);
      // Per variable: the new momentum M + G, its slice view, the selected slices and their
      // indices; each in its own tidy, so the step's peak memory stays near its live state.
      const selections = names.map((name) => {
        const g = entry(grads, name, 'gradient');
        return tf.tidy(() => {
          const accumulated = toMatrix(tf.add(entry(entry(state, name, 'state'), DION2_MOMENTUM_SLOT, 'momentum'), g));
          const side = selectedSide(matrixShape(g.shape));
          const view = sliceView(accumulated, side);
          const indices = largestL1Rows(view, selectedCount(view.shape[0], fraction));
          return { view, indices, selected: gatherRows(view, indices), side };
        });
      });
      // One kernel call for every selected submatrix of the step (same shapes batch together); an
      // empty matrix ([0, n]: nothing to select) reaches no kernel (the native ones refuse it).
      const nonEmpty = selections.flatMap((s, i) => (s.view.size === 0 ? [] : [i]));
      const orthogonalized = orthogonalize(nonEmpty.map((i) => (selections[i] as (typeof selections)[number]).selected), newtonSchulz);
      const outputs = selections.map((s) => s.selected);
      nonEmpty.forEach((i, k) => {
        outputs[i] = orthogonalized[k] as tf.Tensor2D;
      });
      const updates: Record<string, tf.Tensor> = {};
      const momenta: Record<string, tf.Tensor> = {};
      names.forEach((name, i) => {
        const { view, indices, selected, side } = selections[i] as (typeof selections)[number];
        const output = outputs[i] as tf.Tensor2D;
        const shape = entry(grads, name, 'gradient').shape;
        if (view.size === 0) {
          // An empty matrix has no slice to select: its (empty) update and momentum are what they are.
          updates[name] = tf.zeros(shape);
          momenta[name] = tf.zeros(shape);
        } else {
          updates[name] = tf.tidy(() => fromMatrix(fromSliceView(scatterRows(output, indices, view.shape[0]), side), shape));
          momenta[name] = tf.tidy(() => fromMatrix(fromSliceView(scaleRows(view, indices, errorFeedbackDecay), side), shape));
        }
        for (const t of new Set([view, indices, selected, output])) t.dispose();
      });
      return { updates, state: mapNames(grads, (name) => ({ [DION2_MOMENTUM_SLOT]: entry(momenta, name, 'momentum') })) };
    },
  };
}
