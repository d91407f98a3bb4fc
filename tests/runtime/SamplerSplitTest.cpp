// SamplerSplitTest.cpp - the two halves of Sampler::sample() that device sampling uses
// (nextUniform on the host, the pick where the logits are) give sample()'s tokens, and the
// Backend::forwardSample default (forward + sampleWith) picks what the Sampler picks.
#include <gtest/gtest.h>

#include <random>

#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Sampler.h"

namespace llmc {
namespace {

std::vector<SamplingParams> paramSets() {
  std::vector<SamplingParams> v(4);
  v[0].temperature = 0.8f, v[0].topP = 0.9f, v[0].seed = 3;
  v[1].temperature = 1.0f, v[1].topK = 40, v[1].minP = 0.05f, v[1].seed = 4;
  v[2].temperature = 0.7f, v[2].topK = 300, v[2].topP = 0.8f, v[2].repetitionPenalty = 1.3f, v[2].seed = 5;
  v[3].temperature = 0.0f, v[3].repetitionPenalty = 1.5f;
  return v;
}

TEST(SamplerSplit, NextUniformThenSampleWithEqualsSample) {
  const int vocab = 1000;
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.f, 2.f);
  for (const SamplingParams& p : paramSets()) {
    Sampler whole(p), split(p);
    std::vector<int32_t> history = {1, 5, 5, 999};
    for (int step = 0; step < 50; ++step) {
      std::vector<float> logits(vocab);
      for (float& x : logits) x = d(rng);
      const int32_t a = whole.sample(logits.data(), vocab, history);
      const double u = p.temperature == 0.0f ? 0.0 : split.nextUniform();
      const int32_t b = split.sampleWith(logits.data(), vocab, history, u);
      ASSERT_EQ(a, b) << "step " << step << " T " << p.temperature;
      history.push_back(a);
    }
  }
}

// A backend whose forward() returns fixed rows: the default forwardSample samples them on the host.
class FixedLogitsBackend : public Backend {
 public:
  explicit FixedLogitsBackend(std::vector<float> rows) : rows_(std::move(rows)) {}
  std::string name() const override { return "fixed"; }
  Status prepare(const Engine&, const BackendOptions&) override { return Status::Ok(); }
  int64_t kvBlockCount() const override { return 0; }
  Status forward(const StepBatch&, std::vector<float>* logits) override {
    *logits = rows_;
    return Status::Ok();
  }
  Status copyBlock(int32_t, int32_t) override { return Status::Ok(); }

 private:
  std::vector<float> rows_;
};

TEST(SamplerSplit, DefaultForwardSampleUsesTheHostSampler) {
  const int vocab = 500;
  std::mt19937 rng(12);
  std::normal_distribution<float> d(0.f, 2.f);
  std::vector<float> rows(2 * vocab);
  for (float& x : rows) x = d(rng);
  FixedLogitsBackend backend(rows);
  StepBatch batch;
  batch.sequences.resize(2);
  const std::vector<int32_t> h0 = {3, 4}, h1 = {7};
  for (const SamplingParams& p : paramSets()) {
    const std::vector<SampleRow> sr = {SampleRow{&h0, 0.25}, SampleRow{&h1, 0.875}};
    std::vector<int32_t> ids;
    ASSERT_TRUE(backend.forwardSample(batch, p, sr, &ids).ok());
    ASSERT_EQ(ids.size(), 2u);
    const Sampler ref(p);
    EXPECT_EQ(ids[0], ref.sampleWith(rows.data(), vocab, h0, 0.25));
    EXPECT_EQ(ids[1], ref.sampleWith(rows.data() + vocab, vocab, h1, 0.875));
  }
}

}  // namespace
}  // namespace llmc
