import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types.js';
import { nonFiniteKeysAsync } from './finiteness.js';
import { baseVariableName } from './variableNames.js';

/** Separates a variable name from a slot name in the names of `getWeights()`: `dense/kernel/momentum`. */
export const SLOT_SEPARATOR = '/';

/** A checkpoint, checked: its step count and, per saved variable name, its slots. */
export interface ParsedCheckpoint {
  readonly iterations: number;
  /** Saved variable name → slot → the caller's tensor (not yet copied). */
  readonly state: ReadonlyMap<string, ReadonlyMap<string, tf.Tensor>>;
}

/**
 * Checks a checkpoint as `setWeights` receives it, before anything is copied or replaced: `iter`
 * first, a non-negative integer; every other entry `<variable>/<slot>`, once, a live float32
 * tensor, finite; slots in `nonNegativeSlots` (AdamW's `v`) ≥ 0; and at `iter` = 0 no non-zero
 * state (moments without a step count would be bias-corrected as if fresh). One read-back.
 */
export async function parseCheckpoint(weights: readonly NamedTensor[], nonNegativeSlots: ReadonlySet<string>, owner: string): Promise<ParsedCheckpoint> {
  const where = `${owner}.setWeights`;
  if (!Array.isArray(weights)) throw new Error(`${where}: expected an array of { name, tensor }, got ${typeof weights}`);
  const [first, ...rest] = weights;
  if (first === undefined || first.name !== 'iter') {
    throw new Error(`${where}: the first weight must be 'iter', got '${first?.name ?? 'nothing'}'`);
  }
  const state = new Map<string, Map<string, tf.Tensor>>();
  const all = new Map<string, tf.Tensor>();
  for (const { name, tensor } of weights) {
    if (!(tensor instanceof tf.Tensor) || tensor.isDisposed) throw new Error(`${where}: '${name}' is not a live tensor`);
    if (all.has(name)) throw new Error(`${where}: '${name}' appears twice`);
    all.set(name, tensor);
  }
  for (const { name, tensor } of rest) {
    const cut = name.lastIndexOf(SLOT_SEPARATOR);
    if (cut <= 0 || cut === name.length - 1) throw new Error(`${where}: weight '${name}' is not of the form '<variable>/<slot>'`);
    if (tensor.dtype !== 'float32') throw new Error(`${where}: '${name}' is ${tensor.dtype}; optimizer state is float32`);
    const variable = name.slice(0, cut);
    const slots = state.get(variable) ?? new Map<string, tf.Tensor>();
    slots.set(name.slice(cut + 1), tensor);
    state.set(variable, slots);
  }
  if (first.tensor.size !== 1) throw new Error(`${where}: 'iter' must be a scalar, got shape [${first.tensor.shape.join(', ')}]`);
  const iterations = (await first.tensor.data())[0] as number;
  if (!Number.isInteger(iterations) || iterations < 0) throw new Error(`${where}: 'iter' must be an integer ≥ 0, got ${iterations}`);
  const slotEntries = rest.filter(({ tensor }) => tensor.size > 0);
  const bad = await nonFiniteKeysAsync(new Map(slotEntries.map(({ name, tensor }) => [name, tensor])));
  if (bad.length > 0) throw new Error(`${where}: non-finite (NaN or Inf) state in ${bad.map((n) => `'${n}'`).join(', ')}`);
  if (slotEntries.length > 0) {
    // Per entry: its minimum and its largest magnitude, read back together.
    const stats = tf.tidy(() => tf.stack(slotEntries.map(({ tensor }) => tf.stack([tf.min(tensor), tf.max(tf.abs(tensor))]))));
    const values = await stats.data();
    stats.dispose();
    slotEntries.forEach(({ name }, i) => {
      const slot = name.slice(name.lastIndexOf(SLOT_SEPARATOR) + 1);
      if (nonNegativeSlots.has(slot) && (values[2 * i] as number) < 0) {
        throw new Error(`${where}: '${name}' has negative entries (min ${values[2 * i]}); a '${slot}' slot is a second moment, ≥ 0`);
      }
      if (iterations === 0 && (values[2 * i + 1] as number) !== 0) {
        throw new Error(`${where}: 'iter' is 0 but '${name}' is not zero: state of trained steps needs their count (bias corrections use it)`);
      }
    });
  }
  return { iterations, state };
}

/**
 * Which saved state entries the variables of a step stand for. An exact name always wins and
 * never loses its state to another variable. A renamed variable — tfjs-layers appends `_1`, `_2`,
 * … to every variable of a model loaded in a process that still holds the original — takes the
 * state saved under another name only when that cannot be another live variable's state: the
 * saved name is no registered variable any more (the original model was disposed), both share
 * the base name, and the saved and the live names of that base pair up one-to-one, in order.
 * Shapes are checked when the state is bound. Anything else starts from fresh state.
 * @returns live variable name → saved variable name
 */
export function bindRestoredNames(live: readonly string[], saved: readonly string[]): Map<string, string> {
  const binding = new Map<string, string>();
  const savedSet = new Set(saved);
  const unmatchedLive = live.filter((name) => {
    if (!savedSet.has(name)) return true;
    binding.set(name, name);
    return false;
  });
  const orphans = saved.filter((name) => !live.includes(name) && tf.engine().registeredVariables[name] === undefined);
  const byBase = (names: readonly string[]) => {
    const groups = new Map<string, string[]>();
    for (const name of names) groups.set(baseVariableName(name), [...(groups.get(baseVariableName(name)) ?? []), name]);
    return groups;
  };
  const orphanGroups = byBase(orphans);
  for (const [base, names] of byBase(unmatchedLive)) {
    const candidates = orphanGroups.get(base);
    if (candidates?.length !== names.length) continue;
    names.forEach((name, i) => binding.set(name, candidates[i] as string));
  }
  return binding;
}
