// GpuKernelTest.cpp - every CUDA kernel against a float64 CPU reference (label `gpu`).
//
// Inputs are fresh random data, outputs are poisoned with NaN before each launch (an element the
// kernel does not write fails the check), references are computed here in double from the exact
// stored values (weights rounded to their dtype first). Tolerances, as ||got - ref|| / ||ref||:
//   f32 math over exactly-representable inputs: 2e-5 (f32 accumulation of up to ~11k terms);
//   results stored to a 16-bit KV cache: 8e-3 (one bf16 rounding is 2^-9 relative).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "GpuTestUtil.h"
#include "LtGemm.h"
#include "llmc/runtime/HalfFloat.h"

namespace llmc::gputest {
namespace {

// ActType codes of the kernels' 16-bit hand-off parameters (codegen/cuda/kernels/common.cuh).
constexpr int kF32Out = 0, kBf16Out = 1, kF16Out = 2;

using cuda::KernelKind;
using cuda::KernelSpec;
using engine::DType;

// ---------------------------------------------------------------------------------------------
// GEMV

struct GemvCase {
  DType dt;
  int n, k, m;
  bool bias;
  bool misalignX;  // x starts 4 bytes past a 16-byte boundary: the scalar fallback path
};

class GemvTest : public ::testing::TestWithParam<GemvCase> {};

TEST_P(GemvTest, MatchesFloat64) {
  LLMC_REQUIRE_GPU();
  const GemvCase c = GetParam();
  KernelSet ks;
  std::vector<KernelSpec> specs = {{KernelKind::kGemv, c.dt, c.k, c.m}, {KernelKind::kGemvPair, c.dt, c.k, c.m}};
  const bool triple = c.n % 12 == 0 && c.m <= cuda::kGemvTripleMaxRows;
  if (triple) specs.push_back({KernelKind::kGemvTriple, c.dt, c.k, c.m});
  ASSERT_OK(ks.build(specs));
  std::mt19937 rng(1000 + c.n + c.k + c.m);
  const std::vector<float> x = randomVector(rng, static_cast<size_t>(c.m) * c.k);
  const Stored w = store(c.dt, randomVector(rng, static_cast<size_t>(c.n) * c.k, -0.05f, 0.05f));
  const std::vector<float> bias = randomVector(rng, c.n);
  std::vector<float> xPadded(x.size() + 1);
  std::copy(x.begin(), x.end(), xPadded.begin() + (c.misalignX ? 1 : 0));
  auto dx = upload(xPadded);
  auto dw = upload(w.bytes);
  auto db = upload(bias);
  const float* xp = dx.as<float>() + (c.misalignX ? 1 : 0);
  const float* bp = c.bias ? db.as<float>() : nullptr;
  std::vector<double> ref(static_cast<size_t>(c.m) * c.n);
  for (int m = 0; m < c.m; ++m)
    for (int n = 0; n < c.n; ++n) {
      double s = c.bias ? bias[n] : 0.0;
      for (int k = 0; k < c.k; ++k) s += static_cast<double>(x[m * c.k + k]) * w.values[static_cast<size_t>(n) * c.k + k];
      ref[static_cast<size_t>(m) * c.n + n] = s;
    }
  // Twice on fresh poison: the same bits (the pipelined loads change timing, never the order of
  // the additions); the second run also asks L2 for the row tails before the wait.
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    auto dy = poisoned(static_cast<size_t>(c.m) * c.n);
    cuda::GemvInArgs in;
    in.prefetchTails = run;
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemv, c.dt, c.k, c.m}), dim3((c.n + 3) / 4), dim3(128), 0, xp,
                         static_cast<const void*>(dw.get()), bp, dy.as<float>(), c.n, in, cuda::GemvNormOutArgs{}));
    const std::vector<float> got = download<float>(dy, ref.size());
    EXPECT_LT(relError(got, ref), kF32Tol) << "run " << run;
    if (run == 0) first = got;
    else EXPECT_EQ(got, first) << "rerun";
  }
  // Two rows per warp (gemvRowsBody, for n % 8 == 0): each row's sum in the same order, so the
  // same bits as the one-row kernel.
  if (c.n % 8 == 0) {
    auto dy = poisoned(static_cast<size_t>(c.m) * c.n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemvPair, c.dt, c.k, c.m}), dim3(c.n / 8), dim3(128), 0, xp,
                         static_cast<const void*>(dw.get()), bp, dy.as<float>(), c.n, cuda::GemvInArgs{}, cuda::GemvNormOutArgs{}));
    EXPECT_EQ(download<float>(dy, ref.size()), first) << "two rows per warp";
  }
  // Three rows per warp (n % 12 == 0, M <= 2), with the row-tail prefetch: the same bits too.
  if (triple) {
    auto dy = poisoned(static_cast<size_t>(c.m) * c.n);
    cuda::GemvInArgs in;
    in.prefetchTails = 1;
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemvTriple, c.dt, c.k, c.m}), dim3(c.n / 12), dim3(128), 0, xp,
                         static_cast<const void*>(dw.get()), bp, dy.as<float>(), c.n, in, cuda::GemvNormOutArgs{}));
    EXPECT_EQ(download<float>(dy, ref.size()), first) << "three rows per warp";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemvTest,
    ::testing::Values(GemvCase{DType::kBF16, 4096, 4096, 1, false, false}, GemvCase{DType::kBF16, 1024, 11008, 1, false, false},
                      GemvCase{DType::kBF16, 512, 4096, 8, true, false}, GemvCase{DType::kBF16, 300, 4096, 3, true, false},
                      GemvCase{DType::kF16, 256, 4096, 2, false, false}, GemvCase{DType::kF32, 256, 4096, 5, true, false},
                      GemvCase{DType::kF32, 96, 172, 1, false, false}, GemvCase{DType::kBF16, 96, 172, 4, true, false},
                      GemvCase{DType::kBF16, 64, 4096, 2, false, true}, GemvCase{DType::kBF16, 7, 40, 7, true, false},
                      GemvCase{DType::kBF16, 130, 1000, 6, false, false},
                      // Multiples of 12 rows: the three-rows-per-warp kernel too (with 96 x 172 above).
                      GemvCase{DType::kBF16, 3072, 4096, 1, true, false}, GemvCase{DType::kF16, 1536, 4096, 2, false, false}));

