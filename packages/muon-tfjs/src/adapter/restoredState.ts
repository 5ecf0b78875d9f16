import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types.js';
import type { SlotEncoding, TensorMap } from '../transforms/gradientTransformation.js';
import { nonFiniteKeysAsync } from './finiteness.js';
import { baseVariableName } from './variableNames.js';

/** Separates a variable name from a slot name in the names of `getWeights()`: `dense/kernel/momentum`. */
export const SLOT_SEPARATOR = '/';

/**
 * Marks the step inputs pending at a save among a checkpoint's slots:
 * `dense/kernel/pendingInput:hessianDiagonal`. The kind is URI-encoded, so that a `/` in it
 * cannot move the separator between variable and slot.
 */
const PENDING_INPUT_PREFIX = 'pendingInput:';

function pendingInputWeightName(variable: string, kind: string): string {
  return `${variable}${SLOT_SEPARATOR}${PENDING_INPUT_PREFIX}${encodeURIComponent(kind)}`;
}

/** A checkpoint, checked: its step count, per saved variable name its slots, and the step inputs pending at the save. */
export interface ParsedCheckpoint {
  readonly iterations: number;
  /** Saved variable name → slot → the caller's tensor (not yet copied). */
  readonly state: ReadonlyMap<string, ReadonlyMap<string, tf.Tensor>>;
  /** Kind → saved variable name → the caller's tensor (not yet copied). */
  readonly inputs: ReadonlyMap<string, ReadonlyMap<string, tf.Tensor>>;
}

/**
 * Checks a checkpoint as `setWeights` receives it, before anything is copied or replaced: `iter`
 * first, a non-negative integer; every other entry `<variable>/<slot>` (or
 * `<variable>/pendingInput:<kind>`), once, a live float32 tensor, finite; slots in
 * `nonNegativeSlots` (AdamW's `v`) ≥ 0; and at `iter` = 0 no non-zero state (moments without a
 * step count would be bias-corrected as if fresh; a pending input may precede the first step).
 * One read-back.
 */
