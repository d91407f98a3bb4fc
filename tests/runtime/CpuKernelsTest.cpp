// CpuKernelsTest.cpp - each CPU kernel (except attention: CpuAttentionTest.cpp) against a float64
// reference written here. Inputs are random; outputs start poisoned with NaN so an unwritten element
// fails; tolerances are stated per test (f32 kernels vs exact math).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "CpuKernels.h"
#include "TestUtil.h"
#include "ThreadPool.h"

namespace llmc::cpu {
namespace {

using test::randomVector;
using test::worstError;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
std::vector<float> poisoned(size_t n) { return std::vector<float>(n, kNaN); }

class KernelTest : public ::testing::TestWithParam<int> {  // param: pool threads (0 = no pool)
 protected:
  void SetUp() override {
    if (GetParam() > 0) pool_ = std::make_unique<ThreadPool>(GetParam());
  }
  ThreadPool* pool() { return pool_.get(); }
  std::mt19937 rng{1234};
  std::unique_ptr<ThreadPool> pool_;
};

TEST_P(KernelTest, Embedding) {
  const int64_t V = 50, H = 37, T = 11;
  auto table = randomVector(rng, V * H);
  std::vector<int32_t> ids = {0, 49, 3, 3, 17, 25, 1, 48, 0, 9, 30};
  for (float scale : {1.0f, 2.5f}) {
    auto out = poisoned(T * H);
    embedding(ids.data(), T, table.data(), H, scale, out.data(), pool());
    std::vector<double> want(T * H);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < H; ++i) want[t * H + i] = double(table[ids[t] * H + i]) * scale;
    EXPECT_LE(worstError(out, want, 1e-7, 1e-6), 1.0);
  }
}

TEST_P(KernelTest, PositionEmbedding) {
  const int64_t P = 40, H = 24, T = 9;
  auto table = randomVector(rng, P * H), x = randomVector(rng, T * H);
  std::vector<int32_t> pos = {0, 1, 2, 39, 5, 6, 7, 20, 21};
  auto out = poisoned(T * H);
  positionEmbedding(x.data(), T, H, table.data(), pos.data(), out.data(), pool());
  std::vector<double> want(T * H);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < H; ++i) want[t * H + i] = double(x[t * H + i]) + table[pos[t] * H + i];
  EXPECT_LE(worstError(out, want, 1e-6, 1e-6), 1.0);
}

std::vector<double> rmsRef(const std::vector<float>& x, int64_t T, int64_t H, const std::vector<float>& w, double eps,
                           bool unit) {
  std::vector<double> y(T * H);
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < H; ++i) ss += double(x[t * H + i]) * x[t * H + i];
    double r = 1.0 / std::sqrt(ss / H + eps);
    for (int64_t i = 0; i < H; ++i) y[t * H + i] = x[t * H + i] * r * (w[i] + (unit ? 1.0 : 0.0));
  }
  return y;
}

TEST_P(KernelTest, RmsNorm) {
  const int64_t T = 13, H = 67;
  auto x = randomVector(rng, T * H, -3, 3), w = randomVector(rng, H, 0.5, 1.5);
  for (bool unit : {false, true}) {
    auto out = poisoned(T * H);
    rmsNorm(x.data(), T, H, w.data(), 1e-5f, unit, out.data(), pool());
    EXPECT_LE(worstError(out, rmsRef(x, T, H, w, 1e-5, unit), 1e-6, 2e-6), 1.0) << "unit_offset " << unit;
    // In place.
    auto y = x;
    rmsNorm(y.data(), T, H, w.data(), 1e-5f, unit, y.data(), pool());
    EXPECT_LE(worstError(y, rmsRef(x, T, H, w, 1e-5, unit), 1e-6, 2e-6), 1.0);
  }
  // eps matters for tiny rows.
  std::vector<float> tiny(H, 1e-4f);
  auto out = poisoned(H);
  rmsNorm(tiny.data(), 1, H, w.data(), 1e-2f, false, out.data(), pool());
  EXPECT_LE(worstError(out, rmsRef(tiny, 1, H, w, 1e-2, false), 1e-7, 2e-6), 1.0);
}

