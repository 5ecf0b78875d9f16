import * as tf from '@tensorflow/tfjs-core';
import { type GradientTransformation, type SlotMap, entry } from './gradientTransformation.js';

/**
 * How one parameter is cut into blocks that a wrapped transformation treats as parameters of
 * their own, and put back together. `split` and `join` must be inverses (a view: the blocks hold
 * every entry exactly once).
 */
export interface BlockSplit {
  /** The parameter's (and every slot's, every gradient's) blocks, in a fixed order. */
  split(t: tf.Tensor): tf.Tensor[];
  /** The tensor of the parameter's shape made of these blocks. */
  join(blocks: readonly tf.Tensor[]): tf.Tensor;
  /**
   * A factor on the joined update (not on the state): 1 unless the blocks' own scales need a
   * correction for their number (per-tap orthogonalization's 1/√taps, {@link splitTaps}).
   */
  readonly updateScale: number;
}

/** Which split a parameter gets, or undefined to keep it whole. May throw, naming the variable. */
export type BlockSplitOf = (name: string, shape: readonly number[]) => BlockSplit | undefined;

/** The split of a parameter: none for an empty one, which has no entries to cut into blocks. */
function splitOfParameter(splitOf: BlockSplitOf, name: string, shape: readonly number[]): BlockSplit | undefined {
  return shape.includes(0) ? undefined : splitOf(name, shape);
}

/** The name a block of `name` has inside the wrapped transformation (in its taps, for instance). */
export function blockName(name: string, block: number): string {
  return `${name}#${block}`;
}

/**
 * Runs `inner` on blocks of some parameters as if each block were a parameter of its own (column
 * blocks: {@link splitColumns}; the taps of a conv kernel: {@link splitTaps}). The blocks of a
 * step all reach `inner` in one call, so an orthogonalizing `inner` hands them to its kernel
 * together, where same-shape blocks are batched.
 *
 * The state stays keyed by the real variable, in its full shape: block slots are cut from it and
 * joined back, so checkpoints do not depend on the split.
 */
export function splitBlocks(splitOf: BlockSplitOf, inner: GradientTransformation): GradientTransformation {
  return {
    // The blocks are parameters to `inner`: its slots, stabilizers, taps and inputs stay its own.
    ...inner,
    init(name, param) {
      const blockSplit = splitOfParameter(splitOf, name, param.shape);
      if (blockSplit === undefined) return inner.init(name, param);
      const parts = blockSplit.split(param);
      const blockSlots = parts.map((part, b) => inner.init(blockName(name, b), part));
      const slots = joinSlots(blockSlots, blockSplit, name);
      tf.dispose([...parts, ...blockSlots.flatMap((s) => Object.values(s))]);
      return slots;
    },
    update(grads, state, params, context) {
      const innerGrads: Record<string, tf.Tensor> = {};
      const innerState: Record<string, SlotMap> = {};
      const innerParams: Record<string, tf.Tensor> = {};
      const splits = new Map<string, { blockSplit: BlockSplit; blocks: number }>();
      for (const [name, grad] of Object.entries(grads)) {
        const blockSplit = splitOfParameter(splitOf, name, grad.shape);
        const slots = entry(state, name, 'state');
        const param = entry(params, name, 'parameter');
        if (blockSplit === undefined) {
          innerGrads[name] = grad;
          innerState[name] = slots;
          innerParams[name] = param;
          continue;
        }
        const gradParts = blockSplit.split(grad);
        const paramParts = blockSplit.split(param);
        const slotParts = Object.entries(slots).map(([slot, value]) => [slot, blockSplit.split(value)] as const);
        splits.set(name, { blockSplit, blocks: gradParts.length });
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
        const split = splits.get(name);
        if (split === undefined) {
          updates[name] = entry(result.updates, name, 'update');
          if (result.state[name] !== undefined) newState[name] = result.state[name];
          continue;
        }
        const { blockSplit, blocks } = split;
        const names = Array.from({ length: blocks }, (_, b) => blockName(name, b));
        const joined = blockSplit.join(names.map((block) => entry(result.updates, block, 'update')));
        updates[name] = blockSplit.updateScale === 1 ? joined : tf.mul(joined, blockSplit.updateScale);
        newState[name] = joinSlots(names.map((block) => result.state[block] ?? {}), blockSplit, name);
      }
      return { updates, state: newState };
    },
  };
}

/** The slots of a variable from the slots of its blocks, joined as the parameter's blocks are. */
function joinSlots(blockSlots: readonly SlotMap[], blockSplit: BlockSplit, name: string): SlotMap {
  const slots: Record<string, tf.Tensor> = {};
  for (const slot of Object.keys(blockSlots[0] ?? {})) {
    slots[slot] = blockSplit.join(blockSlots.map((s) => entry(s, slot, `block slot of '${name}'`)));
  }
  return slots;
}
