// GpuNormFusionTest.cpp - decode's residual-add + RMSNorm folded into the GEMVs around it
// (gemv.cuh GemvNormOut / GemvIn; runtime/backends/cuda/NormFusion.cpp), label `gpu`.
//
// The producer GEMV (o_proj / down_proj) with a GemvNormOut, then a consumer (plain GEMV and
// GEMV-GLU) with a GemvIn, against float64: s = r + x·Wpᵀ + bp, y = s / sqrt(mean(s²) + eps) *
// (w + offset), out = y·Wcᵀ + bc. Also: the producer's per-block partial sums of s² add up to
// sum(s²), the residual stream updated in place (s over r), and a second launch bit-identical to
// the first (the consumer adds the partials in a fixed order, not in arrival order). Outputs and
// partials poisoned with NaN before each launch.
#include <cmath>

#include "GpuTestUtil.h"

namespace llmc::gputest {
namespace {

using cuda::KernelKind;
using engine::DType;

struct FoldCase {
  DType dt;
  int k;      // producer input width
  int h;      // hidden width (producer rows, consumer input width)
  int n;      // consumer rows (GLU: 2 * inner)
  int m;      // rows (tokens)
  bool unitOffset;
  bool inPlace;  // s written over r
};

class NormFoldTest : public ::testing::TestWithParam<FoldCase> {};

TEST_P(NormFoldTest, MatchesFloat64) {
  LLMC_REQUIRE_GPU();
  const FoldCase c = GetParam();
  KernelSet ks;
  std::vector<cuda::KernelSpec> specs = {{KernelKind::kGemv, c.dt, c.k, c.m},
                                         {KernelKind::kGemv, c.dt, c.h, c.m},
                                         {KernelKind::kGemvGlu, c.dt, c.h, c.m, cuda::kGluSilu}};
  const bool pair = c.h % cuda::gemvRowsBlockRows(2) == 0;  // the two-rows-per-warp producer
  if (pair) specs.push_back({KernelKind::kGemvPair, c.dt, c.k, c.m});
  ASSERT_OK(ks.build(specs));
  std::mt19937 rng(3000 + c.k + c.h + c.m);
  const std::vector<float> x = randomVector(rng, static_cast<size_t>(c.m) * c.k);
  const Stored wp = store(c.dt, randomVector(rng, static_cast<size_t>(c.h) * c.k, -0.05f, 0.05f));
  const std::vector<float> bp = randomVector(rng, c.h);
  const std::vector<float> r = randomVector(rng, static_cast<size_t>(c.m) * c.h, -2.f, 2.f);
  const std::vector<float> normW = randomVector(rng, c.h, 0.5f, 1.5f);
  const Stored wc = store(c.dt, randomVector(rng, static_cast<size_t>(c.n) * c.h, -0.05f, 0.05f));
  const std::vector<float> bc = randomVector(rng, c.n);
  const float eps = 1e-5f, offset = c.unitOffset ? 1.f : 0.f;

  // float64 reference.
  std::vector<double> s(static_cast<size_t>(c.m) * c.h), y(s.size()), ss(c.m, 0.0);
  for (int m = 0; m < c.m; ++m) {
    for (int j = 0; j < c.h; ++j) {
      double a = bp[j];
      for (int k = 0; k < c.k; ++k) a += static_cast<double>(x[m * c.k + k]) * wp.values[static_cast<size_t>(j) * c.k + k];
      s[static_cast<size_t>(m) * c.h + j] = a + r[static_cast<size_t>(m) * c.h + j];
      ss[m] += s[static_cast<size_t>(m) * c.h + j] * s[static_cast<size_t>(m) * c.h + j];
    }
    const double inv = 1.0 / std::sqrt(ss[m] / c.h + eps);
    for (int j = 0; j < c.h; ++j)
      y[static_cast<size_t>(m) * c.h + j] = s[static_cast<size_t>(m) * c.h + j] * inv * (normW[j] + offset);
  }
  auto linear = [&](int rows, const Stored& w, const std::vector<float>& b) {
    std::vector<double> out(static_cast<size_t>(c.m) * rows);
    for (int m = 0; m < c.m; ++m)
      for (int j = 0; j < rows; ++j) {
        double a = b[j];
        for (int k = 0; k < c.h; ++k) a += y[static_cast<size_t>(m) * c.h + k] * w.values[static_cast<size_t>(j) * c.h + k];
        out[static_cast<size_t>(m) * rows + j] = a;
      }
    return out;
  };
  const std::vector<double> outRef = linear(c.n, wc, bc);

  auto dx = upload(x), dwp = upload(wp.bytes), dbp = upload(bp), dr = upload(r), dnw = upload(normW);
  auto dwc = upload(wc.bytes), dbc = upload(bc);
  const int blocks = (c.h + cuda::kGemvRowsPerBlock - 1) / cuda::kGemvRowsPerBlock;
  std::vector<float> firstS, firstOut;
  for (int run = 0; run < 2; ++run) {
    auto stats = poisoned(static_cast<size_t>(c.m) * blocks);
    auto sOut = poisoned(static_cast<size_t>(c.m) * c.h);
    if (c.inPlace) ASSERT_EQ(cudaMemcpy(sOut.get(), r.data(), r.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
    auto xw = poisoned(static_cast<size_t>(c.m) * c.h);
    cuda::GemvNormOutArgs no;
    no.residual = c.inPlace ? sOut.as<float>() : dr.as<float>();
    no.normW = dnw.as<float>();
    no.normOffset = offset;
    no.xw = xw.as<float>();
    no.partials = stats.as<float>();
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemv, c.dt, c.k, c.m}), dim3(blocks), dim3(128), 0, dx.as<const float>(),
                         static_cast<const void*>(dwp.get()), dbp.as<const float>(), sOut.as<float>(), c.h,
                         cuda::GemvInArgs{}, no));
    const std::vector<float> gotS = download<float>(sOut, s.size());
    EXPECT_LT(relError(gotS, s), kF32Tol) << "run " << run;
    const std::vector<float> parts = download<float>(stats, static_cast<size_t>(c.m) * blocks);
    std::vector<double> partSums(c.m, 0.0);
    for (int b = 0; b < blocks; ++b)
      for (int m = 0; m < c.m; ++m) partSums[m] += parts[static_cast<size_t>(b) * c.m + m];
    EXPECT_LT(relError(std::vector<float>(partSums.begin(), partSums.end()), ss), kF32Tol) << "run " << run;

