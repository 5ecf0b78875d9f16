import * as tf from '@tensorflow/tfjs-core';

/**
 * bfloat16 storage of float32 state (issue 24, item 5: optax's `mu_dtype`): TF.js 4.22 has no
 * 16-bit dtype and no bitcast op, so two bfloat16 values are packed into one int32. Element 2k is
 * the low 16 bits of word k and element 2k+1 the high 16 bits; a Uint16Array view of the packed
 * words on a little-endian host therefore reads element i at index i. An odd size leaves the
 * last word's high half +0. A bfloat16 is the top 16 bits of a float32, so unpacking is exact.
 *
 * Rounding is to nearest, ties to even, in integer arithmetic on the float32 bits: subnormals and
 * the overflow of values above the largest bfloat16 (3.3895e38) to ±Inf come out of the same
 * addition; ±Inf and −0 keep their bits' top half; NaN stays NaN (its quiet bit set, so that
 * dropping the low mantissa bits cannot turn it into Inf).
 *
 * The codec here ({@link HOST_BFLOAT16_CODEC}) runs on the backends whose tensors live in CPU
 * memory (cpu, wasm, tensorflow), over the typed arrays `dataSync()` hands back (a read that costs
 * a copy there, not a stall). On webgpu the same formula runs in WGSL (`WEBGPU_BFLOAT16_CODEC`, in
 * src/kernels: this layer imports no kernel, so the adapter hands it in as
 * `OptimizerServices.bfloat16Codec`). On webgl it is refused: an int32 tensor is kept in float32
 * texels there, which cannot hold 32 raw bits exactly.
 */

/**
 * How bfloat16-packed state is written and read on one backend: the host codec of this file, or a
 * device one (WGSL on webgpu) that computes the same bits. `finiteOnDevice` is the packed slot's
 * finiteness as a bool scalar, computed where the slot lives (no read).
 */
export interface Bfloat16Codec {
  /** `values` (float32, any shape) rounded to bfloat16, packed: int32 of shape `[ceil(size / 2)]`. */
  pack(values: tf.Tensor): tf.Tensor1D;
  /** The float32 tensor of `shape` whose values `packed` holds (exact). */
  unpack(packed: tf.Tensor, shape: readonly number[]): tf.Tensor;
  /** Whether every value packed in `packed` is finite: a bool scalar, no read. */
  finiteOnDevice(packed: tf.Tensor): tf.Tensor;
}

/** The codec for a backend, by its name: what the adapter supplies (`OptimizerServices.bfloat16Codec`). */
export type Bfloat16Codecs = (backend: string) => Bfloat16Codec;

/** Backends whose tensors {@link packBfloat16} and {@link unpackBfloat16} read and write on the host. */
const HOST_BACKENDS: ReadonlySet<string> = new Set(['cpu', 'wasm', 'tensorflow']);

/** Why the host codec does not run on a backend, by backend name. */
const REFUSALS: Readonly<Record<string, string>> = {
  webgl: 'webgl keeps int32 tensors in float32 texels, which cannot hold the 32 raw bits of two packed bfloat16 values exactly',
  webgpu: "the host codec reads tensors on the host; on webgpu bfloat16 values are packed by muon-tfjs's WGSL codec, which the optimizers built by the adapter use",
};

/**
 * Why bfloat16-packed state cannot be stored on `backend`, or undefined where it can (by Muon's
 * `momentumDtype: 'bfloat16'`): the host backends, and webgpu through its WGSL codec.
 */
export function bfloat16StorageUnavailable(backend: string = tf.getBackend()): string | undefined {
  return backend === 'webgpu' ? undefined : hostCodecUnavailable(backend);
}

/** Why {@link HOST_BFLOAT16_CODEC} cannot run on `backend`, or undefined where it can. */
function hostCodecUnavailable(backend: string): string | undefined {
  if (HOST_BACKENDS.has(backend)) return undefined;
  return REFUSALS[backend] ?? `backend '${backend}' is not one whose tensors are read on the host (${[...HOST_BACKENDS].join(', ')})`;
}

/** The number of int32 words that hold `size` packed bfloat16 values. */
export function packedLength(size: number): number {
  return Math.ceil(size / 2);
}

/** The bfloat16 bits (in the low 16 bits) nearest to the float32 of `bits`, ties to even. */
export function roundToBfloat16Bits(bits: number): number {
  const u = bits >>> 0;
  // NaN: keep sign and payload's top, force the quiet bit (0x0040) so the result is still NaN.
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x0040) & 0xffff;
  // Adding 0x7fff plus the kept part's lowest bit rounds to nearest, ties to even; a carry into
  // the exponent is the right result (the next binade, or Inf past the largest finite value).
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Packs float32 values (their bits as `Uint32Array`) into int32 words of two bfloat16 each. */
export function packBfloat16Bits(bits: Uint32Array): Int32Array {
  const packed = new Int32Array(packedLength(bits.length));
  const pairs = bits.length >>> 1;
  for (let k = 0; k < pairs; k++) {
    packed[k] = roundToBfloat16Bits(bits[2 * k] as number) | (roundToBfloat16Bits(bits[2 * k + 1] as number) << 16);
  }
  if (bits.length % 2 === 1) packed[pairs] = roundToBfloat16Bits(bits[bits.length - 1] as number);
  return packed;
}