// GEMV-GLU (decode's gate/up projection + llm.glu in one kernel): y[m, j] = act(x[m] . w[j] + b[j]) *
// (x[m] . w[I + j] + b[I + j]) against float64, for every M, the vector and the scalar (odd K)
// paths, all three activations; and bit-identical to the plain GEMV followed by llmc_glu_* (what the
// unfused decode runs), which is what lets the backend swap one for the other.
struct GemvGluCase {
  DType dt;
  int inner, k;
  bool bias;
};
class GemvGluTest : public ::testing::TestWithParam<GemvGluCase> {};

TEST_P(GemvGluTest, MatchesFloat64AndGemvThenGlu) {
  LLMC_REQUIRE_GPU();
  const GemvGluCase c = GetParam();
  std::vector<KernelSpec> specs;
  for (int m = 1; m <= cuda::kMaxGemvRows; ++m) {
    specs.push_back({KernelKind::kGemv, c.dt, c.k, m});
    for (int act : {cuda::kGluSilu, cuda::kGluGeluTanh, cuda::kGluGelu}) specs.push_back({KernelKind::kGemvGlu, c.dt, c.k, m, act});
  }
  KernelSet ks;
  ASSERT_OK(ks.build(specs));
  auto silu = [](double x) { return x / (1 + std::exp(-x)); };
  auto gelu = [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); };
  auto geluTanh = [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); };
  struct Act { int code; const char* glu; double (*f)(double); };
  const Act acts[] = {{cuda::kGluSilu, "llmc_glu_silu", +silu}, {cuda::kGluGeluTanh, "llmc_glu_gelu_tanh", +geluTanh},
                      {cuda::kGluGelu, "llmc_glu_gelu", +gelu}};
  const int n = 2 * c.inner;
  for (int m = 1; m <= cuda::kMaxGemvRows; ++m) {
    std::mt19937 rng(2000 + c.inner + c.k + m);
    const std::vector<float> x = randomVector(rng, static_cast<size_t>(m) * c.k);
    // Weights scaled so the gate sums spread over the activation's curved range (|g| up to ~4).
    const Stored w = store(c.dt, randomVector(rng, static_cast<size_t>(n) * c.k, -0.1f, 0.1f));
    const std::vector<float> bias = randomVector(rng, n);
    auto dx = upload(x), dw = upload(w.bytes), db = upload(bias);
    const float* bp = c.bias ? db.as<float>() : nullptr;
    std::vector<double> gate(static_cast<size_t>(m) * c.inner), up(gate.size());
    for (int r = 0; r < m; ++r)
      for (int j = 0; j < c.inner; ++j) {
        double g = c.bias ? bias[j] : 0.0, u = c.bias ? bias[c.inner + j] : 0.0;
        for (int k = 0; k < c.k; ++k) {
          g += static_cast<double>(x[r * c.k + k]) * w.values[static_cast<size_t>(j) * c.k + k];
          u += static_cast<double>(x[r * c.k + k]) * w.values[static_cast<size_t>(c.inner + j) * c.k + k];
        }
        gate[static_cast<size_t>(r) * c.inner + j] = g;
        up[static_cast<size_t>(r) * c.inner + j] = u;
      }
    // The unfused pair: GEMV into gu [m, 2I], then the GLU kernel.
    auto gu = poisoned(static_cast<size_t>(m) * n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemv, c.dt, c.k, m}), dim3((n + 3) / 4), dim3(128), 0, dx.as<const float>(),
                         static_cast<const void*>(dw.get()), bp, gu.as<float>(), n, cuda::GemvInArgs{},
                         cuda::GemvNormOutArgs{}));
    for (const Act& a : acts) {
      auto y = poisoned(static_cast<size_t>(m) * c.inner), yRef = poisoned(static_cast<size_t>(m) * c.inner);
      cuda::GemvInArgs in;
      in.prefetchTails = &a != &acts[0] ? 1 : 0;  // the L2 row-tail prefetch: timing only, the same bits
      ASSERT_OK(launchSync(ks.get({KernelKind::kGemvGlu, c.dt, c.k, m, a.code}), dim3((c.inner + 3) / 4), dim3(128), 0,
                           dx.as<const float>(), static_cast<const void*>(dw.get()), bp, y.as<float>(), c.inner, in));
      ASSERT_OK(launchSync(ks.get(a.glu), dim3(2, m), dim3(256), 0, static_cast<const void*>(gu.get()), yRef.get(), m,
                           c.inner, kF32Out, kF32Out));
      std::vector<double> ref(gate.size());
      for (size_t i = 0; i < ref.size(); ++i) ref[i] = a.f(gate[i]) * up[i];
      const std::vector<float> got = download<float>(y, ref.size());
      EXPECT_LT(relError(got, ref), kF32Tol) << a.glu << " M=" << m;
      EXPECT_EQ(got, download<float>(yRef, ref.size())) << a.glu << " M=" << m << ": fused vs GEMV + GLU";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemvGluTest,
    ::testing::Values(GemvGluCase{DType::kBF16, 256, 4096, false}, GemvGluCase{DType::kBF16, 130, 1000, true},
                      GemvGluCase{DType::kF16, 64, 2048, false}, GemvGluCase{DType::kF32, 96, 512, true},
                      GemvGluCase{DType::kBF16, 43, 172, true}, GemvGluCase{DType::kF32, 7, 40, false}));

