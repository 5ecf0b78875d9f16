import * as tf from '@tensorflow/tfjs-core';

/** The non-empty entries of a map, and one int32 flag per entry: 1 where all its values are finite. */
function finiteFlags(tensors: ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>): { keys: string[]; flags: tf.Tensor | undefined } {
  // An empty tensor is finite (`tf.all` of an empty tensor is false in TF.js, so it is not tested).
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).filter(([, t]) => t.size > 0);
  if (entries.length === 0) return { keys: [], flags: undefined };
  const flags = tf.tidy(() => tf.stack(entries.map(([, t]) => tf.cast(tf.all(tf.isFinite(t)), 'int32'))));
  return { keys: entries.map(([key]) => key), flags };
}

/**
 * The keys of `tensors` whose values hold NaN or ±Inf, found with one small synchronous read-back
 * for the whole map (the price of refusing to write NaN into weights or state): for the cpu and
 * wasm backends, where the read is free, and for checks made outside a training step.
 */
export function nonFiniteKeys(tensors: ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>): string[] {
  const { keys, flags } = finiteFlags(tensors);
  if (flags === undefined) return [];
  const finite = flags.dataSync();
  flags.dispose();
  return keys.filter((_, i) => finite[i] !== 1);
}

/** {@link nonFiniteKeys} read asynchronously: for checks that may wait (restoring a checkpoint), on any backend. */
export async function nonFiniteKeysAsync(tensors: ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>): Promise<string[]> {
  const { keys, flags } = finiteFlags(tensors);
  if (flags === undefined) return [];
  const finite = await flags.data();
  flags.dispose();
  return keys.filter((_, i) => finite[i] !== 1);
}
