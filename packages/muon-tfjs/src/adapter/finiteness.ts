import * as tf from '@tensorflow/tfjs-core';

/**
 * The keys of `tensors` whose values hold NaN or ±Inf, found with one small read-back for the
 * whole map (the price of refusing to write NaN into weights or state). An empty tensor is finite
 * (`tf.all` of an empty tensor is false in TF.js, so empty tensors are not tested).
 */
export function nonFiniteKeys(tensors: ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>): string[] {
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).filter(([, t]) => t.size > 0);
  if (entries.length === 0) return [];
  const flags = tf.tidy(() => tf.stack(entries.map(([, t]) => tf.cast(tf.all(tf.isFinite(t)), 'int32'))));
  const finite = flags.dataSync();
  flags.dispose();
  return entries.filter((_, i) => finite[i] !== 1).map(([key]) => key);
}
