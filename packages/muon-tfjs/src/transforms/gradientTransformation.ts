import type * as tf from '@tensorflow/tfjs-core';
import { type Scheduled, scheduleValue } from '../math/schedule.js';
import type { Taps } from './taps.js';

/** Tensors keyed by variable name (the name of the `tf.Variable` they belong to). */
export type TensorMap = Readonly<Record<string, tf.Tensor>>;

/** The state one transformation keeps for one parameter, keyed by slot name (e.g. `momentum`). */
export type SlotMap = Readonly<Record<string, tf.Tensor>>;

/** Per-parameter state keyed by variable name. */
export type StateMap = Readonly<Record<string, SlotMap>>;

/** What {@link GradientTransformation.update} returns. */
export interface TransformResult {
  /** For each parameter, the tensor to ADD to it (gradients enter, a signed step leaves). */
  readonly updates: TensorMap;
  /** For each parameter, the new values of the slots this transformation owns. */
  readonly state: StateMap;
}

/**
 * What one step offers a transformation besides gradients, state and parameters. The adapter
 * builds it once per step; transformations pass it on unchanged (`chain`, `partition`).
 */
export interface StepContext {
  /** 1-based index of this update (bias corrections). */
  readonly step: number;
  /**
   * Extra per-step inputs, by kind and then variable name (e.g. `hessianDiagonal` for Sophia,
   * provided every k steps through `TransformOptimizer.provideStepInputs`). A kind is absent on
   * the steps it was not provided: a transformation that needs it keeps its last estimate.
   */
  readonly inputs: Readonly<Record<string, TensorMap>>;
  /** Where a transformation reports intermediate values; emitting to an unheard point must cost nothing. */
  readonly taps: Taps;
}

/**
 * A gradient transformation in the sense of optax: a pure pair (init, update) over tensors keyed
 * by variable name. Transformations never assign to variables and never keep tensors; the TF.js
 * adapter owns the variables and commits all results at once, after every check has passed.
 *
 * Keying by name (never by position) keeps state attached to the right variable whatever the
 * order in which gradients arrive, and lets a transformation see all parameters of a step at
 * once (Muon orthogonalizes same-shape matrices together).
 */
export interface GradientTransformation {
  /**
   * The zero state of one parameter: slot name → tensor. Throws, naming the variable, if this
   * transformation cannot handle such a parameter (e.g. Muon given a vector).
   */
  init(name: string, param: tf.Tensor): SlotMap;
  /**
   * Maps this step's gradients to updates.
   * @param grads gradients of the parameters updated this step
   * @param state for each of those parameters, all of its slots (possibly more than this
   *   transformation's own, when chained)
   * @param params current values of those parameters
   * @param context the step index, extra per-step inputs and taps
   */
  update(grads: TensorMap, state: StateMap, params: TensorMap, context: StepContext): TransformResult;
  /**
   * Slots whose values are never negative (second moments such as Adam's `v`): a checkpoint with a
   * negative entry in one of them is refused when it is restored.
   */
  readonly nonNegativeSlots?: readonly string[];
  /**
   * Slots stored in another format than float32 of the parameter's shape, by slot name (Muon's
   * bfloat16 momentum, packed two per int32: {@link storeInBfloat16}). The adapter checks their
   * finiteness through the encoding and accepts their dtype in a checkpoint.
   */
  readonly encodedSlots?: Readonly<Record<string, SlotEncoding>>;
  /**
   * The positive constants this transformation adds to a denominator so that a zero input gives a
   * zero update (Adam's ε, Muon's normalization eps). The adapter refuses to step on a backend
   * whose floats cannot hold one of them (see `unrepresentableStabilizers`).
   */
  readonly stabilizers?: readonly Stabilizer[];
  /**
   * The tap points this transformation may emit (`MUON_TAPS`, `observe`'s `<label>/input`); absent:
   * none. The adapter refuses a listener on any other point, so that a misspelled point fails
   * where it is written instead of never being heard.
   */
  readonly tapPoints?: readonly string[];
  /**
   * The kinds of extra step inputs this transformation reads from `context.inputs` (Sophia's
   * `hessianDiagonal`); absent: none. The adapter refuses inputs of any other kind, which no step
   * would ever read.
   */
  readonly stepInputKinds?: readonly string[];
  /**
   * Step-input kinds whose values are never negative (Sophia's Gauss–Newton–Bartlett estimate
   * B·ĝ⊙ĝ): inputs with a negative entry are refused when provided, where the adapter reads them.
   */
  readonly nonNegativeStepInputs?: readonly string[];
}