TEST_P(KernelTest, AddRmsNorm) {
  const int64_t T = 6, H = 40;
  auto x = randomVector(rng, T * H, -2, 2), r = randomVector(rng, T * H, -2, 2), w = randomVector(rng, H, 0.5, 1.5);
  std::vector<float> sumF(T * H);
  std::vector<double> sumD(T * H);
  for (int64_t i = 0; i < T * H; ++i) {
    sumD[i] = double(x[i]) + r[i];
    sumF[i] = x[i] + r[i];
  }
  for (bool unit : {false, true}) {
    auto sum = poisoned(T * H), out = poisoned(T * H);
    addRmsNorm(x.data(), r.data(), T, H, w.data(), 1e-6f, unit, sum.data(), out.data(), pool());
    EXPECT_LE(worstError(sum, sumD, 1e-6, 1e-6), 1.0);
    EXPECT_LE(worstError(out, rmsRef(sumF, T, H, w, 1e-6, unit), 1e-6, 2e-6), 1.0);
  }
  // sum written over x, normalised output over the residual (both exact aliases).
  auto a = x, b = r;
  addRmsNorm(a.data(), b.data(), T, H, w.data(), 1e-6f, false, a.data(), b.data(), pool());
  EXPECT_LE(worstError(a, sumD, 1e-6, 1e-6), 1.0);
  EXPECT_LE(worstError(b, rmsRef(sumF, T, H, w, 1e-6, false), 1e-6, 2e-6), 1.0);
}

TEST_P(KernelTest, LayerNorm) {
  const int64_t T = 7, H = 50;
  // An offset mean checks the two-pass variance.
  auto x = randomVector(rng, T * H, 9, 11), w = randomVector(rng, H, 0.5, 1.5), bias = randomVector(rng, H);
  for (bool withBias : {false, true}) {
    auto out = poisoned(T * H);
    layerNorm(x.data(), T, H, w.data(), withBias ? bias.data() : nullptr, 1e-5f, out.data(), pool());
    std::vector<double> want(T * H);
    for (int64_t t = 0; t < T; ++t) {
      double m = 0, v = 0;
      for (int64_t i = 0; i < H; ++i) m += x[t * H + i];
      m /= H;
      for (int64_t i = 0; i < H; ++i) v += (x[t * H + i] - m) * (x[t * H + i] - m);
      v /= H;
      for (int64_t i = 0; i < H; ++i)
        want[t * H + i] = (x[t * H + i] - m) / std::sqrt(v + 1e-5) * w[i] + (withBias ? bias[i] : 0.0);
    }
    EXPECT_LE(worstError(out, want, 2e-5, 2e-5), 1.0) << "bias " << withBias;
  }
}

TEST_P(KernelTest, Linear) {
  for (auto [T, K, N] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{{1, 64, 96}, {7, 33, 19}, {40, 128, 5}}) {
    auto x = randomVector(rng, T * K), w = randomVector(rng, N * K), bias = randomVector(rng, N);
    for (bool withBias : {false, true}) {
      auto out = poisoned(T * N);
      linear(x.data(), T, K, w.data(), withBias ? bias.data() : nullptr, N, out.data());
      std::vector<double> want(T * N);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t n = 0; n < N; ++n) {
          double s = withBias ? bias[n] : 0.0;
          for (int64_t k = 0; k < K; ++k) s += double(x[t * K + k]) * w[n * K + k];
          want[t * N + n] = s;
        }
      // f32 dot products of length K with |terms| <= 1: error grows like sqrt(K) * eps.
      EXPECT_LE(worstError(out, want, 1e-6 * K, 1e-5), 1.0) << T << "x" << K << "x" << N;
    }
  }
}

TEST_P(KernelTest, CopyColumns) {
  const int64_t T = 5, W = 12;
  auto x = randomVector(rng, T * W);
  auto out = poisoned(T * 4);
  copyColumns(x.data(), T, W, 7, 4, out.data());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(out[t * 4 + i], x[t * W + 7 + i]);
}

std::vector<double> ropeRef(const std::vector<float>& x, int64_t T, int64_t nh, int64_t hd, int64_t rd,
                            const std::vector<float>& inv, bool inter, const std::vector<int32_t>& pos) {
  std::vector<double> y(x.begin(), x.end());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < nh; ++h) {
      double* v = y.data() + t * nh * hd + h * hd;
      const float* src = x.data() + t * nh * hd + h * hd;
      for (int64_t i = 0; i < rd / 2; ++i) {
        double ang = double(pos[t]) * double(inv[i]);
        int64_t a = inter ? 2 * i : i, b = inter ? 2 * i + 1 : i + rd / 2;
        v[a] = src[a] * std::cos(ang) - src[b] * std::sin(ang);
        v[b] = src[b] * std::cos(ang) + src[a] * std::sin(ang);
      }
    }
  return y;
}

