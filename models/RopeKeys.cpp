//===- RopeKeys.cpp - rope_theta / rope_scaling / rope_parameters ---------===//
//
// Owned by the compiler (cc). transformers has spelled RoPE settings three ways over time:
//   "rope_theta": 1e4, "rope_scaling": {"type": "linear", "factor": 2}           (old)
//   "rope_theta": 5e5, "rope_scaling": {"rope_type": "llama3", "factor": 8, ...} (4.x)
//   "rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8, ...} (5.x)
// All three land in ModelConfig::ropeTheta / ropeScaling. Only variants that are a fixed inv_freq
// table (default, linear, llama3) are accepted; the runtime knows no scaling rules (design.md).
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ModelFamily.h"

namespace llmc::models {

using nlohmann::json;

namespace {

// Reads a number from the rope parameter object `params` (named `where` in errors).
Status readNumber(const ConfigReader &r, const json &params, const std::string &where,
                  const std::string &key, bool required, double *out) {
  auto it = params.find(key);
  if (it == params.end() || it->is_null()) {
    if (required)
      return r.error("missing required key '" + key + "' in " + where);
    return Status::Ok();
  }
  return r.asDouble(*it, "'" + where + "." + key + "'", out);
}

}  // namespace

Status parseRopeKeys(const ConfigReader &r, ModelConfig &cfg) {
  LLMC_RETURN_IF_ERROR(r.optionalDouble("rope_theta", &cfg.ropeTheta));
  LLMC_RETURN_IF_ERROR(r.optionalDouble("partial_rotary_factor", &cfg.partialRotaryFactor));

  const char *where = nullptr;
  const json *params = nullptr;
  if ((params = r.find("rope_parameters")))
    where = "rope_parameters";
  else if ((params = r.find("rope_scaling")))
    where = "rope_scaling";

  if (params) {
    if (!params->is_object())
      return r.error(std::string("'") + where + "' must be an object, got " + params->type_name());
    // Gemma 3-style per-layer-type parameters ({"full_attention": {...}, ...}).
    if (params->contains("full_attention") || params->contains("sliding_attention"))
      return Unsupported(r.fileName() + ": per-layer-type '" + where + "' is not supported yet");

    std::string type = "default";
    for (const char *key : {"rope_type", "type"}) {
      auto it = params->find(key);
      if (it != params->end() && !it->is_null()) {
        if (!it->is_string())
          return r.error(std::string("'") + where + "." + key + "' must be a string");
        type = it->get<std::string>();
        break;
      }
    }
    LLMC_RETURN_IF_ERROR(readNumber(r, *params, where, "rope_theta", false, &cfg.ropeTheta));
    LLMC_RETURN_IF_ERROR(
        readNumber(r, *params, where, "partial_rotary_factor", false, &cfg.partialRotaryFactor));

    RopeScaling &s = cfg.ropeScaling;
    if (type == "default") {
      s = RopeScaling();
    } else if (type == "linear") {
      s.kind = RopeScaling::Kind::kLinear;
      LLMC_RETURN_IF_ERROR(readNumber(r, *params, where, "factor", true, &s.factor));
    } else if (type == "llama3") {
      s.kind = RopeScaling::Kind::kLlama3;
      LLMC_RETURN_IF_ERROR(readNumber(r, *params, where, "factor", true, &s.factor));
      LLMC_RETURN_IF_ERROR(readNumber(r, *params, where, "low_freq_factor", true, &s.lowFreqFactor));
      LLMC_RETURN_IF_ERROR(
          readNumber(r, *params, where, "high_freq_factor", true, &s.highFreqFactor));
      // transformers documents max_position_embeddings as the fallback for this key.
      s.originalMaxPositionEmbeddings = cfg.maxPositionEmbeddings;
      auto it = params->find("original_max_position_embeddings");
      if (it != params->end() && !it->is_null())
        LLMC_RETURN_IF_ERROR(r.asInt(*it, std::string("'") + where +
                                              ".original_max_position_embeddings'",
                                     &s.originalMaxPositionEmbeddings));
      if (!(s.highFreqFactor > s.lowFreqFactor) || !(s.lowFreqFactor > 0) ||
          s.originalMaxPositionEmbeddings <= 0)
        return r.error(std::string("'") + where +
                       "': llama3 needs high_freq_factor > low_freq_factor > 0 and a positive "
                       "original_max_position_embeddings");
    } else {
      return Unsupported(r.fileName() + ": " + where + " type '" + type +
                         "' is not supported (supported: default, linear, llama3)");
    }
    if (s.kind != RopeScaling::Kind::kNone && !(s.factor > 0))
      return r.error(std::string("'") + where + ".factor' must be positive");
  }

  if (!(cfg.ropeTheta > 0))
    return r.error("rope_theta must be positive");
  if (!(cfg.partialRotaryFactor > 0 && cfg.partialRotaryFactor <= 1))
    return r.error("partial_rotary_factor must be in (0, 1]");
  if (cfg.headDim > 0 && cfg.rotaryDim() % 2 != 0)
    return r.error("the rotary dimension (head_dim * partial_rotary_factor) must be even");
  return Status::Ok();
}

}  // namespace llmc::models
