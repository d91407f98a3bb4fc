//===- StandardKeys.cpp - config keys shared by llama-style decoders ------===//
//
// Owned by the compiler (cc). The key names below are the ones transformers' LlamaConfig,
// MistralConfig and Qwen2Config use; a family presets its own defaults in `cfg` first, and only
// keys present in the file override them.
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

namespace llmc::models {

Status parseStandardDecoderKeys(const ConfigReader &r, ModelConfig &cfg) {
  LLMC_RETURN_IF_ERROR(r.requireInt("hidden_size", &cfg.hiddenSize));
  LLMC_RETURN_IF_ERROR(r.requireInt("intermediate_size", &cfg.intermediateSize));
  LLMC_RETURN_IF_ERROR(r.requireInt("num_hidden_layers", &cfg.numLayers));
  LLMC_RETURN_IF_ERROR(r.requireInt("num_attention_heads", &cfg.numHeads));
  LLMC_RETURN_IF_ERROR(r.requireInt("vocab_size", &cfg.vocabSize));
  if (cfg.hiddenSize <= 0 || cfg.intermediateSize <= 0 || cfg.numLayers <= 0 || cfg.numHeads <= 0 ||
      cfg.vocabSize <= 0)
    return r.error("hidden_size, intermediate_size, num_hidden_layers, num_attention_heads and "
                   "vocab_size must be positive");

  cfg.numKvHeads = cfg.numHeads;  // transformers' default: multi-head attention
  LLMC_RETURN_IF_ERROR(r.optionalInt("num_key_value_heads", &cfg.numKvHeads));
  if (cfg.numKvHeads <= 0 || cfg.numHeads % cfg.numKvHeads != 0)
    return r.error("num_attention_heads (" + std::to_string(cfg.numHeads) +
                   ") must be a positive multiple of num_key_value_heads (" +
                   std::to_string(cfg.numKvHeads) + ")");

  cfg.headDim = 0;
  LLMC_RETURN_IF_ERROR(r.optionalInt("head_dim", &cfg.headDim));
  if (cfg.headDim == 0) {
    if (cfg.hiddenSize % cfg.numHeads != 0)
      return r.error("no 'head_dim' and hidden_size (" + std::to_string(cfg.hiddenSize) +
                     ") is not a multiple of num_attention_heads (" +
                     std::to_string(cfg.numHeads) + ")");
    cfg.headDim = cfg.hiddenSize / cfg.numHeads;
  }
  if (cfg.headDim <= 0 || cfg.headDim % 2 != 0)
    return r.error("head_dim must be positive and even, got " + std::to_string(cfg.headDim));

  LLMC_RETURN_IF_ERROR(r.optionalDouble("rms_norm_eps", &cfg.normEps));
  if (!(cfg.normEps > 0.0))
    return r.error("rms_norm_eps must be positive");
  LLMC_RETURN_IF_ERROR(r.optionalInt("max_position_embeddings", &cfg.maxPositionEmbeddings));
  if (cfg.maxPositionEmbeddings <= 0)
    return r.error("max_position_embeddings must be positive");
  LLMC_RETURN_IF_ERROR(r.optionalBool("tie_word_embeddings", &cfg.tieWordEmbeddings));
  LLMC_RETURN_IF_ERROR(r.optionalBool("attention_bias", &cfg.attentionBias));
  LLMC_RETURN_IF_ERROR(r.optionalBool("mlp_bias", &cfg.mlpBias));
  LLMC_RETURN_IF_ERROR(r.optionalString("hidden_act", &cfg.hiddenAct));
  // transformers >= 4.56 writes "dtype"; older files "torch_dtype".
  LLMC_RETURN_IF_ERROR(r.optionalString("torch_dtype", &cfg.torchDtype));
  LLMC_RETURN_IF_ERROR(r.optionalString("dtype", &cfg.torchDtype));
  LLMC_RETURN_IF_ERROR(r.optionalIntOrList("bos_token_id", &cfg.bosTokenIds));
  LLMC_RETURN_IF_ERROR(r.optionalIntOrList("eos_token_id", &cfg.eosTokenIds));

  // Sliding window: a null value means "none" (Mistral v0.2+); absent keeps the family default.
  if (r.isExplicitNull("sliding_window"))
    cfg.slidingWindow = 0;
  LLMC_RETURN_IF_ERROR(r.optionalInt("sliding_window", &cfg.slidingWindow));
  if (cfg.slidingWindow < 0)
    return r.error("sliding_window must be >= 0");
  LLMC_RETURN_IF_ERROR(r.optionalStringList("layer_types", &cfg.layerTypes));
  if (!cfg.layerTypes.empty()) {
    if (static_cast<int64_t>(cfg.layerTypes.size()) != cfg.numLayers)
      return r.error("layer_types has " + std::to_string(cfg.layerTypes.size()) +
                     " entries, num_hidden_layers is " + std::to_string(cfg.numLayers));
    for (const std::string &t : cfg.layerTypes)
      if (t != "full_attention" && t != "sliding_attention")
        return r.error("unsupported layer type '" + t +
                       "' in layer_types (supported: full_attention, sliding_attention)");
  }
  return parseRopeKeys(r, cfg);
}

}  // namespace llmc::models
