// GpuSamplingTest.cpp - the device sampling kernels (sample.cuh through GpuSampler) against the
// host Sampler, the reference: for the same logits, history, parameters and uniform, the device
// must pick the token Sampler::sampleWith picks (label `gpu`).
//
// Rows are random (normal logits of several spreads, so top-p keeps from a handful to most of the
// vocabulary), at vocab 32000 and 151936; every option alone and combined; rows with many exact
// ties (quantised logits, a constant row, -0 next to +0) so the cuts fall inside tie groups; several
// rows per launch with their own histories and uniforms; the scratch and the output poisoned before
// each launch. A mismatch prints both tokens' probabilities under the host's distribution, to tell
// a real bug from a summation-order boundary (docs/cuda.md "Sampling").
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

#include "GpuSampler.h"
#include "GpuTestUtil.h"
#include "llmc/runtime/Sampler.h"

namespace llmc::gputest {
namespace {

// The kernels, compiled once for the suite (every fixed kernel is in each KernelSet).
class GpuSampling : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!haveDevice()) return;
    kernels_ = new KernelSet;
    const Status s = kernels_->build({});
    if (!s.ok()) {
      buildError_ = s.message();
      delete kernels_;
      kernels_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    delete kernels_;
    kernels_ = nullptr;
  }
  static KernelSet* kernels_;
  static std::string buildError_;
};
KernelSet* GpuSampling::kernels_ = nullptr;
std::string GpuSampling::buildError_;

struct Row {
  std::vector<float> logits;
  std::vector<int32_t> history;
  double u = 0;
};

// The device's tokens for `rows` (one launch), through the same GpuSampler the backend uses.
Status deviceSample(KernelSet& ks, const SamplingParams& params, const std::vector<Row>& rows, int vocab,
                    std::vector<int32_t>* out) {
  cuda::GpuSampler sampler;
  int64_t maxHistory = 1;
  for (const Row& r : rows) maxHistory = std::max<int64_t>(maxHistory, static_cast<int64_t>(r.history.size()));
  const int n = static_cast<int>(rows.size());
  LLMC_RETURN_IF_ERROR(sampler.prepare(ks.get("llmc_sample_prep"), ks.get("llmc_sample_select"), n, vocab, maxHistory));
  if (!sampler.available()) return Internal("sampler not available");
  std::vector<float> flat;
  std::vector<SampleRow> sr(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    flat.insert(flat.end(), rows[i].logits.begin(), rows[i].logits.end());
    sr[i].history = &rows[i].history;
    sr[i].uniform = rows[i].u;
  }
  auto dl = upload(flat);
  // Poison: NaN doubles in l / p / the partials, and ids nobody would pick.
  LLMC_RETURN_IF_ERROR(cuda::cudaStatus(cudaMemset(sampler.scratch().get(), 0xff, sampler.scratch().bytes()), "poison"));
  LLMC_RETURN_IF_ERROR(sampler.stage(params, sr, 0));
  auto plain = [](cudaKernel_t k, dim3 grid, dim3 block, const char*, auto... args) {
    void* argv[] = {static_cast<void*>(&args)...};
    return cuda::cudaStatus(cudaLaunchKernel(reinterpret_cast<const void*>(k), grid, block, argv, 0, 0), "launch");
  };
  LLMC_RETURN_IF_ERROR(sampler.enqueue(plain, dl.as<const float>(), nullptr, n));
  LLMC_RETURN_IF_ERROR(cuda::cudaStatus(cudaDeviceSynchronize(), "sampling kernels"));
  out->resize(rows.size());
  return cuda::cudaStatus(cudaMemcpy(out->data(), sampler.tokens(), rows.size() * 4, cudaMemcpyDeviceToHost), "download");
}

