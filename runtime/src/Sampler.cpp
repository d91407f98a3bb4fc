// Sampler.cpp - repetition penalty, temperature, top-k, top-p, min-p and a seeded draw.
#include "llmc/runtime/Sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace llmc {

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

Status Sampler::validate(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature)) return InvalidArgument("--temperature must be >= 0");
  if (p.topK < 0) return InvalidArgument("--top-k must be >= 0");
  if (!(p.topP > 0.0f && p.topP <= 1.0f)) return InvalidArgument("--top-p must be in (0, 1]");
  if (!(p.minP >= 0.0f && p.minP <= 1.0f)) return InvalidArgument("--min-p must be in [0, 1]");
  if (!(p.repetitionPenalty > 0.0f) || !std::isfinite(p.repetitionPenalty)) {
    return InvalidArgument("--repetition-penalty must be > 0");
  }
  return Status::Ok();
}

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0); }

void Sampler::penalised(const float* logits, int64_t vocab, const std::vector<int32_t>& history,
                        std::vector<double>* out) const {
  out->assign(logits, logits + vocab);
  if (params_.repetitionPenalty == 1.0f) return;
  std::vector<bool> seen(static_cast<size_t>(vocab), false);
  const double r = params_.repetitionPenalty;
  for (int32_t t : history) {
    if (t < 0 || t >= vocab || seen[t]) continue;  // each token penalised once, like HF's gather/scatter
    seen[t] = true;
    double& l = (*out)[t];
    l = l > 0 ? l / r : l * r;
  }
}

void Sampler::distribution(const float* logits, int64_t vocab, const std::vector<int32_t>& history,
                           std::vector<double>* probs) const {
  std::vector<double> l;
  penalised(logits, vocab, history, &l);
  probs->assign(static_cast<size_t>(vocab), 0.0);
  if (vocab <= 0) return;
  if (params_.temperature == 0.0f) {
    (*probs)[std::max_element(l.begin(), l.end()) - l.begin()] = 1.0;
    return;
  }
  for (double& x : l) x /= params_.temperature;
  // Tokens in descending logit order (ties: lower id first), so every filter is a prefix.
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  size_t keep = order.size();
  if (params_.topK > 0) keep = std::min<size_t>(keep, static_cast<size_t>(params_.topK));
  const double mx = l[order[0]];
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += (p[i] = std::exp(l[order[i]] - mx));
  for (double& x : p) x /= sum;
  if (params_.topP < 1.0f) {
    double cum = 0;
    size_t n = 0;
    while (n < keep) {
      cum += p[n++];
      if (cum >= params_.topP) break;
    }
    keep = std::max<size_t>(n, 1);
  }
  if (params_.minP > 0.0f) {
    const double threshold = params_.minP * p[0];
    size_t n = 0;
    while (n < keep && p[n] >= threshold) ++n;
    keep = std::max<size_t>(n, 1);
  }
  sum = 0;
  for (size_t i = 0; i < keep; ++i) sum += p[i];
  for (size_t i = 0; i < keep; ++i) (*probs)[order[i]] = p[i] / sum;
}

int32_t Sampler::sample(const float* logits, int64_t vocab, const std::vector<int32_t>& history) {
  return sampleWith(logits, vocab, history, params_.temperature == 0.0f ? 0.0 : uniform());
}

int32_t Sampler::sampleWith(const float* logits, int64_t vocab, const std::vector<int32_t>& history,
                            double u) const {
  std::vector<double> probs;
  distribution(logits, vocab, history, &probs);
  if (params_.temperature == 0.0f) {
    return static_cast<int32_t>(std::max_element(probs.begin(), probs.end()) - probs.begin());
  }
  // Inverse CDF over token ids in increasing order.
  double cum = 0;
  int32_t last = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last = static_cast<int32_t>(i);
    if (u < cum) return last;
  }
  return last;  // rounding: u beyond the accumulated mass
}

}  // namespace llmc