/** The tap points and step-input kinds of several transformations together, each listed once. */
export function declarationsOf(
  transformations: readonly GradientTransformation[],
): Pick<GradientTransformation, 'tapPoints' | 'stepInputKinds' | 'nonNegativeStepInputs'> {
  const union = (list: (t: GradientTransformation) => readonly string[] | undefined) => [...new Set(transformations.flatMap((t) => list(t) ?? []))];
  return {
    tapPoints: union((t) => t.tapPoints),
    stepInputKinds: union((t) => t.stepInputKinds),
    nonNegativeStepInputs: union((t) => t.nonNegativeStepInputs),
  };
}

/** How an encoded slot ({@link GradientTransformation.encodedSlots}) is stored. */
export interface SlotEncoding {
  /** What the slot holds, for messages (`'bfloat16, two per int32'`). */
  readonly format: string;
  /** The dtype of the stored tensor. */
  readonly dtype: tf.DataType;
  /** Whether every value stored is finite, from the stored tensor's values as read back. */
  finite(stored: tf.TypedArray): boolean;
  /** The same as a bool scalar computed with tensor ops, no read: for the device guard (`finiteGuard: 'device'`). */
  finiteOnDevice(stored: tf.Tensor): tf.Tensor;
}

/** The encoded slots of several transformations together (slot names are unique within a chain). */
export function encodedSlotsOf(transformations: readonly GradientTransformation[]): Readonly<Record<string, SlotEncoding>> {
  return Object.assign({}, ...transformations.map((t) => t.encodedSlots ?? {})) as Record<string, SlotEncoding>;
}

/** A positive constant added to a denominator, named by the option that set it. */
export interface Stabilizer {
  /** The option's name, as the user wrote it (`epsilon`, `eps`). */
  readonly option: string;
  readonly value: number;
  /** The hybrid group (partition label) it belongs to, when there is one. */
  readonly group?: string;
}

/** A hyper-parameter that may change between steps (e.g. a scheduled learning rate). */
export type Live<T> = T | (() => T);

/** Reads a {@link Live} value. */
export function read<T>(value: Live<T>): T {
  return typeof value === 'function' ? (value as () => T)() : value;
}

/**
 * The value a scheduled hyper-parameter (a learning rate, a momentum) takes on this step: the
 * schedule read at the step's index, `context.step − 1` completed steps (the convention of
 * `scheduleValue`). One rule for every schedule a transformation reads, so that a resumed run reads
 * the same value at the same step. `Live`: an optimizer whose rate may be reassigned between steps
 * hands its current schedule.
 */
export function scheduledAt(value: Live<Scheduled>, context: Pick<StepContext, 'step'>): number {
  return scheduleValue(read(value), context.step - 1);
}

/** Reads one tensor of a map, failing loudly (not with `undefined`) if the name is missing. */
export function entry<T>(map: Readonly<Record<string, T>>, name: string, what: string): T {
  const value = map[name];
  if (value === undefined) {
    throw new Error(`Internal error: no ${what} for variable '${name}'`);
  }
  return value;
}

/** Builds a per-name map by applying `f` to every name of `grads`. */
export function mapNames<T>(grads: TensorMap, f: (name: string, grad: tf.Tensor) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, grad] of Object.entries(grads)) {
    out[name] = f(name, grad);
  }
  return out;
}
