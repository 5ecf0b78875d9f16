// An independent reference for bfloat16 rounding, for tests: it rounds by comparing distances in
// float64, not by the integer addition of src/math/bfloat16Storage.ts.

/** The float32 whose bits are `bits`. */
export function float32Of(bits: number): number {
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0] as number;
}

/** The bits of float32 `x`. */
export function bitsOf(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0] as number;
}

/**
 * The bfloat16 nearest to float32 `x`, as a number, found by distance in float64: the two
 * candidates around x (truncation toward zero and the next bfloat16 away from zero, 2^128 standing
 * for the one past the largest finite value), the nearer one, on a tie the one whose last mantissa
 * bit is 0; 2^128 is +Inf.
 */
export function referenceBfloat16(x: number): number {
  if (Number.isNaN(x) || !Number.isFinite(x) || x === 0) return x;
  const sign = x < 0 ? -1 : 1;
  const truncatedBits = bitsOf(Math.abs(x)) & 0xffff0000;
  const below = float32Of(truncatedBits);
  const aboveBits = truncatedBits + 0x10000;
  const above = aboveBits >= 0x7f800000 ? 2 ** 128 : float32Of(aboveBits);
  const [dBelow, dAbove] = [Math.abs(x) - below, above - Math.abs(x)];
  const evenBelow = ((truncatedBits >>> 16) & 1) === 0;
  const nearest = dBelow < dAbove || (dBelow === dAbove && evenBelow) ? below : above;
  return sign * (nearest === 2 ** 128 ? Number.POSITIVE_INFINITY : nearest);
}

/** Whether two float32 values are the same value (−0 apart from +0; any NaN equal to any NaN). */
export const sameValue = (a: number, b: number): boolean => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);
