// HalfFloat.h - IEEE f16 and bfloat16 <-> f32 conversions (round to nearest even), header-only.
//
// Used by the CPU backend (weights are widened to f32 at prepare) and by writers that narrow
// weights while streaming them into an engine.
#pragma once

#include <cstdint>
#include <cstring>

namespace llmc {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float bf16ToFloat(uint16_t h) { return bitsFloat(static_cast<uint32_t>(h) << 16); }

inline uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(u >> 16);
}

inline float f16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: man * 2^-24.
    float v = static_cast<float>(man) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return bitsFloat(sign | 0x7f800000u | (man << 13));  // inf / NaN
  return bitsFloat(sign | ((exp + 112u) << 23) | (man << 13));
}

inline uint16_t floatToF16(float f) {
  uint32_t u = floatBits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  u &= 0x7fffffffu;
  if (u > 0x7f800000u) return sign | 0x7e00u;           // NaN
  if (u >= 0x477ff000u) return sign | 0x7c00u;          // rounds to >= 65520: inf
  if (u < 0x38800000u) {                                // below the smallest normal 2^-14
    // Subnormal: value / 2^-24, rounded to nearest even.
    float v = bitsFloat(u) * 16777216.0f;
    uint32_t r = static_cast<uint32_t>(v);
    float frac = v - static_cast<float>(r);
    if (frac > 0.5f || (frac == 0.5f && (r & 1u))) ++r;
    return sign | static_cast<uint16_t>(r);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
  uint32_t r = u + 0xfffu + ((u >> 13) & 1u);
  r -= (112u << 23);
  return sign | static_cast<uint16_t>(r >> 13);
}

}  // namespace llmc
