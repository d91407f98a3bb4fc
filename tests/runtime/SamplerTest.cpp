// SamplerTest.cpp - the sampler's distribution against a reference written here (HF's processor
// semantics), its draws against that distribution, seeding, and parameter validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "llmc/runtime/Sampler.h"

namespace llmc {
namespace {

// HF order: repetition penalty, temperature, top-k, top-p, min-p (logits distinct: no ties).
std::vector<double> reference(std::vector<double> l, const SamplingParams& p, const std::vector<int32_t>& hist) {
  std::vector<bool> pen(l.size(), false);
  for (int32_t t : hist) pen[t] = true;
  for (size_t i = 0; i < l.size(); ++i)
    if (pen[i]) l[i] = l[i] > 0 ? l[i] / p.repetitionPenalty : l[i] * p.repetitionPenalty;
  for (double& x : l) x /= p.temperature;
  std::vector<bool> keep(l.size(), true);
  std::vector<size_t> idx(l.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return l[a] > l[b]; });
  if (p.topK > 0)
    for (size_t r = p.topK; r < idx.size(); ++r) keep[idx[r]] = false;
  auto softmax = [&]() {
    std::vector<double> q(l.size(), 0.0);
    double mx = -1e300, s = 0;
    for (size_t i = 0; i < l.size(); ++i) if (keep[i]) mx = std::max(mx, l[i]);
    for (size_t i = 0; i < l.size(); ++i) if (keep[i]) s += (q[i] = std::exp(l[i] - mx));
    for (double& x : q) x /= s;
    return q;
  };
  std::vector<double> q = softmax();
  double before = 0;  // top-p: keep a token while the mass before it is below topP
  for (size_t i : idx) {
    if (!keep[i]) continue;
    if (before >= p.topP) keep[i] = false;
    before += q[i];
  }
  q = softmax();
  const double mx = *std::max_element(q.begin(), q.end());
  for (size_t i = 0; i < q.size(); ++i)
    if (q[i] < p.minP * mx) keep[i] = false;
  return softmax();
}

const std::vector<float> kLogits = {1.0f, 3.2f, -0.5f, 2.9f, 0.1f, 2.0f, -2.0f, 0.7f};

TEST(SamplerTest, GreedyIsArgmaxAfterPenalty) {
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(kLogits.data(), 8, {}), 1);
  SamplingParams p;
  p.repetitionPenalty = 1.2f;  // 3.2 / 1.2 < 2.9
  Sampler r(p);
  EXPECT_EQ(r.sample(kLogits.data(), 8, {1, 1, 6}), 3);
  std::vector<float> tie = {0.5f, 2.0f, 2.0f};
  EXPECT_EQ(s.sample(tie.data(), 3, {}), 1);
}

TEST(SamplerTest, DistributionMatchesReference) {
  std::vector<SamplingParams> cases;
  for (float t : {0.5f, 1.0f, 2.0f})
    for (int k : {0, 3})
      for (float tp : {1.0f, 0.8f, 0.3f})
        for (float mp : {0.0f, 0.2f})
          for (float rp : {1.0f, 1.5f}) {
            SamplingParams p;
            p.temperature = t;
            p.topK = k;
            p.topP = tp;
            p.minP = mp;
            p.repetitionPenalty = rp;
            cases.push_back(p);
          }
  const std::vector<int32_t> hist = {1, 2, 2, 7};
  for (const SamplingParams& p : cases) {
    Sampler s(p);
    std::vector<double> got;
    s.distribution(kLogits.data(), 8, hist, &got);
    std::vector<double> want = reference(std::vector<double>(kLogits.begin(), kLogits.end()), p, hist);
    for (size_t i = 0; i < 8; ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-12) << "T=" << p.temperature << " k=" << p.topK << " p=" << p.topP
                                          << " minp=" << p.minP << " rep=" << p.repetitionPenalty << " token " << i;
    }
  }
}

TEST(SamplerTest, DrawsFollowTheDistribution) {
  SamplingParams p;
  p.temperature = 1.3f;
  p.topP = 0.9f;
  p.seed = 123;
  Sampler s(p);
  std::vector<double> probs;
  s.distribution(kLogits.data(), 8, {}, &probs);
  const int n = 40000;
  std::vector<int> counts(8, 0);
  for (int i = 0; i < n; ++i) counts[s.sample(kLogits.data(), 8, {})]++;
  double chi2 = 0;
  int dof = -1;
  for (int i = 0; i < 8; ++i) {
    if (probs[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "filtered token " << i << " drawn";
      continue;
    }
    const double e = probs[i] * n;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
    ++dof;
  }
  // chi-square with <= 7 degrees of freedom: 30 is far beyond the 0.9999 quantile (~29.9 for 7).
  EXPECT_LT(chi2, 30.0) << "dof " << dof;
}

TEST(SamplerTest, SeedsAreDeterministic) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 9;
  auto draw = [&](uint64_t seed) {
    SamplingParams q = p;
    q.seed = seed;
    Sampler s(q);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.sample(kLogits.data(), 8, {}));
    return out;
  };
  EXPECT_EQ(draw(9), draw(9));
  EXPECT_NE(draw(9), draw(10));
}

TEST(SamplerTest, Validation) {
  auto bad = [](auto edit) {
    SamplingParams p;
    edit(p);
    return Sampler::validate(p).code() == StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(Sampler::validate(SamplingParams{}).ok());
  EXPECT_TRUE(bad([](SamplingParams& p) { p.temperature = -1; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.topK = -2; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.topP = 0; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.topP = 1.5f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.minP = -0.1f; }));
  EXPECT_TRUE(bad([](SamplingParams& p) { p.repetitionPenalty = 0; }));
}

}  // namespace
}  // namespace llmc
