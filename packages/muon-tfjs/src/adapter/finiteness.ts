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
 * Entries of at most this many values are read whole on backends whose read copies (wasm): below
 * it a copy and a scan in JS cost less than the op of {@link columnMeans} (4096 values: 5.6 µs
 * against 7.9 µs; 16384: 17.8 against 10.5, on the wasm backend in Node, docs/performance.md).
 */
export const WHOLE_READ_LIMIT = 8192;

/**
 * The most columns {@link columnMeans} averages over: each is one value read back, and from 8
 * columns on XNNPACK is no faster (8 to 1024 columns of a 401408-value tensor: 55–63 µs; 4: 87 µs;
 * 1: 366 µs, as slow as `tf.sum`).
 */
export const MAX_SCREEN_COLUMNS = 1024;

/**
 * The cpu backend's read hands over the backend's own array, no copy: every entry is read whole
 * there, which is exact and costs one pass in JS, less than `tf.sum`'s.
 */
const READS_OWN_ARRAY: ReadonlySet<string> = new Set(['cpu']);

/** The number of values up to which an entry is read whole on `backend`. */
const wholeReadLimit = (backend: string): number => (READS_OWN_ARRAY.has(backend) ? Number.POSITIVE_INFINITY : WHOLE_READ_LIMIT);

/**
 * The columns `size` values are laid out in for {@link columnMeans}: the largest divisor of `size`
 * up to {@link MAX_SCREEN_COLUMNS}. A prime size gets 1 column: correct, as slow as a sum.
 */
export function screenColumns(size: number): number {
  for (let columns = Math.min(MAX_SCREEN_COLUMNS, size); columns > 1; columns--) {
    if (size % columns === 0) return columns;
  }
  return 1;
}

/**
 * The mean of each column of `t` laid out as rows × {@link screenColumns}: one `avgPool` whose
 * window is every row, which tfjs-backend-wasm runs on XNNPACK's SIMD pooling kernel (0.06 ms for
 * 401408 values, where `tf.sum`'s scalar loop takes 0.36 ms). A NaN or ±Inf in a column makes its
 * mean NaN or ±Inf: IEEE addition propagates them (Inf + -Inf is NaN), the mean scales the sum by
 * 1/rows (non-zero, finite), and XNNPACK's clamp to [-Inf, +Inf] returns the value or one of those
 * bounds (a NaN comes out as -Inf on wasm), each non-finite. A non-finite mean of finite values
 * (their sum past float32's 3.4e38) is possible, so such entries go on to {@link exactFlags}.
 */
function columnMeans(t: tf.Tensor): tf.Tensor {
  const columns = screenColumns(t.size);
  const rows = t.size / columns;
  return tf.tidy(() => tf.avgPool(tf.reshape(t, [1, rows, 1, columns]) as tf.Tensor4D, [rows, 1], 1, 'valid'));
}

/**
 * What stands for each entry in the screen: the entry itself where it is read whole, else its
 * {@link columnMeans}. Every value of an entry is finite if all the values of its witness are.
 */
function witnesses(entries: readonly [string, tf.Tensor][], backend: string): tf.Tensor[] {
  const limit = wholeReadLimit(backend);
  return entries.map(([, t]) => (t.size <= limit ? t : columnMeans(t)));
}

/**
 * Whether every value is finite, with no branch per value: x - x is 0 for a finite x and NaN for
 * NaN or ±Inf, so the sum is exactly 0 or NaN, whatever the values' magnitudes. Four sums let the
 * CPU overlap the additions: 0.49 ns per value, against 0.84 with one sum and 1.1 for a
 * `Number.isFinite` loop (401408 values, Node 20, docs/performance.md).
 */
export function allFinite(values: ArrayLike<number>): boolean {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const quads = values.length - (values.length % 4);
  for (let i = 0; i < quads; i += 4) {
    const x0 = values[i] as number;
    const x1 = values[i + 1] as number;
    const x2 = values[i + 2] as number;
    const x3 = values[i + 3] as number;
    s0 += x0 - x0;
    s1 += x1 - x1;
    s2 += x2 - x2;
    s3 += x3 - x3;
  }
  for (let i = quads; i < values.length; i++) {
    const x = values[i] as number;
    s0 += x - x;
  }
  return s0 + s1 + s2 + s3 === 0;
}

/**
 * The entries whose witness holds a non-finite value: the only ones that may hold NaN or ±Inf.
 * A witness that is its entry decides it exactly; it goes on to {@link exactFlags} all the same,
 * which costs a second pass only when a step is refused.
 */
const suspects = (entries: readonly [string, tf.Tensor][], witnessValues: readonly ArrayLike<number>[]): [string, tf.Tensor][] =>
  entries.filter((_, i) => !allFinite(witnessValues[i] as ArrayLike<number>));
/** The keys whose exact flag says non-finite. */
const flagged = (entries: readonly [string, tf.Tensor][], flags: ArrayLike<number>): string[] => entries.filter((_, i) => flags[i] !== 1).map(([key]) => key);

/** Disposes the witnesses made for the screen, not the entries read whole. */
function disposeMade(made: readonly tf.Tensor[], entries: readonly [string, tf.Tensor][]): void {
  made.forEach((w, i) => {
    if (w !== entries[i]?.[1]) w.dispose();
  });
}

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

/** The entries that may hold NaN or ±Inf, after a screen read synchronously. */
function screenSync(entries: readonly [string, tf.Tensor][]): [string, tf.Tensor][] {
  const made = witnesses(entries, tf.getBackend());
  try {
    // Only where a synchronous read does not stall (cpu, wasm: nonFiniteKeys skips the screen
    // when syncReadsStall()); on cpu the read is the backend's own array, on wasm a small copy.
    return suspects(entries, made.map((w) => w.dataSync() as tf.TypedArray));
  } finally {
    disposeMade(made, entries);
  }
}

/** {@link screenSync} read asynchronously. */
async function screenAsync(entries: readonly [string, tf.Tensor][]): Promise<[string, tf.Tensor][]> {
  const made = witnesses(entries, tf.getBackend());
  try {
    return suspects(entries, (await Promise.all(made.map((w) => w.data()))) as tf.TypedArray[]);
  } finally {
    disposeMade(made, entries);
  }
}

/**
 * The keys of `tensors` whose values hold NaN or ±Inf (the price of refusing to write NaN into
 * weights or state), for the cpu and wasm backends, where a read is free, and for checks made
 * outside a training step. A screen reads each entry whole (small ones; all of them on cpu) or
 * the means of its columns (large ones elsewhere), and only the entries it cannot clear are
 * checked exactly, with a second read. On webgl and webgpu, where a synchronous read stalls and
 * WGSL and GLSL do not promise IEEE NaN and infinity arithmetic, every entry is checked exactly.
 */
export function nonFiniteKeys(tensors: TensorEntries): string[] {
  const entries = floatEntries(tensors);
  if (entries.length === 0) return [];
  const candidates = syncReadsStall() ? entries : screenSync(entries);
  return candidates.length === 0 ? [] : flagged(candidates, readSync(exactFlags(candidates)));
}

/** {@link nonFiniteKeys} read asynchronously: for checks that may wait (restoring a checkpoint), on any backend. */
export async function nonFiniteKeysAsync(tensors: TensorEntries): Promise<string[]> {
  const entries = floatEntries(tensors);
  if (entries.length === 0) return [];
  const candidates = syncReadsStall() ? entries : await screenAsync(entries);
  return candidates.length === 0 ? [] : flagged(candidates, await readAsync(exactFlags(candidates)));
}
