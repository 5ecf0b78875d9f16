import * as tf from '@tensorflow/tfjs-core';
import type { AdamStepKernel } from '../math/adamStepKernel.js';
import type { Scheduled } from '../math/schedule.js';
import { type FusedStep, type NonFiniteValue, nonEmptyVariables } from '../transforms/fusedStep.js';
import { type Live, entry, scheduledAt } from '../transforms/gradientTransformation.js';
import { ADAM_SLOTS, adamCorrections } from '../transforms/scaleByAdam.js';
import type { ResolvedAdamWOptions } from './adamw.js';
import { weightDecayAt } from './weightDecay.js';

/**
 * AdamW's step computed at once by an {@link AdamStepKernel}: `adamwTransformation(options,
 * learningRate)` followed by p + update, with the same hyper-parameters read at the same step
 * (lr from its schedule at the step's index, the bias corrections of `adamCorrections`, the decay
 * of `weightDecayAt`) and the same `m` and `v` slots. Every weight-decay variant (decoupled,
 * corrected, cautious) runs fused. The composition emits no tap, so nothing sends a step back to it.
 */
export function fusedAdamWStep(options: ResolvedAdamWOptions, learningRate: Live<Scheduled>, kernel: AdamStepKernel): FusedStep {
  const { beta1, beta2, epsilon, cautiousWeightDecay } = options;
  const { firstMoment: M, secondMoment: V } = ADAM_SLOTS;
  return {
    tapPoints: [],
    unavailable: () => kernel.unavailable(),
    step(grads, state, params, context) {
      const lr = scheduledAt(learningRate, context);
      const values: Record<string, tf.Tensor> = {};
      const newState: Record<string, Record<string, tf.Tensor>> = {};
      const names = nonEmptyVariables(grads, state, params, [M, V], values, newState);
      const results = kernel.step(
        names.map((name) => {
          const slots = entry(state, name, 'state');
          return { param: entry(params, name, 'parameter'), grad: entry(grads, name, 'gradient'), firstMoment: entry(slots, M, 'first moment'), secondMoment: entry(slots, V, 'second moment') };
        }),
        { beta1, beta2, epsilon, ...adamCorrections(beta1, beta2, context.step), learningRate: lr, weightDecay: weightDecayAt(options, lr), cautious: cautiousWeightDecay },
      );
      const nonFiniteGradients: string[] = [];
      const nonFiniteValues: NonFiniteValue[] = [];
      names.forEach((name, i) => {
        const result = results[i];
        if (result === undefined) throw new Error(`Internal error: the fused AdamW kernel returned no result for '${name}'`);
        values[name] = result.param;
        newState[name] = { [M]: result.firstMoment, [V]: result.secondMoment };
        if (!result.gradientFinite) nonFiniteGradients.push(name);
        if (!result.paramFinite) nonFiniteValues.push({ name });
        if (!result.firstMomentFinite) nonFiniteValues.push({ name, slot: M });
        if (!result.secondMomentFinite) nonFiniteValues.push({ name, slot: V });
      });
      return { values, state: newState, nonFiniteGradients, nonFiniteValues };
    },
  };
}
