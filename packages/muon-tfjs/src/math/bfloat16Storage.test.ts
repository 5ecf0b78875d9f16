import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { float32Of, referenceBfloat16, sameValue } from '../testing/bfloat16Reference.js';
import { bfloat16StorageUnavailable, packBfloat16, packBfloat16Bits, packedBfloat16Finite, packedBfloat16FiniteOnDevice, packedLength, roundToBfloat16Bits, unpackBfloat16, unpackBfloat16Bits } from './bfloat16Storage.js';

// The codec against values worked out by hand (a bfloat16 is the top 16 bits of a float32: 1 sign,
// 8 exponent, 7 mantissa bits), then against a reference that rounds by comparing distances in
// float64 rather than by the integer addition the codec uses.

/** [float32 bits, bfloat16 bits, why]: each worked out from the bit layout. */
const HAND_WORKED: readonly (readonly [number, number, string])[] = [
  [0x3f800000, 0x3f80, '1.0 is exact'],
  [0x3f807fff, 0x3f80, '1 + (2^-8 − 2^-23): below the halfway point, down'],
  [0x3f808000, 0x3f80, '1 + 2^-8: exactly halfway between 0x3f80 and 0x3f81, to the even 0x3f80 (down)'],
  [0x3f808001, 0x3f81, 'just above halfway, up'],
  [0x3f818000, 0x3f82, 'halfway between 0x3f81 (odd) and 0x3f82: to the even, up'],
  [0xbf818000, 0xbf82, 'the same tie negative: magnitude up, sign kept'],
  [0x3fffffff, 0x4000, '1.99999988: rounds up into the next binade (2.0)'],
  [0x7f7f0000, 0x7f7f, 'largest finite bfloat16 (3.3895e38) is exact'],
  [0x7f7f7fff, 0x7f7f, 'below the halfway point to 2^128: stays finite'],
  [0x7f7f8000, 0x7f80, 'halfway to 2^128 with 0x7f7f odd: to the even, which is +Inf (overflow)'],
  [0x7f7fffff, 0x7f80, 'largest finite float32 (3.4028e38): overflows to +Inf'],
  [0xff7fffff, 0xff80, '−largest finite float32: −Inf'],
  [0x7f800000, 0x7f80, '+Inf stays +Inf'],
  [0xff800000, 0xff80, '−Inf stays −Inf'],
  [0x00000000, 0x0000, '+0'],
  [0x80000000, 0x8000, '−0 keeps its sign'],
  [0x00000001, 0x0000, 'smallest float32 subnormal (1.4e-45): rounds to +0'],
  [0x80000001, 0x8000, 'its negative: −0'],
  [0x00008000, 0x0000, 'subnormal tie between 0 and the smallest bfloat16 subnormal: to the even 0'],
  [0x00018000, 0x0002, 'subnormal tie between 0x0001 (odd) and 0x0002: up'],
  [0x00010000, 0x0001, 'smallest bfloat16 subnormal (9.2e-41) is exact'],
  [0x80008001, 0x8001, 'negative subnormal just above halfway: up in magnitude'],
  [0x007fffff, 0x0080, 'largest float32 subnormal: rounds up to the smallest normal 2^-126'],
  [0x7fc00000, 0x7fc0, 'quiet NaN stays'],
  [0xffc00001, 0xffc0, 'negative NaN stays NaN, sign kept'],
  [0x7f800001, 0x7fc0, 'NaN whose payload is all in the dropped bits: still NaN (quiet bit set), not +Inf'],
  [0x7fbfffff, 0x7fff, 'signalling NaN with a high payload: NaN, not carried into the sign'],
];

describe('bfloat16 rounding (bits)', () => {
  it.each(HAND_WORKED)('float32 bits %i → bfloat16 bits %i: %s', (input, expected) => {
    expect(roundToBfloat16Bits(input).toString(16)).toBe(expected.toString(16));
  });

  it('packs element 2k in the low half and 2k+1 in the high half; an odd size leaves the last high half +0', () => {
    // 1.0 → 0x3f80, −2.0 → 0xc000, +Inf → 0x7f80
    const packed = packBfloat16Bits(new Uint32Array([0x3f800000, 0xc0000000, 0x7f800000]));
    expect(Array.from(packed, (w) => (w >>> 0).toString(16))).toEqual(['c0003f80', '7f80']);
    expect(Array.from(unpackBfloat16Bits(packed, 3), (b) => b.toString(16))).toEqual(['3f800000', 'c0000000', '7f800000']);
    expect(packedLength(0)).toBe(0);
    expect(packedLength(5)).toBe(3);
  });

  it('finds a non-finite value in either half of a word, and none in −0 or subnormals', () => {
    expect(packedBfloat16Finite(new Int32Array([0x80008001, 0x00007f7f]))).toBe(true);
    expect(packedBfloat16Finite(new Int32Array([0x3f80 | (0x7f80 << 16)]))).toBe(false);
    expect(packedBfloat16Finite(new Int32Array([0x3f807fc0]))).toBe(false);
  });

  it('rounds as the float64 distance reference does, for every float32 bit pattern drawn (seeded)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const rounded = float32Of(roundToBfloat16Bits(bits) << 16);
        expect(sameValue(rounded, referenceBfloat16(float32Of(bits)))).toBe(true);
      }),
      { seed: 24, numRuns: 20000 },
    );
  });
});