// ---------------------------------------------------------------------------------------------
// Norms

struct NormCase {
  DType dt;
  int h, rows;
};
class NormTest : public ::testing::TestWithParam<NormCase> {};

TEST_P(NormTest, RmsAddRmsLayer) {
  LLMC_REQUIRE_GPU();
  const NormCase c = GetParam();
  KernelSet ks;
  ASSERT_OK(ks.build({{KernelKind::kRmsNorm, c.dt, c.h, 0}, {KernelKind::kAddRmsNorm, c.dt, c.h, 0},
                      {KernelKind::kLayerNorm, c.dt, c.h, 0}}));
  std::mt19937 rng(7 + c.h);
  const size_t n = static_cast<size_t>(c.rows) * c.h;
  const std::vector<float> x = randomVector(rng, n, -2.f, 3.f), r = randomVector(rng, n);
  const Stored w = store(c.dt, randomVector(rng, c.h, 0.5f, 1.5f));
  const Stored b = store(c.dt, randomVector(rng, c.h));
  auto dx = upload(x), dr = upload(r), dw = upload(w.bytes), db = upload(b.bytes);
  const float eps = 1e-5f;
  for (int unit = 0; unit < 2; ++unit) {
    auto dy = poisoned(n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kRmsNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         static_cast<const void*>(dw.get()), dy.get(), eps, unit, kF32Out));
    std::vector<double> ref(n);
    for (int t = 0; t < c.rows; ++t) {
      double ss = 0;
      for (int i = 0; i < c.h; ++i) ss += static_cast<double>(x[t * c.h + i]) * x[t * c.h + i];
      const double inv = 1.0 / std::sqrt(ss / c.h + eps);
      for (int i = 0; i < c.h; ++i) ref[t * c.h + i] = x[t * c.h + i] * inv * (w.values[i] + unit);
    }
    EXPECT_LT(relError(download<float>(dy, n), ref), kF32Tol) << "rms_norm unit_offset=" << unit;
  }
  {
    auto dsum = poisoned(n), dy = poisoned(n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kAddRmsNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0,
                         dx.as<const float>(), dr.as<const float>(), static_cast<const void*>(dw.get()), dsum.as<float>(),
                         dy.get(), eps, 0, kF32Out));
    std::vector<double> sum(n), ref(n);
    for (size_t i = 0; i < n; ++i) sum[i] = static_cast<double>(x[i]) + r[i];
    for (int t = 0; t < c.rows; ++t) {
      double ss = 0;
      for (int i = 0; i < c.h; ++i) ss += sum[t * c.h + i] * sum[t * c.h + i];
      const double inv = 1.0 / std::sqrt(ss / c.h + eps);
      for (int i = 0; i < c.h; ++i) ref[t * c.h + i] = sum[t * c.h + i] * inv * w.values[i];
    }
    EXPECT_LT(relError(download<float>(dsum, n), sum), 1e-7) << "add_rms_norm sum";
    EXPECT_LT(relError(download<float>(dy, n), ref), kF32Tol) << "add_rms_norm y";
    // In place: sum written over x (exact alias), as the memory plan may arrange.
    auto dx2 = upload(x), dy2 = poisoned(n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kAddRmsNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0,
                         dx2.as<const float>(), dr.as<const float>(), static_cast<const void*>(dw.get()), dx2.as<float>(),
                         dy2.get(), eps, 0, kF32Out));
    EXPECT_LT(relError(download<float>(dx2, n), sum), 1e-7) << "add_rms_norm in place";
    EXPECT_LT(relError(download<float>(dy2, n), ref), kF32Tol) << "add_rms_norm in place";
  }
  for (int withBias = 0; withBias < 2; ++withBias) {
    auto dy = poisoned(n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kLayerNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         static_cast<const void*>(dw.get()), withBias ? static_cast<const void*>(db.get()) : nullptr,
                         dy.get(), eps, kF32Out));
    std::vector<double> ref(n);
    for (int t = 0; t < c.rows; ++t) {
      double mean = 0, var = 0;
      for (int i = 0; i < c.h; ++i) mean += x[t * c.h + i];
      mean /= c.h;
      for (int i = 0; i < c.h; ++i) var += (x[t * c.h + i] - mean) * (x[t * c.h + i] - mean);
      const double inv = 1.0 / std::sqrt(var / c.h + eps);
      for (int i = 0; i < c.h; ++i)
        ref[t * c.h + i] = (x[t * c.h + i] - mean) * inv * w.values[i] + (withBias ? b.values[i] : 0.0);
    }
    EXPECT_LT(relError(download<float>(dy, n), ref), kF32Tol) << "layer_norm bias=" << withBias;
  }
  // 16-bit outputs (the prefill hand-off to cuBLASLt): the same values as the f32 output, rounded
  // to nearest even exactly as the cast kernel / host converters round them.
  for (int code : {kBf16Out, kF16Out}) {
    auto y32 = poisoned(n), s32 = poisoned(n), y16 = upload(std::vector<uint16_t>(n, 0xffff)), s16 = poisoned(n);
    auto l32 = poisoned(n), l16 = upload(std::vector<uint16_t>(n, 0xffff));
    auto r16 = upload(std::vector<uint16_t>(n, 0xffff));
    ASSERT_OK(launchSync(ks.get({KernelKind::kAddRmsNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         dr.as<const float>(), static_cast<const void*>(dw.get()), s32.as<float>(), y32.get(), eps, 1, kF32Out));
    ASSERT_OK(launchSync(ks.get({KernelKind::kAddRmsNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         dr.as<const float>(), static_cast<const void*>(dw.get()), s16.as<float>(), y16.get(), eps, 1, code));
    ASSERT_OK(launchSync(ks.get({KernelKind::kLayerNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         static_cast<const void*>(dw.get()), static_cast<const void*>(db.get()), l32.get(), eps, kF32Out));
    ASSERT_OK(launchSync(ks.get({KernelKind::kLayerNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         static_cast<const void*>(dw.get()), static_cast<const void*>(db.get()), l16.get(), eps, code));
    ASSERT_OK(launchSync(ks.get({KernelKind::kRmsNorm, c.dt, c.h, 0}), dim3(c.rows), dim3(256), 0, dx.as<const float>(),
                         static_cast<const void*>(dw.get()), r16.get(), eps, 0, code));
    const auto f32y = download<float>(y32, n), f32l = download<float>(l32, n);
    const auto h16y = download<uint16_t>(y16, n), h16l = download<uint16_t>(l16, n), h16r = download<uint16_t>(r16, n);
    EXPECT_EQ(download<float>(s16, n), download<float>(s32, n)) << "the residual sum stays f32";
    auto narrow = [&](float f) { return code == kBf16Out ? floatToBf16(f) : floatToF16(f); };
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(h16y[i], narrow(f32y[i])) << "add_rms_norm 16-bit output " << i;
      ASSERT_EQ(h16l[i], narrow(f32l[i])) << "layer_norm 16-bit output " << i;
    }
    // rms_norm without unit offset: against the float64 reference within one rounding.
    std::vector<double> ref(n);
    std::vector<float> got(n);
    for (int t = 0; t < c.rows; ++t) {
      double ss = 0;
      for (int i = 0; i < c.h; ++i) ss += static_cast<double>(x[t * c.h + i]) * x[t * c.h + i];
      const double inv = 1.0 / std::sqrt(ss / c.h + eps);
      for (int i = 0; i < c.h; ++i) ref[t * c.h + i] = x[t * c.h + i] * inv * w.values[i];
    }
    for (size_t i = 0; i < n; ++i) got[i] = code == kBf16Out ? bf16ToFloat(h16r[i]) : f16ToFloat(h16r[i]);
    EXPECT_LT(relError(got, ref), code == kBf16Out ? 4e-3 : 1e-3) << "rms_norm 16-bit output";
  }
}

INSTANTIATE_TEST_SUITE_P(Widths, NormTest,
                         ::testing::Values(NormCase{DType::kBF16, 4096, 5}, NormCase{DType::kF32, 64, 9},
                                           NormCase{DType::kF16, 172, 3}, NormCase{DType::kBF16, 5120, 2},
                                           NormCase{DType::kF32, 8192, 1}, NormCase{DType::kBF16, 300, 4}));

// ---------------------------------------------------------------------------------------------
// Elementwise and gathers (fixed kernels)

TEST(GpuKernels, EmbeddingAndPositionEmbedding) {
  LLMC_REQUIRE_GPU();
  KernelSet ks;
  ASSERT_OK(ks.build({}));
  std::mt19937 rng(3);
  const int vocab = 50, h = 72, T = 9;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16}) {
    const Stored table = store(dt, randomVector(rng, vocab * h));
    std::vector<int32_t> ids(T), pos(T);
    for (int t = 0; t < T; ++t) ids[t] = (t * 17 + 3) % vocab, pos[t] = (t * 5) % vocab;
    auto dt_ = upload(table.bytes), dids = upload(ids), dpos = upload(pos);
    auto out = poisoned(T * h);
    ASSERT_OK(launchSync(ks.get(cuda::embeddingKernelName(dt)), dim3(T), dim3(256), 0, dids.as<const int32_t>(),
                         static_cast<const void*>(dt_.get()), out.as<float>(), h, 2.5f));
    std::vector<double> ref(T * h);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < h; ++i) ref[t * h + i] = table.values[ids[t] * h + i] * 2.5f;
    EXPECT_LT(relError(download<float>(out, T * h), ref), 1e-7);

    const std::vector<float> x = randomVector(rng, T * h);
    auto dx = upload(x), out2 = poisoned(T * h);
    ASSERT_OK(launchSync(ks.get(cuda::positionEmbeddingKernelName(dt)), dim3(T), dim3(256), 0, dx.as<const float>(),
                         dpos.as<const int32_t>(), static_cast<const void*>(dt_.get()), out2.as<float>(), h));
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < h; ++i) ref[t * h + i] = static_cast<double>(x[t * h + i]) + table.values[pos[t] * h + i];
    EXPECT_LT(relError(download<float>(out2, T * h), ref), 1e-7);
  }
}

TEST(GpuKernels, ActivationsGluAddMul) {
  LLMC_REQUIRE_GPU();
  KernelSet ks;
  ASSERT_OK(ks.build({}));
  std::mt19937 rng(4);
  const int T = 5, I = 333;
  const uint64_t n = static_cast<uint64_t>(T) * 2 * I;
  const std::vector<float> a = randomVector(rng, n, -6.f, 6.f), b = randomVector(rng, n);
  auto da = upload(a), db = upload(b);
  auto silu = [](double x) { return x / (1 + std::exp(-x)); };
  auto gelu = [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); };
  auto geluTanh = [](double x) { return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); };
  struct Unary { const char* name; double (*f)(double); };
  const Unary unary[] = {{"llmc_silu", +silu}, {"llmc_gelu", +gelu}, {"llmc_gelu_tanh", +geluTanh}};
  for (const Unary& u : unary) {
    auto out = poisoned(n);
    ASSERT_OK(launchSync(ks.get(u.name), dim3(7), dim3(256), 0, da.as<const float>(), out.as<float>(), n));
    std::vector<double> ref(n);
    for (uint64_t i = 0; i < n; ++i) ref[i] = u.f(a[i]);
    EXPECT_LT(relError(download<float>(out, n), ref), kF32Tol) << u.name;
  }
  const char* glus[] = {"llmc_glu_silu", "llmc_glu_gelu", "llmc_glu_gelu_tanh"};
  for (int g = 0; g < 3; ++g) {
    auto out = poisoned(T * I);
    // Grid (column blocks, rows) smaller than the work in both directions: the loops stride.
    ASSERT_OK(launchSync(ks.get(glus[g]), dim3(1, 3), dim3(128), 0, da.get(), out.get(), T, I, kF32Out, kF32Out));
    std::vector<double> ref(T * I);
    for (int t = 0; t < T; ++t)
      for (int i = 0; i < I; ++i) ref[t * I + i] = unary[g].f(a[t * 2 * I + i]) * a[t * 2 * I + I + i];
    EXPECT_LT(relError(download<float>(out, T * I), ref), kF32Tol) << glus[g];
    // 16-bit in and out (prefill: gate/up from cuBLASLt, the product into the down projection);
    // inner 333 takes the element path, 336 the 8-column vector path.
    for (const int inner : {I, 336}) {
      std::mt19937 rng16(40 + inner);
      const std::vector<float> a16 = randomVector(rng16, static_cast<size_t>(T) * 2 * inner, -6.f, 6.f);
      for (DType dt : {DType::kBF16, DType::kF16}) {
        const int code = dt == DType::kBF16 ? kBf16Out : kF16Out;
        const Stored gu = store(dt, a16);
        auto dgu = upload(gu.bytes), o16 = upload(std::vector<uint16_t>(T * inner, 0xffff));
        ASSERT_OK(launchSync(ks.get(glus[g]), dim3(2, 2), dim3(256), 0, dgu.get(), o16.get(), T, inner, code, code));
        std::vector<double> ref16(T * inner);
        for (int t = 0; t < T; ++t)
          for (int i = 0; i < inner; ++i)
            ref16[t * inner + i] = unary[g].f(gu.values[t * 2 * inner + i]) * gu.values[t * 2 * inner + inner + i];
        const auto bits = download<uint16_t>(o16, T * inner);
        std::vector<float> got(T * inner);
        for (int i = 0; i < T * inner; ++i) got[i] = dt == DType::kBF16 ? bf16ToFloat(bits[i]) : f16ToFloat(bits[i]);
        EXPECT_LT(relError(got, ref16), dt == DType::kBF16 ? 4e-3 : 1e-3)
            << glus[g] << " " << engine::dtypeName(dt) << " inner " << inner;
      }
    }
  }
  for (const char* op : {"llmc_add", "llmc_mul"}) {
    auto out = poisoned(n);
    ASSERT_OK(launchSync(ks.get(op), dim3(5), dim3(256), 0, da.as<const float>(), db.as<const float>(), out.as<float>(), n));
    std::vector<double> ref(n);
    for (uint64_t i = 0; i < n; ++i) ref[i] = op[5] == 'a' ? double(a[i]) + b[i] : double(a[i]) * b[i];
    EXPECT_LT(relError(download<float>(out, n), ref), 1e-7) << op;
  }
}