// Compares the device with Sampler::sampleWith on every row; returns the number of mismatches.
int compare(KernelSet& ks, const SamplingParams& params, const std::vector<Row>& rows, int vocab,
            const std::string& what) {
  std::vector<int32_t> got;
  const Status s = deviceSample(ks, params, rows, vocab, &got);
  EXPECT_TRUE(s.ok()) << what << ": " << s.message();
  if (!s.ok()) return static_cast<int>(rows.size());
  const Sampler ref(params);
  int bad = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int32_t want = ref.sampleWith(rows[i].logits.data(), vocab, rows[i].history, rows[i].u);
    if (got[i] == want) continue;
    ++bad;
    std::vector<double> probs;
    ref.distribution(rows[i].logits.data(), vocab, rows[i].history, &probs);
    const bool inRange = got[i] >= 0 && got[i] < vocab;
    ADD_FAILURE() << what << " row " << i << ": device " << got[i] << " (p "
                  << (inRange ? probs[got[i]] : -1.0) << "), host " << want << " (p " << probs[want]
                  << "), u " << rows[i].u;
  }
  return bad;
}

std::vector<float> normalRow(std::mt19937_64& rng, int vocab, float sigma) {
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(vocab);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<int32_t> randomHistory(std::mt19937_64& rng, int n, int vocab) {
  std::uniform_int_distribution<int32_t> d(0, vocab - 1);
  std::vector<int32_t> h(n);
  for (int32_t& t : h) t = d(rng);
  if (n > 4) h[n - 1] = h[0];  // a repeated token: penalised once
  return h;
}

// Rows of one launch: random logits, histories and uniforms (the uniform from a seeded Sampler,
// as the Generator draws it).
std::vector<Row> randomRows(uint64_t seed, int vocab, int n, float sigma) {
  std::mt19937_64 rng(seed);
  SamplingParams sp;
  sp.seed = seed;
  Sampler draws(sp);
  std::vector<Row> rows(n);
  for (Row& r : rows) {
    r.logits = normalRow(rng, vocab, sigma);
    r.history = randomHistory(rng, 1 + static_cast<int>(rng() % 300), vocab);
    // Put the history where it matters: some of its tokens among the largest logits.
    for (size_t j = 0; j < r.history.size(); j += 7) r.logits[r.history[j]] = std::abs(r.logits[r.history[j]]) + 2.f * sigma;
    r.u = draws.nextUniform();
  }
  return rows;
}

struct Option {
  const char* name;
  SamplingParams p;
};

std::vector<Option> options() {
  auto make = [](float t, int k, float topP, float minP, float rp) {
    SamplingParams p;
    p.temperature = t;
    p.topK = k;
    p.topP = topP;
    p.minP = minP;
    p.repetitionPenalty = rp;
    return p;
  };
  return {
      {"temperature", make(0.8f, 0, 1.f, 0.f, 1.f)},
      {"hot", make(1.7f, 0, 1.f, 0.f, 1.f)},
      {"top_k_1", make(1.f, 1, 1.f, 0.f, 1.f)},
      {"top_k_40", make(1.f, 40, 1.f, 0.f, 1.f)},
      {"top_k_5000", make(0.9f, 5000, 1.f, 0.f, 1.f)},
      {"top_p_0.9", make(1.f, 0, 0.9f, 0.f, 1.f)},
      {"top_p_0.35", make(0.7f, 0, 0.35f, 0.f, 1.f)},
      {"min_p", make(1.f, 0, 1.f, 0.05f, 1.f)},
      {"min_p_high", make(1.f, 0, 1.f, 0.6f, 1.f)},
      {"penalty", make(1.f, 0, 1.f, 0.f, 1.3f)},
      {"penalty_below_1", make(1.f, 0, 1.f, 0.f, 0.7f)},
      {"greedy_penalty", make(0.f, 0, 1.f, 0.f, 1.5f)},
      {"combined", make(0.8f, 40, 0.9f, 0.05f, 1.2f)},
      {"combined_wide", make(1.1f, 3000, 0.97f, 0.001f, 1.1f)},
      {"top_p_within_k", make(0.6f, 200, 0.53f, 0.f, 1.f)},
  };
}

class GpuSamplingVocab : public GpuSampling, public ::testing::WithParamInterface<int> {};

// Each option alone and combined, many seeds, three rows per launch, two logit spreads.
TEST_P(GpuSamplingVocab, MatchesHostSampler) {
  LLMC_REQUIRE_GPU();
  ASSERT_NE(kernels_, nullptr) << buildError_;
  const int vocab = GetParam();
  const int seeds = vocab > 100000 ? 6 : 12;
  for (const Option& o : options()) {
    int bad = 0;
    for (int s = 0; s < seeds; ++s) {
      const float sigma = s % 2 == 0 ? 1.5f : 4.f;
      bad += compare(*kernels_, o.p, randomRows(1000 * s + vocab, vocab, 3, sigma), vocab,
                     std::string(o.name) + " seed " + std::to_string(s));
    }
    EXPECT_EQ(bad, 0) << o.name;
  }
}

// One row, many uniforms, including the ends of [0, 1): every inverse-CDF position.
TEST_P(GpuSamplingVocab, ManyUniformsOneRow) {
  LLMC_REQUIRE_GPU();
  ASSERT_NE(kernels_, nullptr) << buildError_;
  const int vocab = GetParam();
  std::mt19937_64 rng(77 + vocab);
  const std::vector<float> logits = normalRow(rng, vocab, 2.f);
  const std::vector<int32_t> history = randomHistory(rng, 50, vocab);
  for (const Option& o : {options()[0], options()[5], options()[12]}) {
    std::vector<Row> rows;
    for (int i = 0; i < 8; ++i) {
      Row r{logits, history, 0.0};
      r.u = i == 0 ? 0.0 : i == 7 ? 1.0 - 0x1p-53 : std::uniform_real_distribution<double>(0, 1)(rng);
      rows.push_back(r);
    }
    EXPECT_EQ(compare(*kernels_, o.p, rows, vocab, std::string("uniforms ") + o.name), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocab, GpuSamplingVocab, ::testing::Values(32000, 151936));

// Exact ties: quantised logits (few distinct values, so top-k, top-p and min-p cut inside a tie
// group and the lower ids must win), a constant row, and -0 / +0 (equal values for the host).
TEST_F(GpuSampling, Ties) {
  LLMC_REQUIRE_GPU();
  ASSERT_NE(kernels_, nullptr) << buildError_;
  const int vocab = 32000;
  for (int s = 0; s < 8; ++s) {
    std::mt19937_64 rng(500 + s);
    std::vector<Row> rows = randomRows(900 + s, vocab, 3, 2.f);
    for (Row& r : rows)
      for (float& x : r.logits) x = std::round(x * 2.f) / 2.f;  // ~20 distinct values
    rows[2].logits.assign(vocab, 0.25f);                         // one tie group of the whole row
    rows[1].logits[10] = -0.0f;
    rows[1].logits[11] = 0.0f;
    for (const Option& o : options())
      EXPECT_EQ(compare(*kernels_, o.p, rows, vocab, std::string("ties ") + o.name + " seed " + std::to_string(s)), 0);
  }
}

// A vocabulary that is not a multiple of anything (partial blocks everywhere), tiny ones, and
// top-k at or beyond the vocabulary (off).
TEST_F(GpuSampling, OddSizes) {
  LLMC_REQUIRE_GPU();
  ASSERT_NE(kernels_, nullptr) << buildError_;
  for (int vocab : {1, 2, 7, 512, 4097, 50257}) {
    for (const Option& o : options()) {
      SamplingParams p = o.p;
      EXPECT_EQ(compare(*kernels_, p, randomRows(vocab, vocab, 2, 2.f), vocab, std::string(o.name) + " vocab " +
                                                                              std::to_string(vocab)), 0);
      p.topK = vocab;
      EXPECT_EQ(compare(*kernels_, p, randomRows(vocab + 1, vocab, 2, 2.f), vocab, "top_k = vocab"), 0);
    }
  }
}

}  // namespace
}  // namespace llmc::gputest
