import * as tf from '@tensorflow/tfjs-core';
import type { TransformOptimizer } from '../adapter/TransformOptimizer.js';

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
  gradient: (variable: tf.Variable, step: number, index: number) => tf.Tensor,
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
