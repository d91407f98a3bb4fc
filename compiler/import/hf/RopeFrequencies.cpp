//===- RopeFrequencies.cpp - RoPE inv_freq including rope_scaling ---------===//
//
// Owned by the compiler (cc). The runtime only ever sees the final inv_freq table (design.md), so
// every scaling rule lives here. Formulas follow transformers' modeling_rope_utils.py; we evaluate
// them in double and the IR stores f32 (transformers evaluates in f32; the difference is within
// an ulp or two of f32, which the oracle test checks).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/HFConfig.h"

#include <cmath>

namespace llmc::hf {

std::vector<double> computeRopeInvFreq(const models::ModelConfig &cfg) {
  const int64_t dim = cfg.rotaryDim();
  std::vector<double> invFreq;
  invFreq.reserve(dim / 2);
  // inv_freq[i] = 1 / theta^(2i / dim)
  for (int64_t i = 0; i < dim; i += 2)
    invFreq.push_back(1.0 / std::pow(cfg.ropeTheta, static_cast<double>(i) / dim));

  const models::RopeScaling &s = cfg.ropeScaling;
  switch (s.kind) {
  case models::RopeScaling::Kind::kNone:
    break;
  case models::RopeScaling::Kind::kLinear:
    // Scaling positions by 1/factor == scaling the frequencies by 1/factor.
    for (double &f : invFreq)
      f /= s.factor;
    break;
  case models::RopeScaling::Kind::kLlama3: {
    // Long wavelengths (low frequencies) are slowed down by `factor`, short ones are kept, and
    // the band in between is interpolated smoothly on old_context_len / wavelength.
    const double oldContext = static_cast<double>(s.originalMaxPositionEmbeddings);
    const double lowFreqWavelen = oldContext / s.lowFreqFactor;
    const double highFreqWavelen = oldContext / s.highFreqFactor;
    for (double &f : invFreq) {
      const double wavelen = 2.0 * M_PI / f;
      if (wavelen > lowFreqWavelen) {
        f = f / s.factor;
      } else if (wavelen >= highFreqWavelen) {
        const double smooth =
            (oldContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        f = (1.0 - smooth) * f / s.factor + smooth * f;
      }
    }
    break;
  }
  }
  return invFreq;
}

}  // namespace llmc::hf