TEST(GpuKernels, CopyColumnsGatherCastArgmax) {
  LLMC_REQUIRE_GPU();
  KernelSet ks;
  ASSERT_OK(ks.build({}));
  std::mt19937 rng(5);
  const int rows = 11, width = 100, col0 = 37, w = 41;
  const std::vector<float> x = randomVector(rng, rows * width);
  auto dx = upload(x), out = poisoned(rows * w);
  ASSERT_OK(launchSync(ks.get("llmc_copy_cols"), dim3(4), dim3(256), 0, dx.as<const float>(), width, col0, out.as<float>(), rows, w));
  std::vector<double> ref(rows * w);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < w; ++c) ref[r * w + c] = x[r * width + col0 + c];
  EXPECT_EQ(relError(download<float>(out, rows * w), ref), 0.0);

  const std::vector<int32_t> pick = {10, 0, 4};
  auto dpick = upload(pick), g = poisoned(3 * width);
  ASSERT_OK(launchSync(ks.get("llmc_gather_rows"), dim3(2), dim3(256), 0, dx.as<const float>(), dpick.as<const int32_t>(),
                       g.as<float>(), 3, width));
  std::vector<double> gref(3 * width);
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < width; ++c) gref[i * width + c] = x[pick[i] * width + c];
  EXPECT_EQ(relError(download<float>(g, 3 * width), gref), 0.0);

  // Cast: round-to-nearest-even, as the host converters (and every framework) do.
  std::vector<float> cx = randomVector(rng, 1000, -1e3f, 1e3f);
  cx.push_back(1.0f + 1.0f / 256);  // a bf16 tie: rounds to even (1.0)
  auto dcx = upload(cx), dbf = upload(std::vector<uint16_t>(cx.size(), 0xffff)), dhf = upload(std::vector<uint16_t>(cx.size(), 0xffff));
  ASSERT_OK(launchSync(ks.get("llmc_cast_bf16"), dim3(2), dim3(256), 0, dcx.as<const float>(), dbf.get(), uint64_t(cx.size())));
  ASSERT_OK(launchSync(ks.get("llmc_cast_f16"), dim3(2), dim3(256), 0, dcx.as<const float>(), dhf.get(), uint64_t(cx.size())));
  const auto bf = download<uint16_t>(dbf, cx.size()), hf = download<uint16_t>(dhf, cx.size());
  for (size_t i = 0; i < cx.size(); ++i) {
    ASSERT_EQ(bf[i], floatToBf16(cx[i])) << cx[i];
    ASSERT_EQ(hf[i], floatToF16(cx[i])) << cx[i];
  }

  // Argmax with a tie (lowest index wins) and a NaN (never wins).
  const int vocab = 32003, R = 3;
  std::vector<float> logits = randomVector(rng, vocab * R, -10.f, 10.f);
  logits[0 * vocab + 31000] = 50.f;
  logits[1 * vocab + 7] = 60.f;
  logits[1 * vocab + 20000] = 60.f;
  logits[2 * vocab + 5] = std::nanf("");
  logits[2 * vocab + 12345] = 70.f;
  auto dl = upload(logits), di = upload(std::vector<int32_t>(R, -1));
  ASSERT_OK(launchSync(ks.get("llmc_argmax"), dim3(R), dim3(1024), 0, dl.as<const float>(), vocab, di.as<int32_t>()));
  EXPECT_EQ(download<int32_t>(di, R), (std::vector<int32_t>{31000, 7, 12345}));
}

