import * as tf from '@tensorflow/tfjs-core';
import type { AdamStepKernel, AdamStepResult } from '../math/adamStepKernel.js';
import { inPlaceStepUnavailable, runInPlace } from './inPlaceStep.js';
import { ADAM_STEP_FLAGS, loadNativeAddon } from './nativeAddon.js';

/**
 * The {@link AdamStepKernel} of the native addon (`adamStep`, native/src/fused_adam_step.cc): the
 * whole AdamW step of every variable in one pass over its four arrays, instead of the composed
 * step's dozen TF.js ops and the finiteness check's reductions over each new value. It computes the
 * composition's float32 arithmetic bit for bit. Reads and writes in place as the fused Muon step
 * does (the wasm heap, or the cpu backend's arrays): in Node with the addon built, on the cpu and
 * wasm backends.
 */
export function nativeAdamStep(): AdamStepKernel {
  return {
    unavailable: inPlaceStepUnavailable,
    step(variables, settings) {
      const status = loadNativeAddon();
      if (!status.available) throw new Error('nativeAdamStep: the native addon is not available; ask unavailable() first');
      variables.forEach(({ param, grad, firstMoment, secondMoment }, i) => {
        const tensors = { gradient: grad, 'first moment': firstMoment, 'second moment': secondMoment };
        if (param.dtype !== 'float32' || Object.values(tensors).some((t) => t.dtype !== 'float32')) {
          throw new Error(`nativeAdamStep expects float32 tensors; variable ${i} has ${param.dtype}, ${Object.entries(tensors).map(([what, t]) => `${what} ${t.dtype}`).join(', ')}`);
        }
        for (const [what, t] of Object.entries(tensors)) {
          if (!tf.util.arraysEqual(t.shape, param.shape)) throw new Error(`nativeAdamStep: variable ${i} is [${param.shape.join(', ')}] but its ${what} is [${t.shape.join(', ')}]`);
        }
      });
      const count = variables.length;
      const shapes = variables.map((v) => v.param.shape);
      const { outputs, flags } = runInPlace(variables.flatMap((v) => [v.param, v.grad, v.firstMoment, v.secondMoment]), [...shapes, ...shapes, ...shapes], (read, written) =>
        status.addon.adamStep({
          params: variables.map((v) => read(v.param)),
          grads: variables.map((v) => read(v.grad)),
          firstMoments: variables.map((v) => read(v.firstMoment)),
          secondMoments: variables.map((v) => read(v.secondMoment)),
          newParams: written.slice(0, count),
          newFirstMoments: written.slice(count, 2 * count),
          newSecondMoments: written.slice(2 * count),
          beta1: settings.beta1,
          beta2: settings.beta2,
          epsilon: settings.epsilon,
          correction1: settings.correction1,
          correction2: settings.correction2,
          learningRate: settings.learningRate,
          weightDecay: settings.weightDecay,
          cautious: settings.cautious,
        }),
      );
      return variables.map((_, i): AdamStepResult => {
        const flag = flags[i] as number;
        return {
          param: outputs[i] as tf.Tensor,
          firstMoment: outputs[count + i] as tf.Tensor,
          secondMoment: outputs[2 * count + i] as tf.Tensor,
          gradientFinite: (flag & ADAM_STEP_FLAGS.gradient) === 0,
          firstMomentFinite: (flag & ADAM_STEP_FLAGS.firstMoment) === 0,
          secondMomentFinite: (flag & ADAM_STEP_FLAGS.secondMoment) === 0,
          paramFinite: (flag & ADAM_STEP_FLAGS.param) === 0,
        };
      });
    },
  };
}