export async function parseCheckpoint(
  weights: readonly NamedTensor[],
  nonNegativeSlots: ReadonlySet<string>,
  owner: string,
  encodedSlots: Readonly<Record<string, SlotEncoding>> = {},
): Promise<ParsedCheckpoint> {
  const where = `${owner}.setWeights`;
  if (!Array.isArray(weights)) throw new Error(`${where}: expected an array of { name, tensor }, got ${typeof weights}`);
  const [first, ...rest] = weights;
  if (first === undefined || first.name !== 'iter') {
    throw new Error(`${where}: the first weight must be 'iter', got '${first?.name ?? 'nothing'}'`);
  }
  const state = new Map<string, Map<string, tf.Tensor>>();
  const inputs = new Map<string, Map<string, tf.Tensor>>();
  const all = new Map<string, tf.Tensor>();
  for (const { name, tensor } of weights) {
    if (!(tensor instanceof tf.Tensor) || tensor.isDisposed) throw new Error(`${where}: '${name}' is not a live tensor`);
    if (all.has(name)) throw new Error(`${where}: '${name}' appears twice`);
    all.set(name, tensor);
  }
  for (const { name, tensor } of rest) {
    const cut = name.lastIndexOf(SLOT_SEPARATOR);
    if (cut <= 0 || cut === name.length - 1) throw new Error(`${where}: weight '${name}' is not of the form '<variable>/<slot>'`);
    const variable = name.slice(0, cut);
    const slot = name.slice(cut + 1);
    const encoding = encodedSlots[slot];
    if (tensor.dtype !== (encoding?.dtype ?? 'float32')) {
      throw new Error(`${where}: '${name}' is ${tensor.dtype}; ${encoding === undefined ? `this optimizer keeps float32 state (was the checkpoint saved with other options, such as momentumDtype?)` : `a '${slot}' slot holds ${encoding.format} (${encoding.dtype})`}`);
    }
    const kind = slot.startsWith(PENDING_INPUT_PREFIX) ? decodeKind(slot.slice(PENDING_INPUT_PREFIX.length), name, where) : undefined;
    const group = kind === undefined ? state : inputs;
    const entries = group.get(kind ?? variable) ?? new Map<string, tf.Tensor>();
    entries.set(kind === undefined ? slot : variable, tensor);
    group.set(kind ?? variable, entries);
  }
  if (first.tensor.size !== 1) throw new Error(`${where}: 'iter' must be a scalar, got shape [${first.tensor.shape.join(', ')}]`);
  const iterations = (await first.tensor.data())[0] as number;
  if (!Number.isInteger(iterations) || iterations < 0) throw new Error(`${where}: 'iter' must be an integer ≥ 0, got ${iterations}`);
  const slotEntries = rest.filter(({ tensor }) => tensor.size > 0);
  const encodingOf = (name: string): SlotEncoding | undefined => encodedSlots[name.slice(name.lastIndexOf(SLOT_SEPARATOR) + 1)];
  const bad = await nonFiniteKeysAsync(new Map(slotEntries.map(({ name, tensor }) => [name, tensor])));
  for (const { name, tensor } of slotEntries) {
    const encoding = encodingOf(name);
    if (encoding !== undefined && !encoding.finite((await tensor.data()) as tf.TypedArray)) bad.push(name);
  }
  if (bad.length > 0) throw new Error(`${where}: non-finite (NaN or Inf) state in ${bad.map((n) => `'${n}'`).join(', ')}`);
  if (slotEntries.length > 0) {
    // Per entry: its minimum and its largest magnitude, read back together.
    // As float32: encoded slots (int32) sit beside float32 ones; only signs and zeros are compared.
    const stats = tf.tidy(() => tf.stack(slotEntries.map(({ tensor }) => tf.cast(tf.stack([tf.min(tensor), tf.max(tf.abs(tensor))]), 'float32'))));
    const values = await stats.data();
    stats.dispose();
    slotEntries.forEach(({ name }, i) => {
      const slot = name.slice(name.lastIndexOf(SLOT_SEPARATOR) + 1);
      if (nonNegativeSlots.has(slot) && (values[2 * i] as number) < 0) {
        throw new Error(`${where}: '${name}' has negative entries (min ${values[2 * i]}); a '${slot}' slot is a second moment, ≥ 0`);
      }
      if (iterations === 0 && !slot.startsWith(PENDING_INPUT_PREFIX) && (values[2 * i + 1] as number) !== 0) {
        throw new Error(`${where}: 'iter' is 0 but '${name}' is not zero: state of trained steps needs their count (bias corrections use it)`);
      }
    });
  }
  return { iterations, state, inputs };
}

