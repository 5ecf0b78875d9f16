import * as tf from '@tensorflow/tfjs-core';
import type { Dion2StepKernel } from '../math/dion2StepKernel.js';
import { matrixShape } from '../math/matrixView.js';
import { inPlaceStepUnavailable } from './inPlaceStep.js';
import { nativeMatrixStep } from './nativeMatrixStep.js';
import type { NativeMuonStepOptions } from './nativeMuonStep.js';

/**
 * The {@link Dion2StepKernel} of the native addon (`dion2Step`, native/src/fused_dion2_step.cc):
 * the whole Dion2 step of every variable in one call. Each selected `[k, other side]` submatrix is
 * planned and orthogonalized as `nativeOrthogonalizer({ library })` would orthogonalize it in the
 * composed step, and the slices' L1 norms are accumulated as the backend's `tf.sum` accumulates
 * them (float64 on cpu, float32 on wasm), so that the selection is the composed step's.
 *
 * Inputs are read in place and outputs written as `nativeMuonStep`'s (`runInPlace`).
 * Available in Node with the addon built, on the cpu and wasm backends.
 */
export function nativeDion2Step(options: NativeMuonStepOptions = {}): Dion2StepKernel {
  const native = nativeMatrixStep(options.library ?? 'fastest', 'nativeDion2Step');
  return {
    unavailable: inPlaceStepUnavailable,
    step(variables, settings) {
      const addon = native.addon();
      const count = variables.length;
      const variableShapes = new Int32Array(2 * count);
      const selections = new Int32Array(2 * count);
      const submatrices = variables.map(({ param, grad, momentum, side, selected }, i): readonly [number, number] => {
        native.checkVariable(i, param, grad, momentum);
        const { fanIn, fanOut } = matrixShape(param.shape);
        const slices = side === 'columns' ? fanOut : fanIn;
        if (!Number.isInteger(selected) || selected < 1 || selected > slices) {
          throw new Error(`nativeDion2Step: variable ${i} ([${fanIn}, ${fanOut}]) cannot select ${selected} of its ${slices} ${side}`);
        }
        variableShapes.set([fanIn, fanOut], 2 * i);
        selections.set([side === 'columns' ? 1 : 0, selected], 2 * i);
        // The planned matrix is the selected one: k slices by the other side.
        return [selected, side === 'columns' ? fanIn : fanOut];
      });
      const planned = native.plansAndSchedule(submatrices, settings.schedule);
      const shapeScales = Float64Array.from(variables, (v) => v.shapeScale);
      const { errorFeedbackDecay, learningRate, weightDecay, cautious } = settings;
      // The cpu backend's tf.sum adds in a JavaScript number (float64); wasm's in a C++ float.
      const normsInFloat64 = tf.getBackend() === 'cpu';
      return native.run(variables, (arrays) =>
        addon.dion2Step({ ...arrays, variableShapes, selections, ...planned, shapeScales, errorFeedbackDecay, normsInFloat64, learningRate, weightDecay, cautious }),
      );
    },
  };
}
