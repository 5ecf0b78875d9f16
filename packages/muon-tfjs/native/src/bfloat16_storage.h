// bfloat16 storage of float32 values, two per 32-bit word: the format of Muon's
// `momentumDtype: 'bfloat16'` slot, bit for bit as src/math/bfloat16Storage.ts writes and reads it
// (packBfloat16Bits, unpackBfloat16Bits, packedBfloat16Finite). Element 2k is the low 16 bits of
// word k and element 2k+1 the high 16 bits; an odd size leaves the last word's high half +0.
// Plain C++.
#pragma once

#include <cstdint>
#include <cstring>

namespace muon {

inline uint32_t floatBits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// The float32 a bfloat16 (in the low 16 bits of `half`) stands for: exact, its bits are the top half.
inline float bfloat16Value(uint32_t half) {
  const uint32_t bits = half << 16;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// The bfloat16 nearest to `x`, ties to even, in the low 16 bits: roundToBfloat16Bits of
// bfloat16Storage.ts. Adding 0x7fff plus the kept part's lowest bit rounds to nearest even; a carry
// into the exponent is the right result (the next binade, or ±Inf past the largest finite value;
// the sum cannot wrap, as the largest non-NaN pattern is −Inf's 0xff800000). NaN keeps its sign and
// its payload's top with the quiet bit (0x0040) forced, so that dropping the low mantissa bits
// cannot turn it into Inf. Written as a select, which the compiler vectorizes.
inline uint32_t roundToBfloat16(float x) {
  const uint32_t u = floatBits(x);
  const uint32_t nan = (u >> 16) | 0x0040u;
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return (u & 0x7fffffffu) > 0x7f800000u ? nan : rounded;
}

// 1 when the bfloat16 in the low 16 bits of `half` is NaN or ±Inf (all-ones exponent).
inline uint32_t nonFiniteBfloat16(uint32_t half) { return static_cast<uint32_t>((half & 0x7f80u) == 0x7f80u); }

}  // namespace muon
