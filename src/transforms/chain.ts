import type { GradientTransformation, SlotMap, StateMap, TensorMap } from './gradientTransformation.js';

/**
 * Composes transformations left to right: the updates of one are the gradients of the next, and
 * the state of a parameter is the union of every member's slots (slot names must not collide).
 * `adamw = chain(scaleByAdam, addDecayedWeights, scaleByLearningRate)`.
 */
export function chain(...transformations: readonly GradientTransformation[]): GradientTransformation {
  return {
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
    update(grads, state, params, step) {
      let updates: TensorMap = grads;
      const newState: Record<string, Record<string, SlotMap[string]>> = {};
      for (const t of transformations) {
        const result = t.update(updates, state, params, step);
        updates = result.updates;
        for (const [name, slots] of Object.entries(result.state)) {
          newState[name] = { ...newState[name], ...slots };
        }
      }
      return { updates, state: newState as StateMap };
    },
  };
}
