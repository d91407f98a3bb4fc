// CpuAttentionTest.cpp - the paged attention kernel against a float64 reference over plain K/V arrays.
//
// Several sequences per step (prefill chunks and single decode tokens), earlier positions already
// in the cache (written here through the documented block layout, not by the kernel), shuffled
// block tables, MHA/GQA/MQA, sliding windows and custom scales.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "CpuKernels.h"
#include "TestUtil.h"
#include "ThreadPool.h"

namespace llmc::cpu {
namespace {

struct Case {
  int nh, nkv, hd;
  int window;
  float scale;  // 0: 1/sqrt(hd)
  int threads;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "nh=" << c.nh << " nkv=" << c.nkv << " hd=" << c.hd << " window=" << c.window << " scale=" << c.scale
      << " threads=" << c.threads;
}

class AttentionTest : public ::testing::TestWithParam<Case> {};

TEST_P(AttentionTest, MatchesReference) {
  const Case c = GetParam();
  const int bs = 4, numBlocks = 40;
  const float scale = c.scale > 0 ? c.scale : 1.0f / std::sqrt(float(c.hd));
  std::mt19937 rng(77 + c.nh * 13 + c.nkv + c.window);
  // (startPos, new tokens) per sequence.
  const std::vector<std::pair<int, int>> shape = {{0, 5}, {7, 1}, {3, 4}, {13, 1}};
  const int kvw = c.nkv * c.hd, qw = c.nh * c.hd;

  std::vector<float> cache(size_t(numBlocks) * 2 * c.nkv * bs * c.hd, std::numeric_limits<float>::quiet_NaN());
  KVLayerView view{cache.data(), numBlocks, bs, c.nkv, c.hd};
  auto slot = [&](int block, int kv, int head, int s) {  // [block, 2, nkv, bs, hd], written out here
    return cache.data() + (((size_t(block) * 2 + kv) * c.nkv + head) * bs + s) * c.hd;
  };
  std::vector<int32_t> perm(numBlocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng);

  std::vector<SequenceSlice> seqs;
  std::vector<std::vector<float>> allK, allV;  // per sequence [positions, kvw]
  std::vector<float> q, k, v;
  int used = 0, T = 0;
  for (auto [start, n] : shape) {
    SequenceSlice s;
    s.tokenBegin = T;
    s.tokenCount = n;
    s.startPos = start;
    const int blocks = (start + n + bs - 1) / bs;
    s.blockTable.assign(perm.begin() + used, perm.begin() + used + blocks);
    used += blocks;
    auto K = test::randomVector(rng, size_t(start + n) * kvw), V = test::randomVector(rng, size_t(start + n) * kvw);
    for (int p = 0; p < start; ++p)  // the cache already holds positions < start
      for (int h = 0; h < c.nkv; ++h)
        for (int d = 0; d < c.hd; ++d) {
          slot(s.blockTable[p / bs], 0, h, p % bs)[d] = K[size_t(p) * kvw + h * c.hd + d];
          slot(s.blockTable[p / bs], 1, h, p % bs)[d] = V[size_t(p) * kvw + h * c.hd + d];
        }
    k.insert(k.end(), K.begin() + size_t(start) * kvw, K.end());
    v.insert(v.end(), V.begin() + size_t(start) * kvw, V.end());
    auto Q = test::randomVector(rng, size_t(n) * qw, -2, 2);
    q.insert(q.end(), Q.begin(), Q.end());
    allK.push_back(K);
    allV.push_back(V);
    seqs.push_back(s);
    T += n;
  }

  std::unique_ptr<ThreadPool> pool;
  if (c.threads > 0) pool = std::make_unique<ThreadPool>(c.threads);
  std::vector<float> out(size_t(T) * qw, std::numeric_limits<float>::quiet_NaN());
  attention(q.data(), k.data(), v.data(), seqs, view, c.nh, scale, c.window, out.data(), pool.get());

  std::vector<double> want(out.size());
  for (size_t si = 0; si < seqs.size(); ++si) {
    const SequenceSlice& s = seqs[si];
    for (int j = 0; j < s.tokenCount; ++j) {
      const int t = s.tokenBegin + j, p = s.startPos + j;
      for (int h = 0; h < c.nh; ++h) {
        const int kvh = h * c.nkv / c.nh;
        std::vector<double> sc;
        std::vector<int> keys;
        for (int kp = 0; kp <= p; ++kp) {
          if (c.window > 0 && p - kp >= c.window) continue;
          double d = 0;
          for (int e = 0; e < c.hd; ++e) d += double(q[size_t(t) * qw + h * c.hd + e]) * allK[si][size_t(kp) * kvw + kvh * c.hd + e];
          sc.push_back(d * scale);
          keys.push_back(kp);
        }
        double mx = *std::max_element(sc.begin(), sc.end()), sum = 0;
        for (double& x : sc) sum += (x = std::exp(x - mx));
        for (int e = 0; e < c.hd; ++e) {
          double acc = 0;
          for (size_t i = 0; i < keys.size(); ++i) acc += sc[i] / sum * allV[si][size_t(keys[i]) * kvw + kvh * c.hd + e];
          want[size_t(t) * qw + h * c.hd + e] = acc;
        }
      }
    }
  }
  EXPECT_LE(test::worstError(out, want, 2e-6, 2e-5), 1.0);

  // The new k, v rows landed in their slots.
  for (size_t si = 0; si < seqs.size(); ++si) {
    const SequenceSlice& s = seqs[si];
    for (int p = s.startPos; p < s.startPos + s.tokenCount; ++p)
      for (int h = 0; h < c.nkv; ++h)
        for (int d = 0; d < c.hd; ++d) {
          ASSERT_EQ(slot(s.blockTable[p / bs], 0, h, p % bs)[d], allK[si][size_t(p) * kvw + h * c.hd + d]);
          ASSERT_EQ(slot(s.blockTable[p / bs], 1, h, p % bs)[d], allV[si][size_t(p) * kvw + h * c.hd + d]);
        }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionTest,
                         ::testing::Values(Case{4, 4, 8, 0, 0, 0}, Case{4, 2, 8, 0, 0, 3}, Case{6, 1, 16, 0, 0, 2},
                                           Case{4, 2, 8, 3, 0, 3}, Case{8, 2, 4, 5, 0.3f, 0},
                                           Case{2, 2, 32, 1, 0, 2}));

}  // namespace
}  // namespace llmc::cpu
