// Sampler.h - picks the next token from a row of logits.
//
// Order of the transformations (as HF transformers' generate): repetition penalty, temperature,
// top-k, softmax, top-p, min-p, renormalise, draw. temperature == 0 is greedy (argmax after the
// repetition penalty; ties go to the lowest id). Draws use std::mt19937_64 seeded with `seed` and a
// 53-bit uniform built here, so a seed gives the same tokens on every platform.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc {

struct SamplingParams {
  float temperature = 0.0f;        // 0: greedy
  int topK = 0;                    // 0: off
  float topP = 1.0f;               // 1: off; keep the smallest set of tokens whose mass reaches topP
  float minP = 0.0f;               // 0: off; drop tokens with p < minP * max p
  float repetitionPenalty = 1.0f;  // 1: off; history tokens: logit > 0 ? logit / r : logit * r
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // kInvalidArgument for out-of-range parameters (negative temperature, topP outside (0, 1], ...).
  static Status validate(const SamplingParams& params);

  // history: tokens the repetition penalty applies to (prompt + generated so far).
  // Equal to sampleWith(logits, vocab, history, temperature == 0 ? 0 : nextUniform()).
  int32_t sample(const float* logits, int64_t vocab, const std::vector<int32_t>& history);
  // The two halves of sample(), for backends that sample where the logits are
  // (Backend::forwardSample): the uniform a non-greedy sample() draws from the seeded generator,
  // and the token that uniform selects (the inverse CDF over ids in increasing order).
  double nextUniform() { return uniform(); }
  int32_t sampleWith(const float* logits, int64_t vocab, const std::vector<int32_t>& history, double u) const;
  const SamplingParams& params() const { return params_; }
  // The distribution sample() draws from (zeros for filtered tokens); greedy gives a one-hot.
  void distribution(const float* logits, int64_t vocab, const std::vector<int32_t>& history,
                    std::vector<double>* probs) const;

 private:
  void penalised(const float* logits, int64_t vocab, const std::vector<int32_t>& history,
                 std::vector<double>* out) const;
  double uniform();  // [0, 1)

  SamplingParams params_;
  std::mt19937_64 rng_;
};

}  // namespace llmc
