import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '../transforms/gradientTransformation.js';
import { nonFiniteKeys } from './finiteness.js';

/**
 * Extra inputs for the next optimizer step, beyond gradients (e.g. Sophia's Hessian-diagonal
 * estimate every k steps), by kind and then variable name. They are checked when provided (each
 * names a registered variable and matches its shape, float32; when `checkValues`, finite, and
 * non-negative for a kind declared so), held as
 * copies, handed to the transformation of the next step as `context.inputs[kind]`, and released
 * once that step commits. A step that throws keeps them for the next attempt.
 */
export class StepInputs {
  readonly #pending = new Map<string, Record<string, tf.Tensor>>();

  /**
   * Replaces the pending inputs of `kind`, one of the `known` kinds (those the transformation
   * reads), with copies of `tensors`, after checking every one.
   */
  provide(
    kind: string,
    tensors: Readonly<Record<string, tf.Tensor>>,
    declared: { readonly known: readonly string[]; readonly nonNegative: readonly string[] },
    checkValues: boolean,
    owner: string,
  ): void {
    const { known } = declared;
    if (typeof kind !== 'string' || kind === '') {
      throw new Error(`${owner}.provideStepInputs: the kind must be a non-empty string, got ${JSON.stringify(kind)}`);
    }
    if (!known.includes(kind)) {
      throw new Error(`${owner}.provideStepInputs('${kind}'): no transformation of this optimizer reads inputs of that kind; it reads ${known.length === 0 ? 'none' : known.map((k) => `'${k}'`).join(', ')}`);
    }
    if (tensors === null || typeof tensors !== 'object') {
      throw new Error(`${owner}.provideStepInputs('${kind}'): expected a map from variable name to tensor, got ${String(tensors)}`);
    }
    for (const [name, tensor] of Object.entries(tensors)) {
      const variable = tf.engine().registeredVariables[name];
      if (variable === undefined) {
        throw new Error(`${owner}.provideStepInputs('${kind}'): no variable named '${name}' is registered`);
      }
      if (!(tensor instanceof tf.Tensor) || tensor.isDisposed) {
        throw new Error(`${owner}.provideStepInputs('${kind}'): the value for '${name}' is not a live tensor`);
      }
      if (!tf.util.arraysEqual(tensor.shape, variable.shape) || tensor.dtype !== 'float32') {
        throw new Error(`${owner}.provideStepInputs('${kind}'): the value for '${name}' is ${tensor.dtype} [${tensor.shape.join(', ')}], but the variable needs float32 [${variable.shape.join(', ')}]`);
      }
    }
    const bad = checkValues ? nonFiniteKeys(tensors) : [];
    if (bad.length > 0) {
      throw new Error(`${owner}.provideStepInputs('${kind}'): non-finite (NaN or Inf) values for ${bad.map((n) => `'${n}'`).join(', ')}`);
    }
    const signed = Object.entries(tensors).filter(([, t]) => t.size > 0);
    if (checkValues && declared.nonNegative.includes(kind) && signed.length > 0) {
      // One synchronous read of one minimum per tensor, only where the host already checks values
      // (`checkValues` is off under the device guard, the default on webgl/webgpu): the host guard
      // reads every step's values anyway, and this runs when inputs are provided, not in the step.
      const minimaTensor = tf.tidy(() => tf.stack(signed.map(([, t]) => tf.min(t))));
      const minima = minimaTensor.dataSync();
      minimaTensor.dispose();
      const negative = signed.map(([name], i) => [name, minima[i] as number] as const).filter(([, min]) => min < 0);
      if (negative.length > 0) {
        throw new Error(`${owner}.provideStepInputs('${kind}'): values of this kind are never negative, but ${negative.map(([n, min]) => `'${n}' has ${min}`).join(', ')}`);
      }
    }
    this.release(kind);
    this.#pending.set(kind, Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, tf.keep(t.clone())])));
  }

  /** The pending inputs, as the step context carries them. */
  get current(): Readonly<Record<string, TensorMap>> {
    return Object.fromEntries(this.#pending);
  }

  /** Frees the inputs of `kind`, or of every kind. */
  release(kind?: string): void {
    for (const [k, tensors] of this.#pending) {
      if (kind !== undefined && k !== kind) continue;
      Object.values(tensors).forEach((t) => t.dispose());
      this.#pending.delete(k);
    }
  }
}
