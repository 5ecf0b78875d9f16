import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBfloat16Bits, packedBfloat16Finite, packedBfloat16FiniteOnDevice, unpackBfloat16Bits } from '../math/bfloat16Storage.js';
import { useBackend } from '../testing/backends.js';
import { WEBGPU_MISSING, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { countWebGpuDispatches } from './webgpuDispatches.js';
import { WEBGPU_BFLOAT16_CODEC, selectInt32OnWebGpu } from './webgpuBfloat16Codec.js';

// The WGSL codec against the host codec (src/math/bfloat16Storage.ts, itself checked by hand and
// against a float64 reference in bfloat16Storage.test.ts): bit for bit, on Dawn's webgpu package
// (SwiftShader's Vulkan driver here). Float32 values go in and come out as raw bits (typed-array
// views, never JavaScript numbers, which may canonicalize a NaN's payload).

/** float32 bit patterns: ties both ways, subnormals, ±0, ±Inf, NaNs, overflow to Inf (bfloat16Storage.test.ts's hand-worked cases). */
const PATTERNS = [
  0x3f800000, 0x3f807fff, 0x3f808000, 0x3f808001, 0x3f818000, 0xbf818000, 0x3fffffff, 0x7f7f0000, 0x7f7f7fff, 0x7f7f8000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00008000, 0x00018000, 0x00010000, 0x80008001, 0x007fffff, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff, 0xffffffff,
  0xff800001,
] as const;

/** A seeded 32-bit generator (mulberry32). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** `count` seeded float32 bit patterns: half uniform over all 32-bit words, half ordinary values around ±1e-3…1e3. */
function randomBits(count: number, seed: number): Uint32Array {
  const next = generator(seed);
  const scratch = new Float32Array(1);
  const asBits = new Uint32Array(scratch.buffer);
  return Uint32Array.from({ length: count }, (_, i) => {
    if (i % 2 === 0) return next();
    scratch[0] = (next() / 2 ** 32 - 0.5) * 10 ** ((next() % 7) - 3);
    return asBits[0] as number;
  });
}

const floatsOf = (bits: Uint32Array): tf.Tensor => tf.tensor1d(new Float32Array(bits.slice().buffer), 'float32');
async function bitsOf(t: tf.Tensor): Promise<Uint32Array> {
  const data = (await t.data()) as Float32Array | Int32Array;
  return new Uint32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}
const hex = (bits: Uint32Array): string[] => Array.from(bits, (b) => b.toString(16));

reportWebGpuSkipped(it);

describe.runIf(WEBGPU_MISSING === undefined)('the WGSL bfloat16 codec on webgpu (Dawn in Node)', () => {
  beforeAll(() => useBackend('webgpu'));
  afterAll(() => useBackend('cpu'));

  it.each([
    ['the hand-picked patterns (an odd count)', Uint32Array.from(PATTERNS)],
    ['the hand-picked patterns less one (even)', Uint32Array.from(PATTERNS.slice(1))],
    ['one value', Uint32Array.of(0x3f808000)],
    ['no value', new Uint32Array(0)],
    ['10001 seeded patterns', randomBits(10001, 24)],
  ])('packs %s to the host codec’s words, and unpacks them to its float32 bits', async (_label, bits) => {
    const values = floatsOf(bits);
    const before = tf.memory().numTensors;
    const { result: packed, byProgram } = countWebGpuDispatches(() => WEBGPU_BFLOAT16_CODEC.pack(values));
    expect([packed.dtype, packed.shape]).toEqual(['int32', [Math.ceil(bits.length / 2)]]);
    const expected = packBfloat16Bits(bits);
    expect(hex(await bitsOf(packed))).toEqual(hex(new Uint32Array(expected.buffer)));
    const unpacked = WEBGPU_BFLOAT16_CODEC.unpack(packed, [bits.length]);
    expect([unpacked.dtype, unpacked.shape]).toEqual(['float32', [bits.length]]);
    expect(hex(await bitsOf(unpacked))).toEqual(hex(unpackBfloat16Bits(expected, bits.length)));
    expect(tf.memory().numTensors).toBe(before + 2);
    if (bits.length > 0) expect([...byProgram.keys()]).toEqual(['muonPackBfloat16']);
    tf.dispose([values, packed, unpacked]);
  });

  it('unpacks any word (random, NaN halves included) to the host codec’s bits, in the shape asked', async () => {
    const words = randomBits(4001, 7);
    const packed = tf.tensor1d(new Int32Array(words.buffer), 'int32');
    const unpacked = WEBGPU_BFLOAT16_CODEC.unpack(packed, [2, 4001]);
    expect(unpacked.shape).toEqual([2, 4001]);
    expect(hex(await bitsOf(unpacked))).toEqual(hex(unpackBfloat16Bits(new Int32Array(words.buffer), 8002)));
    tf.dispose([packed, unpacked]);
  });

  it('finiteOnDevice agrees with the host check on words whose halves sit at every exponent edge; the int32-op check of the host codec need not', async () => {
    // Halves: finite (1.0, −0, largest finite, a subnormal) and non-finite (±Inf, NaNs at both ends of the payload).
    const finite = [0x3f80, 0x8000, 0x7f7f, 0xff7f, 0x0001];
    const nonFinite = [0x7f80, 0xff80, 0x7fc0, 0xffff, 0x7f81, 0x7fff];
    const cases: number[][] = [];
    for (const low of [...finite, ...nonFinite]) for (const high of [...finite, ...nonFinite]) cases.push([low | (high << 16)]);
    cases.push(finite.map((h, i) => h | ((finite[(i + 1) % finite.length] as number) << 16)), []);
    let misread = 0;
    for (const words of cases) {
      const stored = new Int32Array(words);
      const packed = tf.tensor1d(stored, 'int32');
      const flag = WEBGPU_BFLOAT16_CODEC.finiteOnDevice(packed);
      expect([flag.dtype, flag.shape]).toEqual(['bool', []]);
      expect((await flag.data())[0] === 1, `words ${words.map((w) => (w >>> 0).toString(16)).join(' ')}`).toBe(packedBfloat16Finite(stored));
      flag.dispose();
      // (TF.js's webgpu `any` fails on an empty tensor: the int32-op check is left the non-empty cases.)
      if (words.length > 0) {
        const viaInt32Ops = packedBfloat16FiniteOnDevice(packed);
        if (((await viaInt32Ops.data())[0] === 1) !== packedBfloat16Finite(stored)) misread += 1;
        viaInt32Ops.dispose();
      }
      packed.dispose();
    }
    // TF.js's webgpu kernels compute int32 ops in float32: a word such as 0xffff3f80 or 0x3f80ffff is misread.
    expect(misread).toBeGreaterThan(0);
  });

  it('selectInt32OnWebGpu keeps every word exactly (where TF.js’s where rounds words above 2^24 through float32)', async () => {
    const words = new Int32Array(randomBits(1001, 3).buffer);
    const [a, b] = [tf.tensor2d(words, [7, 143], 'int32'), tf.zeros([7, 143], 'int32')];
    for (const ok of [true, false]) {
      const flag = tf.scalar(ok, 'bool');
      const chosen = selectInt32OnWebGpu(flag, a, b);
      expect(chosen.shape).toEqual([7, 143]);
      expect(Array.from(await chosen.data())).toEqual(ok ? Array.from(words) : new Array<number>(1001).fill(0));
      const viaWhere = tf.where(flag, a, b);
      if (ok) expect(Array.from(await viaWhere.data())).not.toEqual(Array.from(words));
      tf.dispose([flag, chosen, viaWhere]);
    }
    tf.dispose([a, b]);
  });

  it('refuses what the host codec refuses, with the same words', () => {
    const packed = tf.tensor1d([1, 2], 'int32');
    expect(() => WEBGPU_BFLOAT16_CODEC.unpack(packed, [5])).toThrow('unpackBfloat16 (WGSL): 2 packed words cannot hold 5 values (3 words do)');
    expect(() => WEBGPU_BFLOAT16_CODEC.pack(packed)).toThrow('packBfloat16 (WGSL): expects a float32 tensor, got int32');
    packed.dispose();
  });
});
