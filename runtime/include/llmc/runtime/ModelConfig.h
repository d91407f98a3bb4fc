// ModelConfig.h - the model configuration an engine's `meta.model` object carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmc {

struct ModelConfig {
  std::string architecture;        // "llama", "qwen3", "gpt2", ...
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t maxPosition = 0;         // positions the model supports (sequence length limit)
  int32_t bosTokenId = -1;         // -1: the model has none (JSON null)
  std::vector<int32_t> eosTokenIds;
  int64_t slidingWindow = 0;       // 0: none
  std::string dtype;               // engine weight dtype: "f32" / "f16" / "bf16"
};

}  // namespace llmc
