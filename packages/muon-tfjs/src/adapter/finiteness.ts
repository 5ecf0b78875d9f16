import * as tf from '@tensorflow/tfjs-core';
import { syncReadsStall } from '../math/hostReads.js';

type TensorEntries = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

/**
 * The entries that can hold NaN or ±Inf: floating point and non-empty (an empty tensor is
 * finite, and `tf.all` of one is false in TF.js; int32 and bool tensors are finite by type).
 */
function floatEntries(tensors: TensorEntries): [string, tf.Tensor][] {
  return (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).filter(([, t]) => t.size > 0 && t.dtype === 'float32');
}

/** One int32 flag per entry, 1 where all its values are finite: exact, at the price of a full-size temporary each. */
function exactFlags(entries: readonly [string, tf.Tensor][]): tf.Tensor {
  return tf.tidy(() => tf.stack(entries.map(([, t]) => tf.cast(tf.all(tf.isFinite(t)), 'int32'))));
}

/**
 * One sum per entry: a screen that costs one reduction and no temporary. NaN and ±Inf propagate
 * through IEEE addition, so an entry holding one has a non-finite sum, and a finite sum proves its
 * entry finite; a non-finite sum of finite values (past float32's 3.4e38) is possible, so those
 * entries go on to {@link exactFlags}. Only on CPU-resident backends: WGSL and GLSL do not promise
 * IEEE NaN and infinity arithmetic, and there the device guard checks element-wise anyway.
 */
function sums(entries: readonly [string, tf.Tensor][]): tf.Tensor {
  return tf.tidy(() => tf.stack(entries.map(([, t]) => tf.sum(t))));
}

/** The entries whose sum is not finite: the only ones that may hold NaN or ±Inf. */
const suspects = (entries: readonly [string, tf.Tensor][], sumValues: ArrayLike<number>): [string, tf.Tensor][] => entries.filter((_, i) => !Number.isFinite(sumValues[i]));
/** The keys whose exact flag says non-finite. */
const flagged = (entries: readonly [string, tf.Tensor][], flags: ArrayLike<number>): string[] => entries.filter((_, i) => flags[i] !== 1).map(([key]) => key);

/**
 * The host guard's read: free on cpu and wasm, where `finiteGuard: 'auto'` uses it. On webgl and
 * webgpu the step never comes here (the device guard decides there); only a user who sets
 * `finiteGuard: 'host'` on a GPU backend accepts this stall.
 */
function readSync(t: tf.Tensor): tf.TypedArray {
  try {
    return t.dataSync() as tf.TypedArray;
  } finally {
    t.dispose();
  }
}

async function readAsync(t: tf.Tensor): Promise<tf.TypedArray> {
  try {
    return (await t.data()) as tf.TypedArray;
  } finally {
    t.dispose();
  }
}

/**
 * The keys of `tensors` whose values hold NaN or ±Inf, found with one small synchronous read-back
 * of one sum per entry (the price of refusing to write NaN into weights or state), and a second
 * one only where a sum is not finite: for the cpu and wasm backends, where the read is free, and
 * for checks made outside a training step.
 */
export function nonFiniteKeys(tensors: TensorEntries): string[] {
  const entries = floatEntries(tensors);
  if (entries.length === 0) return [];
  const candidates = syncReadsStall() ? entries : suspects(entries, readSync(sums(entries)));
  return candidates.length === 0 ? [] : flagged(candidates, readSync(exactFlags(candidates)));
}

/** {@link nonFiniteKeys} read asynchronously: for checks that may wait (restoring a checkpoint), on any backend. */
export async function nonFiniteKeysAsync(tensors: TensorEntries): Promise<string[]> {
  const entries = floatEntries(tensors);
  if (entries.length === 0) return [];
  const candidates = syncReadsStall() ? entries : suspects(entries, await readAsync(sums(entries)));
  return candidates.length === 0 ? [] : flagged(candidates, await readAsync(exactFlags(candidates)));
}