// cuBLASLt as the prefill uses it (LtGemm): bf16 operands, f32 accumulation; an f32 output, and a
// bf16 output (the 16-bit hand-off of the qkv and gate/up projections), with and without bias.
TEST(GpuKernels, LtGemmOutputs) {
  LLMC_REQUIRE_GPU();
  auto gemm = cuda::LtGemm::create(32ull << 20);
  ASSERT_TRUE(gemm.ok()) << gemm.status().message();
  std::mt19937 rng(9);
  const int t = 37, n = 200, k = 512;
  const Stored x = store(DType::kBF16, randomVector(rng, static_cast<size_t>(t) * k));
  const Stored w = store(DType::kBF16, randomVector(rng, static_cast<size_t>(n) * k, -0.1f, 0.1f));
  const std::vector<float> bias = randomVector(rng, n);
  auto dx = upload(x.bytes), dw = upload(w.bytes), db = upload(bias);
  for (int withBias = 0; withBias < 2; ++withBias) {
    std::vector<double> ref(static_cast<size_t>(t) * n);
    for (int r = 0; r < t; ++r)
      for (int c = 0; c < n; ++c) {
        double acc = withBias ? bias[c] : 0.0;
        for (int i = 0; i < k; ++i) acc += x.values[static_cast<size_t>(r) * k + i] * w.values[static_cast<size_t>(c) * k + i];
        ref[static_cast<size_t>(r) * n + c] = acc;
      }
    const float* bp = withBias ? db.as<float>() : nullptr;
    auto y32 = poisoned(ref.size());
    ASSERT_OK((*gemm)->run(DType::kBF16, dx.get(), dw.get(), bp, y32.get(), t, n, k, nullptr, DType::kF32));
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_LT(relError(download<float>(y32, ref.size()), ref), kF32Tol) << "f32 output, bias " << withBias;
    if (withBias) continue;  // the backend hands off only bias-free projections
    auto y16 = upload(std::vector<uint16_t>(ref.size(), 0xffff));
    ASSERT_OK((*gemm)->run(DType::kBF16, dx.get(), dw.get(), nullptr, y16.get(), t, n, k, nullptr, DType::kBF16));
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    const auto bits = download<uint16_t>(y16, ref.size());
    std::vector<float> got(ref.size());
    for (size_t i = 0; i < got.size(); ++i) got[i] = bf16ToFloat(bits[i]);
    EXPECT_LT(relError(got, ref), 4e-3) << "bf16 output";
  }
}

