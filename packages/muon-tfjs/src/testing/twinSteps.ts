import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { TransformOptimizer } from '../adapter/TransformOptimizer.js';

/** The seeded gradient of `variable` at `step` (0-based), the `index`-th of its set. */
export type TwinGradient = (variable: tf.Variable, step: number, index: number) => tf.Tensor;

/** Seeded standard normal gradients, a new draw for each step and variable. */
export const standardNormalGradient: TwinGradient = (variable, step, index) => tf.randomNormal(variable.shape, 0, 1, 'float32', 1000 * step + index);

let variableCount = 0;
/**
 * One seeded variable per shape, the `i`-th drawn from seed 7 + i, so that two calls make twins.
 * Names are unique, and end in '/conv' for a kernel of rank > 2: muon() and dion2() on bare
 * variables have no layer class to tell a conv kernel, and the tests declare one by that name.
 */
export function seededVariables(shapes: readonly (readonly number[])[]): tf.Variable[] {
  return shapes.map((shape, i) => tf.variable(tf.randomNormal([...shape], 0, 0.1, 'float32', 7 + i), true, `twin${++variableCount}${shape.length > 2 ? '/conv' : ''}`));
}

/** Two identical sets of variables (one per optimizer), one per shape. */
export const twinVariables = (shapes: readonly (readonly number[])[]): [tf.Variable[], tf.Variable[]] => [seededVariables(shapes), seededVariables(shapes)];

/**
 * Applies the same `steps` seeded gradients (`gradient(variable, step, index)`) to two optimizers,
 * each on its own twin variables: the fused-versus-composed comparisons' loop.
 */
export function stepBoth(
  steps: number,
  a: TransformOptimizer,
  va: readonly tf.Variable[],
  b: TransformOptimizer,
  vb: readonly tf.Variable[],
  gradient: TwinGradient,
): void {
  for (let step = 0; step < steps; step++) {
    const grads = va.map((v, i) => gradient(v, step, i));
    a.applyGradients(va.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
    b.applyGradients(vb.map((v, i) => ({ name: v.name, tensor: grads[i] as tf.Tensor })));
    tf.dispose(grads);
  }
}

/**
 * An optimizer's checkpoint as plain values by entry, each variable's name replaced by its
 * position in `variables`, so that the checkpoints of twin optimizers compare equal. Reads on the
 * host: a test helper for the cpu and wasm backends, where the read is free.
 */
export async function checkpointByPosition(optimizer: TransformOptimizer, variables: readonly tf.Variable[]): Promise<Record<string, number[]>> {
  const weights = await optimizer.getWeights();
  const byPosition = (name: string) => variables.reduce((n, v, i) => n.replace(v.name, `var${i}`), name);
  const out = Object.fromEntries(weights.map(({ name, tensor }) => [byPosition(name), Array.from(tensor.dataSync())]));
  (weights[0] as { tensor: tf.Tensor }).tensor.dispose(); // 'iter' is made anew by each call
  return out;
}

/** A tensor's values as a plain array: a host read, for tests on the cpu and wasm backends. */
export const hostValues = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/**
 * Expects twin variables to hold the same values, bit for bit (each reported by its name in
 * `names`), and their optimizers the same checkpoint.
 */
export async function expectTwinsEqual(
  a: TransformOptimizer,
  va: readonly tf.Variable[],
  b: TransformOptimizer,
  vb: readonly tf.Variable[],
  names: readonly string[] = va.map((_, i) => `variable ${i}`),
): Promise<void> {
  va.forEach((v, i) => expect(hostValues(v), names[i]).toEqual(hostValues(vb[i] as tf.Variable)));
  expect(await checkpointByPosition(a, va)).toEqual(await checkpointByPosition(b, vb));
}