function decodeKind(encoded: string, name: string, where: string): string {
  try {
    const kind = decodeURIComponent(encoded);
    if (kind !== '') return kind;
  } catch {
    // A malformed escape: refused below, as an empty kind is.
  }
  throw new Error(`${where}: '${name}' names no step input kind after '${PENDING_INPUT_PREFIX}'`);
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

/**
 * The pairing the first step after a restore may bind by, by position, as tfjs's own optimizers
 * bind theirs: the step's variables and the checkpoint's, in order, one-to-one, each pair sharing
 * its base name, and no live name that is a saved name anywhere but at its own position (an exact
 * name always gets its own state). A model reloaded in the same process as its original trains
 * exactly such a list (`kernel_1` where the checkpoint says `kernel`), whatever else lives in the
 * process; a partial, reordered or renamed list is not one, and binds by `bindRestoredNames`.
 * Shapes are the caller's check (`RestoredState.bind`).
 * @returns live variable name → saved variable name, or undefined where they do not pair
 */
export function pairByPosition(live: readonly string[], saved: readonly string[]): Map<string, string> | undefined {
  if (live.length !== saved.length) return undefined;
  const savedSet = new Set(saved);
  const pairs = live.map((name, i) => [name, saved[i] as string] as const);
  const paired = pairs.every(([name, savedName]) => baseVariableName(name) === baseVariableName(savedName) && (name === savedName || !savedSet.has(name)));
  return paired ? new Map(pairs) : undefined;
}

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(', ');

/**
 * Optimizer state restored by `setWeights` and not yet bound to a live variable, with the step
 * inputs that were pending at the save. An entry binds on the first step that sees a variable it
 * stands for: on the first step after the restore, by position where the whole step pairs with
 * the checkpoint (`pairByPosition`, and every pair's state fits), else by `bindRestoredNames`.
 * The first step also receives the saved inputs and, once it commits, names in one warning the
 * saved entries it left unbound: they stay here, and `getWeights` returns them.
 */
export class RestoredState {
  /** Saved variable name → slot → value: copies owned here until bound. */
  readonly #slots = new Map<string, Map<string, tf.Tensor>>();
  /** Kind → saved variable name → value: copies owned here until the first step commits. */
  readonly #inputs = new Map<string, Map<string, tf.Tensor>>();
  /** From a restore until its first step commits. */
  #awaitingFirstStep = false;
  /** The first step's pairing by position, from `pairFirstStep` until `bind`. */
  #paired: Map<string, string> | undefined;
  /** The binding of the step being made: live variable name → saved variable name. */
  #binding: ReadonlyMap<string, string> = new Map();
  /** Names of the saved inputs the step being made received, or that a provision since replaced. */
  #settledInputs = new Set<string>();

  /** Replaces everything with copies of a parsed checkpoint's entries (copied first: they may be this object's own). */
  replace({ state, inputs }: ParsedCheckpoint): void {
    const copy = (entries: ReadonlyMap<string, tf.Tensor>) => new Map([...entries].map(([key, t]) => [key, tf.keep(t.clone())]));
    const slots = [...state].map(([name, entries]) => [name, copy(entries)] as const);
    const pending = [...inputs].map(([kind, entries]) => [kind, copy(entries)] as const);
    this.dispose();
    slots.forEach(([name, entries]) => this.#slots.set(name, entries));
    pending.forEach(([kind, entries]) => this.#inputs.set(kind, entries));
    this.#awaitingFirstStep = this.#slots.size > 0 || this.#inputs.size > 0;
  }

  /** Before the state of a step's fresh variables is made: on the first step after a restore, pairs them with the checkpoint by position. */
  pairFirstStep(fresh: readonly string[]): void {
    this.#paired = this.#awaitingFirstStep ? pairByPosition(fresh, [...this.#slots.keys()]) : undefined;
  }

  /** The saved name that the first step's pairing by position gives `live`, while that step's state is being made. */
  pairedName(live: string): string | undefined {
    return this.#paired?.get(live);
  }

  /** Which saved entry each fresh variable takes: the pairing by position if every pair's saved slots `fit`, else `bindRestoredNames`. */
  bind(fresh: readonly string[], fits: (live: string, saved: ReadonlyMap<string, tf.Tensor>) => boolean): ReadonlyMap<string, string> {
    const paired = this.#paired;
    this.#paired = undefined;
    const allFit = paired !== undefined && [...paired].every(([live, saved]) => fits(live, this.#slots.get(saved) as ReadonlyMap<string, tf.Tensor>));
    this.#binding = allFit ? paired : bindRestoredNames(fresh, [...this.#slots.keys()]);
    return this.#binding;
  }

  /** The saved slots of a saved variable name. */
  slotsOf(saved: string): ReadonlyMap<string, tf.Tensor> | undefined {
    return this.#slots.get(saved);
  }

  /**
   * The inputs of the step being made: those provided since the restore (`provided`, whole kinds,
   * as a provision replaces its kind), and on the first step after a restore the saved ones of
   * every other kind, under the names of the variables their entries bound to (an input saved for
   * a variable without saved state, e.g. an estimate provided before the first step, goes to the
   * step's variable of that exact name). A saved input whose shape is not its variable's is
   * refused, naming both.
   */
  stepInputs(params: Readonly<Record<string, tf.Variable>>, provided: Readonly<Record<string, TensorMap>>, owner: string): Readonly<Record<string, TensorMap>> {
    this.#settledInputs = new Set();
    if (this.#inputs.size === 0) return provided;
    const liveOf = new Map([...this.#binding].map(([live, saved]) => [saved, live]));
    const exactName = (saved: string) => (!this.#slots.has(saved) && !this.#binding.has(saved) && Object.hasOwn(params, saved) ? saved : undefined);
    const restored: Record<string, TensorMap> = {};
    for (const [kind, entries] of this.#inputs) {
      if (Object.hasOwn(provided, kind)) {
        entries.forEach((_, saved) => this.#settledInputs.add(pendingInputWeightName(saved, kind)));
        continue;
      }
      const bound: Record<string, tf.Tensor> = {};
      for (const [saved, tensor] of entries) {
        const live = liveOf.get(saved) ?? exactName(saved);
        const variable = live === undefined ? undefined : params[live];
        if (live === undefined || variable === undefined) continue;
        if (!tf.util.arraysEqual(tensor.shape, variable.shape)) {
          throw new Error(`${owner}: the restored '${pendingInputWeightName(saved, kind)}' is [${tensor.shape.join(', ')}], but '${live}' needs [${variable.shape.join(', ')}]; no variable was updated`);
        }
        bound[live] = tensor;
        this.#settledInputs.add(pendingInputWeightName(saved, kind));
      }
      restored[kind] = bound;
    }
    return { ...restored, ...provided };
  }

  /**
   * Once a step commits: frees the saved entries it bound (`consumed`). After the first step since
   * a restore, frees the saved inputs (they were that step's) and warns, once, naming the saved
   * entries it left unbound and the step's variables that started from fresh state instead.
   */
  commitStep(consumed: readonly string[], stepNames: readonly string[], owner: string): void {
    for (const saved of consumed) {
      this.#slots.get(saved)?.forEach((t) => t.dispose());
      this.#slots.delete(saved);
    }
    if (!this.#awaitingFirstStep) return;
    this.#awaitingFirstStep = false;
    const droppedInputs = [...this.#inputs].flatMap(([kind, entries]) => [...entries.keys()].map((saved) => pendingInputWeightName(saved, kind))).filter((name) => !this.#settledInputs.has(name));
    this.#inputs.forEach((entries) => entries.forEach((t) => t.dispose()));
    this.#inputs.clear();
    const unbound = [...this.#slots.keys()];
    if (unbound.length === 0 && droppedInputs.length === 0) return;
    const fresh = stepNames.filter((name) => !this.#binding.has(name));
    console.warn(
      `${owner}: the first step after setWeights bound no variable to the saved state of ${quoted(unbound)}` +
        (droppedInputs.length > 0 ? ` (dropping the pending inputs ${quoted(droppedInputs)})` : '') +
        (fresh.length > 0 ? `; ${quoted(fresh)} started from fresh state` : '') +
        '. Saved state binds to the first step\'s variables when they pair one-to-one with the checkpoint (base names, order, state shapes), else to a variable of its exact name, or to a renamed copy once that name is no live variable; unbound, it stays in the checkpoint (getWeights returns it).',
    );
  }

  /**
   * Makes `saved` an unbound entry again, with copies of `slots`: the state a step bound from it
   * and that the device guard then refused (so the slots still hold the saved values).
   */
  putBack(saved: string, slots: ReadonlyMap<string, tf.Tensor>): void {
    this.#slots.set(saved, new Map([...slots].map(([slot, t]) => [slot, tf.keep(t.clone())])));
  }

  /** The entries `getWeights` adds after the live state: unbound slots, then the step inputs the next step would receive. */
  weights(provided: Readonly<Record<string, TensorMap>>): NamedTensor[] {
    const slots = [...this.#slots].flatMap(([name, entries]) => [...entries].map(([slot, tensor]) => ({ name: `${name}${SLOT_SEPARATOR}${slot}`, tensor })));
    const restored = [...this.#inputs].filter(([kind]) => !Object.hasOwn(provided, kind)).flatMap(([kind, entries]) => [...entries].map(([name, tensor]) => ({ name: pendingInputWeightName(name, kind), tensor })));
    const pending = Object.entries(provided).flatMap(([kind, entries]) => Object.entries(entries).map(([name, tensor]) => ({ name: pendingInputWeightName(name, kind), tensor })));
    return [...slots, ...restored, ...pending];
  }

  /** Frees every saved entry. */
  dispose(): void {
    this.#slots.forEach((entries) => entries.forEach((t) => t.dispose()));
    this.#inputs.forEach((entries) => entries.forEach((t) => t.dispose()));
    this.#slots.clear();
    this.#inputs.clear();
    this.#awaitingFirstStep = false;
    this.#paired = undefined;
    this.#binding = new Map();
    this.#settledInputs = new Set();
  }
}
