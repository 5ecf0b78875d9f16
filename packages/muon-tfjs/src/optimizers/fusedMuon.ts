import * as tf from '@tensorflow/tfjs-core';
import { matrixShape } from '../math/matrixView.js';
import { packBfloat16, packedTensorFinite, unpackBfloat16 } from '../math/bfloat16Storage.js';
import type { MuonStepKernel, MuonStepResult } from '../math/muonStepKernel.js';
import type { Scheduled } from '../math/schedule.js';
import { shapeScale } from '../math/shapeScale.js';
import { type FusedStep, matrixStepOutcome, nonEmptyVariables } from '../transforms/fusedStep.js';
import { type Live, entry, scheduledAt } from '../transforms/gradientTransformation.js';
import { MUON_BFLOAT16_MOMENTUM_SLOT, MUON_MOMENTUM_SLOT, MUON_TAPS } from '../transforms/scaleByMuon.js';
import type { ResolvedMuonOptions } from './muon.js';
import { weightDecayAt } from './weightDecay.js';

/**
 * A fused step's result with its float32 momentum packed to bfloat16, for a kernel that reads and
 * writes float32 momentum only: finite where the packed values are (rounding may overflow a finite
 * float32 to ±Inf; NaN and Inf stay what they are).
 */
function packMomentum(result: MuonStepResult): MuonStepResult {
  const momentum = packBfloat16(result.momentum);
  result.momentum.dispose();
  return { ...result, momentum, momentumFinite: packedTensorFinite(momentum) };
}

/**
 * Muon's step computed at once by a {@link MuonStepKernel}: the execution strategy of
 * `muonTransformation(options, learningRate, kernel's orthogonalizer)` followed by p + update, with
 * the same hyper-parameters read at the same step (β and lr from their schedules at the step's
 * index, the decay of `weightDecayAt`, the shape scale of the `[fanIn, fanOut]` view) and the same
 * `momentum` slot. Every weight-decay variant (decoupled, corrected, cautious, combined) runs
 * fused, in either precision (the kernel runs the schedule's, as the orthogonalizer does). Returns
 * instead why these options need the composition: column blocks (`blockColumns`) and conv taps
 * (`convOrthogonalization: 'perTap'`) and the matrices of a `matrixViews` rule (experts) are
 * orthogonalized one by one, and layer-aware `nsSteps` give
 * each matrix its own schedule, none of which the kernel does.
 */
export function fusedMuonStep(options: ResolvedMuonOptions, learningRate: Live<Scheduled>, kernel: MuonStepKernel): FusedStep | string {
  if (options.blockColumns.length > 0) return 'blockColumns splits matrices into column blocks, which the fused kernel does not';
  if (typeof options.nsSteps === 'object' && options.nsSteps.kind === 'auto') return 'layer-aware nsSteps give each matrix its own schedule and a lower-bound slot; the fused kernel runs one fixed schedule';
  if (options.matrixViews.some((rule) => !('convKernel' in rule))) {
    return 'matrixViews sees some weights as batches of matrices (or along other axes); the fused kernel orthogonalizes each variable as its one flattened matrix';
  }
  if (options.convOrthogonalization !== 'flatten') return `convOrthogonalization '${options.convOrthogonalization}' orthogonalizes each tap apart; the fused kernel orthogonalizes the flattened kernel`;
  const { momentum, nesterov, newtonSchulzAt, lrAdjust, cautiousWeightDecay } = options;
  // Under momentumDtype 'bfloat16' the slot is packed (storeInBfloat16). A kernel that reads and
  // writes packed momentum (the native one) is handed the slot as it is and returns the new packed
  // words and their finiteness; for any other the slot is unpacked here before the kernel and its
  // float32 momentum packed after, as the composition does. Either way the step sees the unrounded
  // float32 m' and stores it rounded the same way.
  const packed = options.momentumDtype === 'bfloat16';
  const slot = packed ? MUON_BFLOAT16_MOMENTUM_SLOT : MUON_MOMENTUM_SLOT;
  const packedInKernel = packed && (kernel.momentumDtypes?.includes('bfloat16') ?? false);
  const unpackAround = packed && !packedInKernel;
  return {
    tapPoints: Object.values(MUON_TAPS),
    unavailable: () => kernel.unavailable(),
    step(grads, state, params, context) {
      // Both read at the step's index, as the composition reads them (scaleByMuon, scaleByLearningRate).
      const lr = scheduledAt(learningRate, context);
      const values: Record<string, tf.Tensor> = {};
      const newState: Record<string, Record<string, tf.Tensor>> = {};
      const names = nonEmptyVariables(grads, state, params, [slot], values, newState);
      const variables = names.map((name) => {
        const param = entry(params, name, 'parameter');
        const stored = entry(entry(state, name, 'state'), slot, 'momentum');
        return {
          param,
          grad: entry(grads, name, 'gradient'),
          momentum: unpackAround ? unpackBfloat16(stored, param.shape) : stored,
          shapeScale: shapeScale(matrixShape(param.shape), lrAdjust),
        };
      });
      const computed = kernel.step(variables, {
        beta: scheduledAt(momentum, context),
        nesterov,
        // The step's schedule: its count may change over training (nsSteps as a piecewise schedule).
        schedule: newtonSchulzAt(context),
        learningRate: lr,
        weightDecay: weightDecayAt(options, lr),
        cautious: cautiousWeightDecay,
        momentumDtype: packedInKernel ? 'bfloat16' : 'float32',
      });
      const results = unpackAround ? computed.map(packMomentum) : computed;
      if (unpackAround) tf.dispose(variables.map((v) => v.momentum));
      return matrixStepOutcome('Muon', names, results, slot, values, newState);
    },
  };
}
