// HalfFloatTest.cpp - f16/bf16 conversions against the IEEE definitions (computed here in double).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "llmc/runtime/HalfFloat.h"

namespace llmc {
namespace {

double f16Value(uint16_t h) {  // IEEE binary16 by definition
  const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

TEST(HalfFloatTest, F16ToFloatEveryPattern) {
  for (uint32_t h = 0; h < 65536; ++h) {
    double want = f16Value(static_cast<uint16_t>(h));
    float got = f16ToFloat(static_cast<uint16_t>(h));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << h;
    } else {
      ASSERT_EQ(static_cast<double>(got), want) << h;
      if (!std::isinf(want)) ASSERT_EQ(floatToF16(got), h) << "round trip " << h;
    }
  }
}

TEST(HalfFloatTest, FloatToF16RoundsToNearestEven) {
  EXPECT_EQ(floatToF16(1.0f), 0x3c00);
  EXPECT_EQ(floatToF16(-2.0f), 0xc000);
  EXPECT_EQ(floatToF16(65504.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65519.0f), 0x7bff);
  EXPECT_EQ(floatToF16(65520.0f), 0x7c00);  // halfway to the next (inf): even is inf
  EXPECT_EQ(floatToF16(1e10f), 0x7c00);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(floatToF16(std::ldexp(1.0f, -25)), 0x0000);   // halfway to 0: even
  EXPECT_EQ(floatToF16(std::ldexp(3.0f, -25)), 0x0002);   // 1.5 ulp: to even 2
  EXPECT_EQ(floatToF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(floatToF16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);
  EXPECT_TRUE(std::isnan(f16ToFloat(floatToF16(NAN))));
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> mag(-30.0f, 17.0f);
  for (int i = 0; i < 200000; ++i) {
    float x = std::ldexp(1.0f + float(rng() % 1000000) / 1e6f, int(mag(rng))) * (rng() & 1 ? 1 : -1);
    uint16_t h = floatToF16(x);
    double got = f16Value(h);
    if (std::isinf(got)) {
      ASSERT_GE(std::fabs(x), 65520.0f);
      continue;
    }
    // No representable neighbour is closer.
    double err = std::fabs(got - x);
    for (int d : {-1, 1}) {
      uint16_t n = static_cast<uint16_t>((h & 0x7fff) + d) | (h & 0x8000);
      if ((h & 0x7fff) == 0 && d < 0) continue;
      double alt = f16Value(n);
      if (!std::isnan(alt) && !std::isinf(alt)) ASSERT_LE(err, std::fabs(alt - x)) << x;
    }
  }
}

TEST(HalfFloatTest, Bf16) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(bf16ToFloat(0xc0a0), -5.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: even (1).
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
  EXPECT_EQ(floatToBf16(1.0f + std::ldexp(3.0f, -8)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBf16(NAN))));
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1e6f, 1e6f);
  for (int i = 0; i < 100000; ++i) {
    float x = u(rng);
    uint16_t b = floatToBf16(x);
    double err = std::fabs(double(bf16ToFloat(b)) - x);
    ASSERT_LE(err, std::fabs(double(bf16ToFloat(b + 1)) - x)) << x;
    ASSERT_LE(err, std::fabs(double(bf16ToFloat(b - 1)) - x)) << x;
  }
}

}  // namespace
}  // namespace llmc
