//===- ModelConfig.h - architecture-neutral model hyper-parameters -*- C++ -*-===//
//
// Owned by the compiler (cc). The values an importer reads from a checkpoint's configuration
// (HF config.json today) in one architecture-neutral struct. Families (ModelFamily.h) map their
// own key names and quirks onto it; the IR builder and the engine writer read only this.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::models {

// RoPE frequency scaling (HF `rope_scaling` / `rope_parameters`). Only the variants the importer
// can express as a fixed inv_freq table are representable; others are rejected while parsing.
struct RopeScaling {
  enum class Kind { kNone, kLinear, kLlama3 };
  Kind kind = Kind::kNone;
  double factor = 1.0;
  // llama3 only.
  double lowFreqFactor = 1.0;
  double highFreqFactor = 4.0;
  int64_t originalMaxPositionEmbeddings = 8192;
};

struct ModelConfig {
  std::string architecture;  // HF class name, e.g. "LlamaForCausalLM" (may be empty)
  std::string modelType;     // HF model_type: "llama", "mistral", "qwen2", ...
  std::string family;        // ModelFamily::name() that parsed this config

  int64_t hiddenSize = 0;
  int64_t intermediateSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 0;

  double normEps = 1e-6;
  double ropeTheta = 10000.0;
  double partialRotaryFactor = 1.0;  // fraction of head_dim that is rotated
  RopeScaling ropeScaling;

  bool tieWordEmbeddings = false;
  bool attentionBias = false;  // q/k/v (and, for some families, o) projections carry biases
  bool mlpBias = false;
  int64_t slidingWindow = 0;   // window size in tokens; 0 = full causal attention
  // HF `layer_types` ("full_attention" / "sliding_attention"), one per layer; empty = every layer
  // uses `slidingWindow`. See slidingWindowForLayer().
  std::vector<std::string> layerTypes;

  std::string hiddenAct = "silu";
  std::string torchDtype;      // "float32" / "float16" / "bfloat16" / "" (unknown)

  std::vector<int64_t> bosTokenIds;
  std::vector<int64_t> eosTokenIds;

  int64_t rotaryDim() const { return static_cast<int64_t>(headDim * partialRotaryFactor); }
  int64_t slidingWindowForLayer(int64_t layer) const {
    if (layerTypes.empty())
      return slidingWindow;
    return layerTypes[layer] == "sliding_attention" ? slidingWindow : 0;
  }
};

}  // namespace llmc::models
