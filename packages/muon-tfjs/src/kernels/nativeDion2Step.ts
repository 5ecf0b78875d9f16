import * as tf from '@tensorflow/tfjs-core';
import type { Dion2StepKernel } from '../math/dion2StepKernel.js';
import { matrixShape } from '../math/matrixView.js';
import { NATIVE_ALGORITHM_CODES, NATIVE_NORMALIZATION_CODES } from './nativeAddon.js';
import { inPlaceStepUnavailable, runInPlace } from './inPlaceStep.js';
import { matrixStepResults, nativeMatrixStep } from './nativeMatrixStep.js';
import { nativeSchedule } from './nativeOrthogonalizer.js';
import type { NativeMuonStepOptions } from './nativeMuonStep.js';

/**
 * The {@link Dion2StepKernel} of the native addon (`dion2Step`, native/src/fused_dion2_step.cc):
 * the whole Dion2 step of every variable in one call. Each selected `[k, other side]` submatrix is
 * planned and orthogonalized as `nativeOrthogonalizer({ library })` would orthogonalize it in the
 * composed step, and the slices' L1 norms are accumulated as the backend's `tf.sum` accumulates
 * them (float64 on cpu, float32 on wasm), so that the selection is the composed step's.
 *
 * Inputs are read in place and outputs written as `nativeMuonStep`'s ({@link runInPlace}).
 * Available in Node with the addon built, on the cpu and wasm backends.
 */
export function nativeDion2Step(options: NativeMuonStepOptions = {}): Dion2StepKernel {
  const native = nativeMatrixStep(options.library ?? 'fastest', 'nativeDion2Step');
  return {
    unavailable: inPlaceStepUnavailable,
    step(variables, settings) {
      const addon = native.addon();
      const { products, plan } = native.planning();
      const count = variables.length;
      const variableShapes = new Int32Array(2 * count);
      const selections = new Int32Array(2 * count);
      const shapes = new Int32Array(2 * count);
      const plans = new Int32Array(2 * count);
      const flops = new Float64Array(count);
      const shapeScales = new Float64Array(count);
      variables.forEach(({ param, grad, momentum, side, selected, shapeScale }, i) => {
        native.checkVariable(i, param, grad, momentum);
        const { fanIn, fanOut } = matrixShape(param.shape);
        const slices = side === 'columns' ? fanOut : fanIn;
        if (!Number.isInteger(selected) || selected < 1 || selected > slices) {
          throw new Error(`nativeDion2Step: variable ${i} ([${fanIn}, ${fanOut}]) cannot select ${selected} of its ${slices} ${side}`);
        }
        const length = side === 'columns' ? fanIn : fanOut;
        const decision = plan(selected, length, settings.schedule);
        variableShapes.set([fanIn, fanOut], 2 * i);
        selections.set([side === 'columns' ? 1 : 0, selected], 2 * i);
        shapes.set([selected, length], 2 * i);
        plans.set([NATIVE_ALGORITHM_CODES[decision.algorithm], decision.transposed ? 1 : 0], 2 * i);
        flops[i] = decision.flops;
        shapeScales[i] = shapeScale;
      });
      const { coefficients, restartAfter } = nativeSchedule(settings.schedule);
      const outputShapes = variables.map((v) => v.param.shape);
      const { outputs, flags } = runInPlace(variables.flatMap((v) => [v.param, v.grad, v.momentum]), [...outputShapes, ...outputShapes], (read, written) =>
        addon.dion2Step({
          params: variables.map((v) => read(v.param)),
          grads: variables.map((v) => read(v.grad)),
          momenta: variables.map((v) => read(v.momentum)),
          newParams: written.slice(0, count),
          newMomenta: written.slice(count),
          variableShapes,
          selections,
          shapes,
          plans,
          flops,
          coefficients,
          normalizationScale: settings.schedule.normalizationScale,
          eps: settings.schedule.eps,
          restartAfter,
          precision: products.precisionCode(settings.schedule.precision),
          normalization: NATIVE_NORMALIZATION_CODES[settings.schedule.normalization],
          shapeScales,
          errorFeedbackDecay: settings.errorFeedbackDecay,
          // The cpu backend's tf.sum adds in a JavaScript number (float64); wasm's in a C++ float.
          normsInFloat64: tf.getBackend() === 'cpu',
          learningRate: settings.learningRate,
          weightDecay: settings.weightDecay,
          cautious: settings.cautious,
        }),
      );
      return matrixStepResults(outputs, flags, count);
    },
  };
}
