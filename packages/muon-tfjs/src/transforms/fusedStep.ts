import * as tf from '@tensorflow/tfjs-core';
import type { MuonStepResult } from '../math/muonStepKernel.js';
import { type StateMap, type StepContext, type TensorMap, entry } from './gradientTransformation.js';

/** A new value (a parameter's, or one of its state slots') that holds NaN or ±Inf. */
export interface NonFiniteValue {
  readonly name: string;
  /** The state slot, absent for the parameter itself. */
  readonly slot?: string;
}

/** What a {@link FusedStep} computed; nothing has been written. */
export interface FusedStepResult {
  /** For each variable, its new value (not an update to add). */
  readonly values: TensorMap;
  /** For each variable, the new values of the slots the composed transformation owns. */
  readonly state: StateMap;
  /** Variables whose gradient holds NaN or ±Inf, found while computing. */
  readonly nonFiniteGradients: readonly string[];
  /** New values holding NaN or ±Inf, found while computing. */
  readonly nonFiniteValues: readonly NonFiniteValue[];
}

/**
 * An execution strategy of a composed {@link GradientTransformation}: the same step, computed at
 * once (e.g. in native code) for the variables the composition would update. The composition
 * stays the definition; a fused step must compute exactly its new values and state (up to the
 * round-off of its orthogonalization kernel) and report the finiteness the adapter would check,
 * so that the adapter can skip its own checks for these values and keep the step all-or-nothing.
 *
 * The adapter runs the composition instead on a step where one of {@link tapPoints} is heard
 * (the composition emits them; the fused step does not) or where {@link unavailable} says why not.
 */
export interface FusedStep {
  /** The tap points of the composition this step stands for. */
  readonly tapPoints: readonly string[];
  /** Why the fused step cannot run now (kernel, backend), or undefined when it can. */
  unavailable(): string | undefined;
  /** Computes new values and state of the variables of `grads`, reading everything, writing nothing. */
  step(grads: TensorMap, state: StateMap, params: TensorMap, context: StepContext): FusedStepResult;
}

/**
 * The variables of `grads` a fused kernel computes: the non-empty ones. An empty variable has
 * nothing to compute (and the kernels refuse empty arrays): its new value and its `slots` go into
 * `values` and `newState` as empty clones of its shape, as the composition's.
 */
export function nonEmptyVariables(
  grads: TensorMap,
  state: StateMap,
  params: TensorMap,
  slots: readonly string[],
  values: Record<string, tf.Tensor>,
  newState: Record<string, Record<string, tf.Tensor>>,
): string[] {
  return Object.keys(grads).filter((name) => {
    const param = entry(params, name, 'parameter');
    if (param.size > 0) return true;
    const slotValues = entry(state, name, 'state');
    values[name] = tf.clone(param);
    newState[name] = Object.fromEntries(slots.map((slot) => [slot, tf.clone(entry(slotValues, slot, `'${slot}' state`))]));
    return false;
  });
}

/**
 * The {@link FusedStepResult} of a fused matrix step (Muon's, Dion2's) from its kernel's results,
 * one per variable of `names`, whose new momentum goes into `slot`; `values` and `newState` may
 * already hold the empty variables ({@link nonEmptyVariables}).
 */
export function matrixStepOutcome(
  title: string,
  names: readonly string[],
  results: readonly MuonStepResult[],
  slot: string,
  values: Record<string, tf.Tensor>,
  newState: Record<string, Record<string, tf.Tensor>>,
): FusedStepResult {
  const nonFiniteGradients: string[] = [];
  const nonFiniteValues: NonFiniteValue[] = [];
  names.forEach((name, i) => {
    const result = results[i];
    if (result === undefined) throw new Error(`Internal error: the fused ${title} kernel returned no result for '${name}'`);
    values[name] = result.param;
    newState[name] = { [slot]: result.momentum };
    if (!result.gradientFinite) nonFiniteGradients.push(name);
    if (!result.paramFinite) nonFiniteValues.push({ name });
    if (!result.momentumFinite) nonFiniteValues.push({ name, slot });
  });
  return { values, state: newState, nonFiniteGradients, nonFiniteValues };
}
