import type * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type SlotMap, type StateMap, type TensorMap, declarationsOf, encodedSlotsOf } from './gradientTransformation.js';

/**
 * Composes transformations left to right: the updates of one are the gradients of the next, and
 * the state of a parameter is the union of every member's slots (slot names must not collide).
 * `adamw = chain(scaleByAdam, addDecayedWeights, scaleByLearningRate)`.
 */
export function chain(...transformations: readonly GradientTransformation[]): GradientTransformation {
  return {
    nonNegativeSlots: transformations.flatMap((t) => t.nonNegativeSlots ?? []),
    encodedSlots: encodedSlotsOf(transformations),
    stabilizers: transformations.flatMap((t) => t.stabilizers ?? []),
    ...declarationsOf(transformations),
    init(name, param) {
      const slots: Record<string, SlotMap[string]> = {};
      for (const t of transformations) {
        for (const [slot, value] of Object.entries(t.init(name, param))) {
          if (slot in slots) {
            throw new Error(`chain: two transformations both keep a slot named '${slot}' for '${name}'`);
          }
          slots[slot] = value;
        }
      }
      return slots;
    },
    update(grads, state, params, context) {
      let updates: TensorMap = grads;
      const newState: Record<string, Record<string, SlotMap[string]>> = {};
      const stateTensors = new Set<tf.Tensor>();
      for (const t of transformations) {
        const result = t.update(updates, state, params, context);
        for (const [name, slots] of Object.entries(result.state)) {
          newState[name] = { ...newState[name], ...slots };
          Object.values(slots).forEach((tensor) => stateTensors.add(tensor));
        }
        // An intermediate update replaced by the next stage is dead: free it now rather than at the
        // end of the step's tidy (it is neither a gradient, owned by the caller, nor new state).
        for (const [name, previous] of Object.entries(updates)) {
          if (previous !== result.updates[name] && previous !== grads[name] && !stateTensors.has(previous)) {
            previous.dispose();
          }
        }
        updates = result.updates;
      }
      return { updates, state: newState as StateMap };
    },
  };
}
