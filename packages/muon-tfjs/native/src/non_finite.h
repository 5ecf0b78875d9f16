// The finiteness test the fused steps fold into their passes (fused_muon_step.cc,
// fused_adam_step.cc): the adapter's check of every new value, done while computing it.
#pragma once

#include <cstdint>
#include <cstring>

namespace muon {

// 1 when the float32 bit pattern has the all-ones exponent of NaN and ±Inf. An integer OR over a
// loop, which the compiler vectorizes (a float comparison reduction it would not, without
// -ffast-math).
inline uint32_t nonFiniteBits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
}

}  // namespace muon