// Host argmax with the sampler's rules: first maximum, NaN never wins, 0 without a finite one.
int32_t hostArgmax(const float* row, int vocab) {
  float best = -std::numeric_limits<float>::infinity();
  int32_t id = 0;
  for (int j = 0; j < vocab; ++j)
    if (row[j] > best) best = row[j], id = j;
  return id;
}

// llmc_argmax_rows (device greedy sampling): a row split over many blocks, the last block reducing
// the partials. Ties inside and across blocks, NaN, -inf rows, the maximum at the ends, row ids
// (the output holds every token's row), and repeated launches (the tickets wrap back to 0).
TEST(GpuKernels, ArgmaxRows) {
  LLMC_REQUIRE_GPU();
  KernelSet ks;
  ASSERT_OK(ks.build({}));
  std::mt19937 rng(77);
  for (int vocab : {128256, 32000, 151936, 4097, 300, 1}) {
    const int rows = 7, chunk = cuda::argmaxChunk(vocab), parts = cuda::argmaxParts(vocab);
    ASSERT_LE(parts, cuda::kArgmaxMaxParts);
    ASSERT_GE(static_cast<int64_t>(chunk) * parts, vocab);
    std::vector<float> logits = randomVector(rng, static_cast<size_t>(rows + 2) * vocab, -20.f, 20.f);
    auto at = [&](int r, int j) -> float& { return logits[static_cast<size_t>(r) * vocab + j]; };
    if (vocab > 1) {
      at(0, vocab - 1) = 99.f;                                          // the last column
      at(1, 0) = 99.f;                                                  // the first column
      at(2, vocab - 1) = 88.f, at(2, vocab / 2) = 88.f, at(2, std::min(vocab - 1, chunk + 1)) = 88.f;  // ties across blocks
      at(3, 5 % vocab) = std::nanf(""), at(3, vocab / 3) = 77.f;        // NaN never wins
      for (int j = 0; j < vocab; ++j) at(4, j) = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < vocab; j += 2) at(5, j) = 3.f;                // a tie in every block
      at(6, vocab - 1) = std::numeric_limits<float>::infinity();
    }
    // Rows taken through rowIds: 8, 0, 3, 5, ... (as the last-token rows of a step).
    const std::vector<int32_t> rowIds = {8, 0, 2, 3, 4, 5, 6};
    auto dl = upload(logits), dids = upload(rowIds);
    auto scratch = upload(std::vector<int32_t>(2 * parts * rows + rows, 0));  // partials, then tickets (zeroed)
    float* partV = scratch.as<float>();
    int32_t* partI = scratch.as<int32_t>() + parts * rows;
    uint32_t* counters = reinterpret_cast<uint32_t*>(scratch.as<int32_t>() + 2 * parts * rows);
    for (int launchNo = 0; launchNo < 3; ++launchNo) {
      const bool viaIds = launchNo == 1;
      auto out = upload(std::vector<int32_t>(rows, -1));
      ASSERT_OK(launchSync(ks.get("llmc_argmax_rows"), dim3(parts, rows), dim3(256), 0, dl.as<const float>(),
                           viaIds ? dids.as<const int32_t>() : static_cast<const int32_t*>(nullptr), vocab, chunk, partV,
                           partI, counters, out.as<int32_t>()));
      const std::vector<int32_t> got = download<int32_t>(out, rows);
      for (int r = 0; r < rows; ++r) {
        const int src = viaIds ? rowIds[r] : r;
        EXPECT_EQ(got[r], hostArgmax(&logits[static_cast<size_t>(src) * vocab], vocab))
            << "vocab " << vocab << " row " << src << " launch " << launchNo;
      }
      EXPECT_EQ(download<uint32_t>(scratch, 2 * parts * rows + rows)[2 * parts * rows], 0u) << "ticket reset";
    }
  }
}