TEST_P(KernelTest, Rope) {
  const int64_t T = 6, nh = 3;
  std::vector<int32_t> pos = {0, 1, 2, 100, 4095, 70000};
  for (auto [hd, rd] : std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {16, 8}, {12, 4}}) {
    std::vector<float> inv;
    for (int64_t i = 0; i < rd / 2; ++i) inv.push_back(float(std::pow(10000.0, -2.0 * i / rd)));
    auto x = randomVector(rng, T * nh * hd);
    for (bool inter : {false, true}) {
      auto want = ropeRef(x, T, nh, hd, rd, inv, inter, pos);
      auto out = poisoned(x.size());
      rope(x.data(), T, nh, hd, rd, inv.data(), inter, pos.data(), out.data(), pool());
      EXPECT_LE(worstError(out, want, 2e-6, 2e-6), 1.0) << hd << "/" << rd << " interleaved " << inter;
      auto y = x;
      rope(y.data(), T, nh, hd, rd, inv.data(), inter, pos.data(), y.data(), pool());
      EXPECT_LE(worstError(y, want, 2e-6, 2e-6), 1.0);
    }
  }
}

double siluD(double x) { return x / (1 + std::exp(-x)); }
double geluD(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }
double geluTanhD(double x) {
  return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

TEST_P(KernelTest, Activations) {
  const int64_t n = 40000;  // above the elementwise grain: runs on several threads
  auto x = randomVector(rng, n, -8, 8), y = randomVector(rng, n, -2, 2);
  std::vector<double> ws(n), wg(n), wt(n), wa(n), wm(n);
  for (int64_t i = 0; i < n; ++i) {
    ws[i] = siluD(x[i]);
    wg[i] = geluD(x[i]);
    wt[i] = geluTanhD(x[i]);
    wa[i] = double(x[i]) + y[i];
    wm[i] = double(x[i]) * y[i];
  }
  auto out = poisoned(n);
  silu(x.data(), n, out.data(), pool());
  EXPECT_LE(worstError(out, ws, 1e-6, 1e-5), 1.0);
  out = poisoned(n);
  gelu(x.data(), n, GeluApprox::kNone, out.data(), pool());
  EXPECT_LE(worstError(out, wg, 1e-6, 1e-5), 1.0);
  out = poisoned(n);
  gelu(x.data(), n, GeluApprox::kTanh, out.data(), pool());
  EXPECT_LE(worstError(out, wt, 1e-6, 1e-5), 1.0);
  out = poisoned(n);
  add(x.data(), y.data(), n, out.data(), pool());
  EXPECT_LE(worstError(out, wa, 1e-6, 1e-6), 1.0);
  out = poisoned(n);
  mul(x.data(), y.data(), n, out.data(), pool());
  EXPECT_LE(worstError(out, wm, 1e-6, 1e-6), 1.0);
  // erf and tanh forms differ measurably: the test would notice a swapped approximation.
  EXPECT_GT(std::fabs(geluD(-1.5) - geluTanhD(-1.5)), 1e-5);
}

TEST_P(KernelTest, Glu) {
  const int64_t T = 9, I = 33;
  auto x = randomVector(rng, T * 2 * I, -4, 4);
  for (GluActivation act : {GluActivation::kSilu, GluActivation::kGeluTanh, GluActivation::kGelu}) {
    auto out = poisoned(T * I);
    glu(x.data(), T, I, act, out.data(), pool());
    std::vector<double> want(T * I);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < I; ++i) {
        double g = x[t * 2 * I + i], u = x[t * 2 * I + I + i];
        double a = act == GluActivation::kSilu ? siluD(g) : act == GluActivation::kGeluTanh ? geluTanhD(g) : geluD(g);
        want[t * I + i] = a * u;
      }
    EXPECT_LE(worstError(out, want, 1e-6, 1e-5), 1.0) << int(act);
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, KernelTest, ::testing::Values(0, 3));

TEST(ThreadPoolTest, CoversEveryIndexOnce) {
  ThreadPool pool(4);
  for (int64_t n : {1, 7, 1000, 100003}) {
    std::vector<std::atomic<int>> hits(n);
    for (auto& h : hits) h = 0;
    pool.parallelFor(n, 3, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
      // Nested loops run inline instead of deadlocking.
      pool.parallelFor(2, 1, [](int64_t, int64_t) {});
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
  }
}

}  // namespace
}  // namespace llmc::cpu
