import type * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type StateMap, type TensorMap, declarationsOf, encodedSlotsOf } from './gradientTransformation.js';

/**
 * Routes each parameter to one of several transformations by a label (optax `partition`):
 * `partition(labelOf, { muon: muonChain, adamw: adamwChain })`. The label function is the whole
 * routing policy: it is explicit, replaceable data, not logic hidden inside an optimizer.
 */
export function partition<L extends string>(
  labelOf: (name: string, param: tf.Tensor) => L,
  transformations: Readonly<Record<L, GradientTransformation>>,
): GradientTransformation {
  const pick = (name: string, param: tf.Tensor): GradientTransformation => {
    const label = labelOf(name, param);
    const t = transformations[label];
    if (t === undefined) {
      throw new Error(`partition: variable '${name}' has label '${label}', which names no transformation`);
    }
    return t;
  };
  return {
    nonNegativeSlots: Object.values<GradientTransformation>(transformations).flatMap((t) => t.nonNegativeSlots ?? []),
    encodedSlots: encodedSlotsOf(Object.values<GradientTransformation>(transformations)),
    stabilizers: Object.entries<GradientTransformation>(transformations).flatMap(([label, t]) => (t.stabilizers ?? []).map((s) => ({ group: label, ...s }))),
    ...declarationsOf(Object.values<GradientTransformation>(transformations)),
    init: (name, param) => pick(name, param).init(name, param),
    update(grads, state, params, context) {
      const groups = new Map<GradientTransformation, Record<string, tf.Tensor>>();
      for (const [name, grad] of Object.entries(grads)) {
        const param = params[name];
        if (param === undefined) {
          throw new Error(`Internal error: no parameter value for '${name}'`);
        }
        const t = pick(name, param);
        const group = groups.get(t) ?? {};
        group[name] = grad;
        groups.set(t, group);
      }
      const updates: Record<string, tf.Tensor> = {};
      const newState: Record<string, StateMap[string]> = {};
      for (const [t, group] of groups) {
        const result = t.update(group as TensorMap, state, params, context);
        Object.assign(updates, result.updates);
        Object.assign(newState, result.state);
      }
      return { updates, state: newState };
    },
  };
}
