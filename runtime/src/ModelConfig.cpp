// ModelConfig.cpp - parses meta.model (keys listed in docs/engine-format.md).
#include "EngineParse.h"
#include "JsonUtil.h"

namespace llmc::detail {

using namespace json_util;

Status parseModelConfig(const json& model, ModelConfig* out) {
  const std::string where = "meta.model";
  LLMC_RETURN_IF_ERROR(requireObject(model, where));
  ModelConfig c;
  auto str = [&](const char* key, std::string* dst) -> Status {
    const json* v = member(model, key);
    if (!v) return missing(where + "." + key);
    return readString(*v, where + "." + key, dst);
  };
  // Positive integers the runtime sizes buffers with.
  auto positive = [&](const char* key, int64_t* dst) -> Status {
    const json* v = member(model, key);
    if (!v) return missing(where + "." + key);
    LLMC_RETURN_IF_ERROR(readInt(*v, where + "." + key, dst));
    if (*dst <= 0) return InvalidArgument(where + "." + key + ": must be positive, got " + std::to_string(*dst));
    return Status::Ok();
  };
  LLMC_RETURN_IF_ERROR(str("architecture", &c.architecture));
  LLMC_RETURN_IF_ERROR(positive("vocab_size", &c.vocabSize));
  LLMC_RETURN_IF_ERROR(positive("hidden_size", &c.hiddenSize));
  LLMC_RETURN_IF_ERROR(positive("num_layers", &c.numLayers));
  LLMC_RETURN_IF_ERROR(positive("num_heads", &c.numHeads));
  LLMC_RETURN_IF_ERROR(positive("num_kv_heads", &c.numKvHeads));
  LLMC_RETURN_IF_ERROR(positive("head_dim", &c.headDim));
  LLMC_RETURN_IF_ERROR(positive("max_position", &c.maxPosition));
  if (c.numHeads % c.numKvHeads != 0) {
    return InvalidArgument(where + ": num_heads " + std::to_string(c.numHeads) +
                           " is not a multiple of num_kv_heads " + std::to_string(c.numKvHeads));
  }
  auto tokenId = [&](const json& v, const std::string& w, int32_t* dst) -> Status {
    int64_t id = 0;
    LLMC_RETURN_IF_ERROR(readInt(v, w, &id));
    if (id < 0 || id >= c.vocabSize) {
      return InvalidArgument(w + ": token id " + std::to_string(id) + " outside the vocabulary [0, " +
                             std::to_string(c.vocabSize) + ")");
    }
    *dst = static_cast<int32_t>(id);
    return Status::Ok();
  };
  const json* bos = member(model, "bos_token_id");
  if (!bos) return missing(where + ".bos_token_id");
  if (!bos->is_null()) LLMC_RETURN_IF_ERROR(tokenId(*bos, where + ".bos_token_id", &c.bosTokenId));
  const json* eos = member(model, "eos_token_ids");
  if (!eos) return missing(where + ".eos_token_ids");
  if (!eos->is_array()) return typeError(where + ".eos_token_ids", "an array of token ids");
  for (size_t i = 0; i < eos->size(); ++i) {
    int32_t id = 0;
    LLMC_RETURN_IF_ERROR(tokenId((*eos)[i], where + ".eos_token_ids[" + std::to_string(i) + "]", &id));
    c.eosTokenIds.push_back(id);
  }
  const json* sw = member(model, "sliding_window");
  if (!sw) return missing(where + ".sliding_window");
  LLMC_RETURN_IF_ERROR(readInt(*sw, where + ".sliding_window", &c.slidingWindow));
  if (c.slidingWindow < 0) return InvalidArgument(where + ".sliding_window: must be >= 0");
  LLMC_RETURN_IF_ERROR(str("dtype", &c.dtype));
  engine::DType d;
  if (!engine::parseDType(c.dtype, &d)) {
    return InvalidArgument(where + ".dtype: unknown dtype '" + c.dtype + "' (f32, f16, bf16)");
  }
  *out = std::move(c);
  return Status::Ok();
}

}  // namespace llmc::detail
