import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type SlotMap, entry } from './gradientTransformation.js';

/**
 * Which column blocks a parameter splits into: the widths of its blocks along the last axis
 * (fanOut of its `[fanIn, fanOut]` matrix view), summing to that axis, or undefined to keep it whole.
 */
export type ColumnBlocksOf = (name: string, shape: readonly number[]) => readonly number[] | undefined;

/** The name a block of `name` has inside the wrapped transformation (in its taps, for instance). */
export function blockName(name: string, block: number): string {
  return `${name}#${block}`;
}

/**
 * Runs `inner` on column blocks of some parameters as if each block were a parameter of its own
 * (e.g. Muon on the Q, K and V blocks of a fused kernel, on each attention head's `[dModel,
 * headDim]` block, or on the four gates of an LSTM kernel `[in, 4·units]`): every block gets its
 * own orthogonalization and its own shape scale, and the blocks of a step all reach the kernel in
 * one call, where same-shape blocks are batched. The splits are along the last axis, so a block
 * of a conv kernel `[kh, kw, in, out]` is `[kh, kw, in, width]`: its matrix view keeps fanIn.
 *
 * The state stays keyed by the real variable, in its full shape: block slots are cut from it and
 * written back side by side, so checkpoints do not depend on the split.
 */
export function splitColumns(blocksOf: ColumnBlocksOf, inner: GradientTransformation): GradientTransformation {
  const widthsOf = (name: string, shape: readonly number[]): readonly number[] | undefined => {
    const widths = blocksOf(name, shape);
    if (widths === undefined) return undefined;
    const columns = shape[shape.length - 1] as number;
    if (shape.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1) || widths.reduce((a, b) => a + b, 0) !== columns) {
      throw new Error(`splitColumns: blocks [${widths.join(', ')}] of '${name}' must be positive integers summing to its last axis, ${columns} (shape [${shape.join(', ')}])`);
    }
    return widths;
  };
  const lastAxis = (t: tf.Tensor): number => t.rank - 1;
  const split = (t: tf.Tensor, widths: readonly number[]): tf.Tensor[] => tf.split(t, [...widths], lastAxis(t));
  return {
    init(name, param) {
      const widths = widthsOf(name, param.shape);
      if (widths === undefined) return inner.init(name, param);
      const parts = split(param, widths);
      const blockSlots = parts.map((part, b) => inner.init(blockName(name, b), part));
      const slots = joinSlots(blockSlots, name);
      tf.dispose([...parts, ...blockSlots.flatMap((s) => Object.values(s))]);
      return slots;
    },
    update(grads, state, params, context) {
      const innerGrads: Record<string, tf.Tensor> = {};
      const innerState: Record<string, SlotMap> = {};
      const innerParams: Record<string, tf.Tensor> = {};
      const splitNames = new Map<string, number>();
      for (const [name, grad] of Object.entries(grads)) {
        const widths = widthsOf(name, grad.shape);
        const slots = entry(state, name, 'state');
        const param = entry(params, name, 'parameter');
        if (widths === undefined) {
          innerGrads[name] = grad;
          innerState[name] = slots;
          innerParams[name] = param;
          continue;
        }
        splitNames.set(name, widths.length);
        const gradParts = split(grad, widths);
        const paramParts = split(param, widths);
        const slotParts = Object.entries(slots).map(([slot, value]) => [slot, split(value, widths)] as const);
        gradParts.forEach((g, b) => {
          const block = blockName(name, b);
          innerGrads[block] = g;
          innerParams[block] = paramParts[b] as tf.Tensor;
          innerState[block] = Object.fromEntries(slotParts.map(([slot, parts]) => [slot, parts[b] as tf.Tensor]));
        });
      }
      const result = inner.update(innerGrads, innerState, innerParams, context);
      const updates: Record<string, tf.Tensor> = {};
      const newState: Record<string, SlotMap> = {};
      for (const name of Object.keys(grads)) {
        const blocks = splitNames.get(name);
        if (blocks === undefined) {
          updates[name] = entry(result.updates, name, 'update');
          if (result.state[name] !== undefined) newState[name] = result.state[name];
          continue;
        }
        const names = Array.from({ length: blocks }, (_, b) => blockName(name, b));
        const blockUpdates = names.map((block) => entry(result.updates, block, 'update'));
        updates[name] = tf.concat(blockUpdates, lastAxis(blockUpdates[0] as tf.Tensor));
        newState[name] = joinSlots(names.map((block) => result.state[block] ?? {}), name);
      }
      return { updates, state: newState };
    },
  };
}

/** The slots of a variable from the slots of its blocks, side by side along the last axis. */
function joinSlots(blockSlots: readonly SlotMap[], name: string): SlotMap {
  const slots: Record<string, tf.Tensor> = {};
  for (const slot of Object.keys(blockSlots[0] ?? {})) {
    const parts = blockSlots.map((s) => entry(s, slot, `block slot of '${name}'`));
    slots[slot] = tf.concat(parts, (parts[0] as tf.Tensor).rank - 1);
  }
  return slots;
}