TEST(GpuKernels, Rope) {
  LLMC_REQUIRE_GPU();
  KernelSet ks;
  ASSERT_OK(ks.build({}));
  std::mt19937 rng(6);
  const int T = 6, heads = 5, hd = 128;
  const std::vector<int32_t> pos = {0, 1, 17, 511, 4095, 100000};
  for (int rot : {128, 64}) {
    for (int inter = 0; inter < 2; ++inter) {
      const std::vector<float> inv = invFreqFor(rot, 500000.0);
      const std::vector<float> x = randomVector(rng, T * heads * hd);
      auto dx = upload(x), dpos = upload(pos), dinv = upload(inv), out = poisoned(T * heads * hd);
      ASSERT_OK(launchSync(ks.get("llmc_rope"), dim3(T), dim3(128), 0, dx.as<const float>(), out.as<float>(),
                           dpos.as<const int32_t>(), dinv.as<const float>(), heads, hd, rot, inter));
      std::vector<double> ref(x.begin(), x.end());
      for (int t = 0; t < T; ++t)
        for (int h = 0; h < heads; ++h) ropeRef(&ref[(t * heads + h) * hd], hd, rot, inter, pos[t], inv);
      EXPECT_LT(relError(download<float>(out, ref.size()), ref), kF32Tol) << "rot " << rot << " interleaved " << inter;
    }
  }
}

}  // namespace
}  // namespace llmc::gputest
