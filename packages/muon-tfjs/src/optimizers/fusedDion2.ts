import * as tf from '@tensorflow/tfjs-core';
import type { Dion2StepKernel } from '../math/dion2StepKernel.js';
import { matrixShape } from '../math/matrixView.js';
import type { Scheduled } from '../math/schedule.js';
import { shapeScale } from '../math/shapeScale.js';
import { selectedCount, selectedSide } from '../math/submatrixSelection.js';
import { type FusedStep, matrixStepOutcome, nonEmptyVariables } from '../transforms/fusedStep.js';
import { type Live, entry, scheduledAt } from '../transforms/gradientTransformation.js';
import { DION2_MOMENTUM_SLOT } from '../transforms/scaleByDion2.js';
import type { ResolvedDion2Options } from './dion2.js';
import { weightDecayAt } from './weightDecay.js';

/**
 * Dion2's step computed at once by a {@link Dion2StepKernel}: the execution strategy of
 * `dion2Transformation(options, learningRate, kernel's orthogonalizer)` followed by p + update,
 * with the same hyper-parameters read at the same step (lr from its schedule at the step's index,
 * the decay of `weightDecayAt`), the same selection (`selectedSide`, `selectedCount` of the
 * `[fanIn, fanOut]` view), the shape scale of that view and the same `momentum` slot. Every
 * weight-decay variant runs fused. The composition emits no tap. Returns instead why these options
 * need the composition: the matrices of a `matrixViews` rule (experts) and conv taps
 * (`convOrthogonalization: 'perTap'`) select and orthogonalize one by one, which the kernel does not.
 */
export function fusedDion2Step(options: ResolvedDion2Options, learningRate: Live<Scheduled>, kernel: Dion2StepKernel): FusedStep | string {
  if (options.matrixViews.some((rule) => !('convKernel' in rule))) {
    return 'matrixViews sees some weights as batches of matrices (or along other axes); the fused kernel selects in each variable as its one flattened matrix';
  }
  if (options.convOrthogonalization !== 'flatten') return `convOrthogonalization '${options.convOrthogonalization}' selects in each tap apart; the fused kernel selects in the flattened kernel`;
  const { fraction, errorFeedbackDecay, schedule, lrAdjust, cautiousWeightDecay } = options;
  return {
    tapPoints: [],
    unavailable: () => kernel.unavailable(),
    step(grads, state, params, context) {
      const lr = scheduledAt(learningRate, context);
      const values: Record<string, tf.Tensor> = {};
      const newState: Record<string, Record<string, tf.Tensor>> = {};
      const names = nonEmptyVariables(grads, state, params, [DION2_MOMENTUM_SLOT], values, newState);
      const variables = names.map((name) => {
        const param = entry(params, name, 'parameter');
        const matrix = matrixShape(param.shape);
        const side = selectedSide(matrix);
        return {
          param,
          grad: entry(grads, name, 'gradient'),
          momentum: entry(entry(state, name, 'state'), DION2_MOMENTUM_SLOT, 'momentum'),
          side,
          selected: selectedCount(side === 'columns' ? matrix.fanOut : matrix.fanIn, fraction),
          shapeScale: shapeScale(matrix, lrAdjust),
        };
      });
      const results = kernel.step(variables, { schedule, errorFeedbackDecay, learningRate: lr, weightDecay: weightDecayAt(options, lr), cautious: cautiousWeightDecay });
      return matrixStepOutcome('Dion2', names, results, DION2_MOMENTUM_SLOT, values, newState);
    },
  };
}