describe.each(TEST_BACKENDS)('packBfloat16 and unpackBfloat16 on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('packs the hand-worked values into half the bytes and unpacks them exactly', () => {
    const inputs = HAND_WORKED.map(([bits]) => float32Of(bits));
    const values = tf.tensor(new Float32Array(new Uint32Array(HAND_WORKED.map(([bits]) => bits)).buffer), [inputs.length]);
    const packed = packBfloat16(values);
    expect(packed.dtype).toBe('int32');
    expect(packed.shape).toEqual([Math.ceil(inputs.length / 2)]);
    const unpacked = unpackBfloat16(packed, [inputs.length]);
    const bits = new Uint32Array(unpacked.dataSync<'float32'>().slice().buffer);
    expect(Array.from(bits, (b) => (b >>> 16).toString(16))).toEqual(HAND_WORKED.map(([, expected]) => expected.toString(16)));
    expect(Array.from(bits, (b) => b & 0xffff)).toEqual(HAND_WORKED.map(() => 0));
    tf.dispose([values, packed, unpacked]);
  });

  it('unpack(pack(x)) is x rounded to bfloat16 and pack(unpack(p)) is p, for drawn float32 tensors (seeded)', () => {
    const before = tf.memory().numTensors;
    fc.assert(
      fc.property(fc.array(fc.float(), { minLength: 0, maxLength: 33 }), fc.constantFrom<'flat' | 'matrix'>('flat', 'matrix'), (xs, layout) => {
        const shape = layout === 'matrix' && xs.length % 3 === 0 ? [xs.length / 3, 3] : [xs.length];
        const x = tf.tensor(new Float32Array(xs), shape, 'float32');
        const packed = packBfloat16(x);
        const y = unpackBfloat16(packed, shape);
        expect(y.shape).toEqual(shape);
        const got = Array.from(y.dataSync());
        expect(got.every((v, i) => sameValue(v, referenceBfloat16(Math.fround(xs[i] as number))))).toBe(true);
        const again = packBfloat16(y);
        expect(Array.from(again.dataSync())).toEqual(Array.from(packed.dataSync()));
        tf.dispose([x, packed, y, again]);
      }),
      { seed: 5, numRuns: 300 },
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the device check of finiteness agrees with the host scan, for drawn words (seeded)', () => {
    const special = fc.constantFrom(0x7f80, 0xff80, 0x7fc0, 0x7f7f, 0x8000, 0xffff, 0x0080);
    const word = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.tuple(special, special).map(([lo, hi]) => lo | (hi << 16)), fc.tuple(special, fc.integer({ min: 0, max: 0xffff })).map(([lo, hi]) => lo | (hi << 16)));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 9 }), (words) => {
        const packed = tf.tensor1d(words, 'int32');
        const flag = packedBfloat16FiniteOnDevice(packed);
        expect(flag.dataSync()[0] === 1).toBe(packedBfloat16Finite(Int32Array.from(words)));
        tf.dispose([packed, flag]);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('refuses a packed tensor of the wrong length or dtype, and a non-float32 input', () => {
    const packed = tf.tensor1d([1, 2], 'int32');
    expect(() => unpackBfloat16(packed, [5])).toThrow('unpackBfloat16: 2 packed words cannot hold 5 values (3 words do)');
    expect(() => unpackBfloat16(tf.tensor1d([1, 2]), [4])).toThrow('unpackBfloat16: expects a 1-D int32 tensor of packed values, got float32 [2]');
    expect(() => packBfloat16(packed)).toThrow('packBfloat16: expects a float32 tensor, got int32');
    packed.dispose();
  });
});

describe('where bfloat16 state can be stored', () => {
  it('on the host backends, and not on webgl or webgpu, saying why', () => {
    expect(bfloat16StorageUnavailable('cpu')).toBeUndefined();
    expect(bfloat16StorageUnavailable('wasm')).toBeUndefined();
    expect(bfloat16StorageUnavailable('webgl')).toMatch(/float32 texels, which cannot hold the 32 raw bits/);
    expect(bfloat16StorageUnavailable('webgpu')).toBeUndefined(); // through the WGSL codec the adapter supplies
    expect(() => tf.tidy(() => packBfloat16(tf.zeros([2])))).not.toThrow(); // (on the current backend)
  });
});
