//===- HFConfig.h - HF config.json -> ModelConfig ---------------*- C++ -*-===//
//
// Owned by the compiler (cc). Reads config.json, finds the family for its model_type
// (models/Registry.cpp) and lets the family fill a ModelConfig. Errors name the file and the key:
//   "m/config.json: missing required key 'hidden_size'"
//   "m/config.json: model_type 'gpt_neox' is not supported (supported: llama, mistral, qwen2)"
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Models/ModelConfig.h"
#include "llmc/runtime/Status.h"

#include <string>
#include <vector>

namespace llmc::hf {

// Parses the file at `path`.
StatusOr<models::ModelConfig> parseConfigFile(const std::string &path);
// Parses `text`; `fileName` prefixes errors.
StatusOr<models::ModelConfig> parseConfigText(const std::string &text, const std::string &fileName);

// RoPE inverse frequencies for `cfg` (rotaryDim()/2 values), computed in double precision
// exactly as transformers' rope init functions do (default, linear, llama3).
std::vector<double> computeRopeInvFreq(const models::ModelConfig &cfg);

}  // namespace llmc::hf