/** The float32 bits of the first `size` bfloat16 values packed in `packed`. */
export function unpackBfloat16Bits(packed: Int32Array, size: number): Uint32Array {
  if (packed.length !== packedLength(size)) throw new Error(`unpackBfloat16: ${packed.length} packed words cannot hold ${size} values (${packedLength(size)} words do)`);
  const bits = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    const word = packed[i >>> 1] as number;
    bits[i] = ((i & 1) === 0 ? word << 16 : word & 0xffff0000) >>> 0;
  }
  return bits;
}

/** Whether every bfloat16 value packed in `packed` is finite (its exponent bits are not all ones). */
export function packedBfloat16Finite(packed: Int32Array): boolean {
  for (let k = 0; k < packed.length; k++) {
    const word = packed[k] as number;
    if ((word & 0x7f80) === 0x7f80 || (word & 0x7f800000) === 0x7f800000) return false;
  }
  return true;
}

/**
 * Whether every value packed in `packed` is finite, as a bool scalar computed with int32 ops (no
 * read, no bitwise op: TF.js 4.22 has none on wasm): each half's exponent field, (h >> 7) & 0xff,
 * is 0xff for ±Inf and NaN. Exact in int32 arithmetic on cpu and wasm.
 */
export function packedBfloat16FiniteOnDevice(packed: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const word = tf.cast(packed, 'int32');
    const halfBase = tf.scalar(65536, 'int32');
    const high = tf.floorDiv(word, halfBase); // the signed high half
    const low = tf.sub(word, tf.mul(high, halfBase)); // 0 … 65535
    const unsigned = (h: tf.Tensor) => tf.sub(h, tf.mul(tf.floorDiv(h, halfBase), halfBase));
    const exponent = (h: tf.Tensor) => {
      const shifted = tf.floorDiv(h, tf.scalar(128, 'int32'));
      return tf.sub(shifted, tf.mul(tf.floorDiv(shifted, tf.scalar(256, 'int32')), tf.scalar(256, 'int32')));
    };
    const allOnes = tf.scalar(255, 'int32');
    return tf.logicalNot(tf.any(tf.logicalOr(tf.equal(exponent(low), allOnes), tf.equal(exponent(unsigned(high)), allOnes))));
  });
}

function assertHostBackend(owner: string): void {
  const why = hostCodecUnavailable(tf.getBackend());
  if (why !== undefined) throw new Error(`${owner}: cannot run on the ${tf.getBackend()} backend: ${why}`);
}

/** Throws, naming `owner`, unless `values` is float32 (what every codec packs). */
export function checkPackInput(values: tf.Tensor, owner: string): void {
  if (values.dtype !== 'float32') throw new Error(`${owner}: expects a float32 tensor, got ${values.dtype}`);
}

/** Throws, naming `owner`, unless `packed` is the 1-D int32 tensor that holds the values of `shape`. */
export function checkUnpackInput(packed: tf.Tensor, shape: readonly number[], owner: string): void {
  if (packed.dtype !== 'int32' || packed.rank !== 1) throw new Error(`${owner}: expects a 1-D int32 tensor of packed values, got ${packed.dtype} [${packed.shape.join(', ')}]`);
  const size = tf.util.sizeFromShape([...shape]);
  if (packed.size !== packedLength(size)) throw new Error(`${owner}: ${packed.size} packed words cannot hold ${size} values (${packedLength(size)} words do)`);
}

/**
 * `values` (float32, any shape) rounded to bfloat16 and packed two per int32: a new int32 tensor of
 * shape `[ceil(size / 2)]`, half the bytes. Throws on a backend that cannot hold it
 * ({@link bfloat16StorageUnavailable}).
 */
export function packBfloat16(values: tf.Tensor): tf.Tensor1D {
  assertHostBackend('packBfloat16');
  checkPackInput(values, 'packBfloat16');
  const data = values.dataSync<'float32'>();
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  return tf.tensor1d(packBfloat16Bits(bits), 'int32');
}

/** The float32 tensor of `shape` whose values are packed in `packed` (exact: a bfloat16 is a float32). */
export function unpackBfloat16(packed: tf.Tensor, shape: readonly number[]): tf.Tensor {
  assertHostBackend('unpackBfloat16');
  checkUnpackInput(packed, shape, 'unpackBfloat16');
  const bits = unpackBfloat16Bits(packed.dataSync<'int32'>(), tf.util.sizeFromShape([...shape]));
  return tf.tensor(new Float32Array(bits.buffer), [...shape], 'float32');
}

/** Whether every value packed in `packed` is finite: one pass over its words, on a host backend. */
export function packedTensorFinite(packed: tf.Tensor): boolean {
  assertHostBackend('packedTensorFinite');
  return packedBfloat16Finite(packed.dataSync<'int32'>());
}

/** The codec of the host backends (cpu, wasm, tensorflow): the functions above; it refuses the others. */
export const HOST_BFLOAT16_CODEC: Bfloat16Codec = Object.freeze({ pack: packBfloat16, unpack: unpackBfloat16, finiteOnDevice: packedBfloat16FiniteOnDevice });

/** The host codec whatever the backend (it refuses those it cannot run on): the default where no codecs are supplied. */
export const HOST_BFLOAT16_CODECS: Bfloat16Codecs = () => HOST_BFLOAT16_CODEC;