    cuda::GemvInArgs ni;
    ni.ssParts = stats.as<float>();
    ni.nParts = blocks;
    ni.eps = eps;
    auto out = poisoned(static_cast<size_t>(c.m) * c.n);
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemv, c.dt, c.h, c.m}), dim3((c.n + 3) / 4), dim3(128), 0,
                         xw.as<const float>(), static_cast<const void*>(dwc.get()), dbc.as<const float>(), out.as<float>(),
                         c.n, ni, cuda::GemvNormOutArgs{}));
    const std::vector<float> gotOut = download<float>(out, outRef.size());
    EXPECT_LT(relError(gotOut, outRef), kF32Tol) << "run " << run;
    // The partials copied into shared memory right after the wait (GemvInArgs::earlyParts): the
    // same additions in the same order, so the same bits.
    // (Batch 1-2 only: kGemvEarlyPartsMaxRows.)
    const bool earlyRows = c.m <= cuda::kGemvEarlyPartsMaxRows;
    cuda::GemvInArgs early = ni;
    early.earlyParts = 1;
    if (earlyRows) {
      auto outEarly = poisoned(static_cast<size_t>(c.m) * c.n);
      ASSERT_OK(launchSync(ks.get({KernelKind::kGemv, c.dt, c.h, c.m}), dim3((c.n + 3) / 4), dim3(128),
                           cuda::gemvSmemBytes(early, c.m), xw.as<const float>(), static_cast<const void*>(dwc.get()),
                           dbc.as<const float>(), outEarly.as<float>(), c.n, early, cuda::GemvNormOutArgs{}));
      EXPECT_EQ(download<float>(outEarly, outRef.size()), gotOut) << "run " << run << ", partials copied early";
    }

    // The GLU consumer: act(gate) * up over the same normalised rows.
    const int inner = c.n / 2;
    auto glu = poisoned(static_cast<size_t>(c.m) * inner);
    ASSERT_OK(launchSync(ks.get({KernelKind::kGemvGlu, c.dt, c.h, c.m, cuda::kGluSilu}), dim3((inner + 3) / 4), dim3(128),
                         0, xw.as<const float>(), static_cast<const void*>(dwc.get()), dbc.as<const float>(),
                         glu.as<float>(), inner, ni));
    std::vector<double> gluRef(static_cast<size_t>(c.m) * inner);
    for (int m = 0; m < c.m; ++m)
      for (int j = 0; j < inner; ++j) {
        const double g = outRef[static_cast<size_t>(m) * c.n + j], u = outRef[static_cast<size_t>(m) * c.n + inner + j];
        gluRef[static_cast<size_t>(m) * inner + j] = g / (1 + std::exp(-g)) * u;
      }
    const std::vector<float> gotGlu = download<float>(glu, gluRef.size());
    EXPECT_LT(relError(gotGlu, gluRef), kF32Tol) << "run " << run;
    if (earlyRows) {
      auto gluEarly = poisoned(static_cast<size_t>(c.m) * inner);
      ASSERT_OK(launchSync(ks.get({KernelKind::kGemvGlu, c.dt, c.h, c.m, cuda::kGluSilu}), dim3((inner + 3) / 4),
                           dim3(128), cuda::gemvSmemBytes(early, c.m), xw.as<const float>(),
                           static_cast<const void*>(dwc.get()), dbc.as<const float>(), gluEarly.as<float>(), inner, early));
      EXPECT_EQ(download<float>(gluEarly, gluRef.size()), gotGlu) << "run " << run << ", GLU, partials copied early";
    }

    // The producer with two rows per warp (gemvRowsBody, h % 8 == 0; LLMC_CUDA_GEMV_PAIR=o_proj,down):
    // each row's s and s ∘ w are the one-row kernel's bits; a block's partial covers 8 rows, so
    // the consumer adds h / 8 of them (the same squares summed in another order: within the
    // tolerance).
    if (pair) {
      const int pairBlocks = c.h / cuda::gemvRowsBlockRows(2);
      auto pStats = poisoned(static_cast<size_t>(c.m) * pairBlocks);
      auto pS = poisoned(static_cast<size_t>(c.m) * c.h);
      if (c.inPlace) ASSERT_EQ(cudaMemcpy(pS.get(), r.data(), r.size() * 4, cudaMemcpyHostToDevice), cudaSuccess);
      auto pXw = poisoned(static_cast<size_t>(c.m) * c.h);
      cuda::GemvNormOutArgs pno = no;
      pno.residual = c.inPlace ? pS.as<float>() : dr.as<float>();
      pno.xw = pXw.as<float>();
      pno.partials = pStats.as<float>();
      ASSERT_OK(launchSync(ks.get({KernelKind::kGemvPair, c.dt, c.k, c.m}), dim3(pairBlocks), dim3(128), 0,
                           dx.as<const float>(), static_cast<const void*>(dwp.get()), dbp.as<const float>(),
                           pS.as<float>(), c.h, cuda::GemvInArgs{}, pno));
      EXPECT_EQ(download<float>(pS, s.size()), gotS) << "run " << run << ", two rows per warp: s";
      EXPECT_EQ(download<float>(pXw, s.size()), download<float>(xw, s.size())) << "run " << run << ", two rows per warp: s * w";
      cuda::GemvInArgs pni = ni;
      pni.ssParts = pStats.as<float>();
      pni.nParts = pairBlocks;
      auto pOut = poisoned(static_cast<size_t>(c.m) * c.n);
      ASSERT_OK(launchSync(ks.get({KernelKind::kGemv, c.dt, c.h, c.m}), dim3((c.n + 3) / 4), dim3(128), 0,
                           pXw.as<const float>(), static_cast<const void*>(dwc.get()), dbc.as<const float>(),
                           pOut.as<float>(), c.n, pni, cuda::GemvNormOutArgs{}));
      EXPECT_LT(relError(download<float>(pOut, outRef.size()), outRef), kF32Tol) << "run " << run << ", two rows per warp";
    }

    if (run == 0) {
      firstS = gotS;
      firstOut = gotOut;
    } else {
      EXPECT_EQ(gotS, firstS) << "a second launch must give the same bits";
      EXPECT_EQ(gotOut, firstOut) << "a second launch must give the same bits";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, NormFoldTest,
    ::testing::Values(FoldCase{DType::kBF16, 4096, 4096, 512, 1, false, true},
                      FoldCase{DType::kBF16, 11008, 4096, 256, 1, false, false},
                      FoldCase{DType::kBF16, 1024, 2048, 128, 8, true, true},
                      FoldCase{DType::kF16, 512, 1024, 64, 3, false, false},
                      FoldCase{DType::kF32, 172, 64, 96, 5, true, true},
                      FoldCase{DType::kBF16, 40, 30, 14, 2, false, false}));

}  // namespace
}  // namespace llmc::gputest
