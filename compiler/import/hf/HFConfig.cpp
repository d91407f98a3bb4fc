//===- HFConfig.cpp - HF config.json -> ModelConfig -----------------------===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/HFConfig.h"

#include "llmc/Models/ConfigReader.h"
#include "llmc/Models/ModelFamily.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace llmc::hf {

using nlohmann::json;

StatusOr<models::ModelConfig> parseConfigFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return NotFound(path + ": cannot open (an HF model folder needs a config.json)");
  std::stringstream buf;
  buf << in.rdbuf();
  return parseConfigText(buf.str(), path);
}

StatusOr<models::ModelConfig> parseConfigText(const std::string &text,
                                              const std::string &fileName) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded())
    return InvalidArgument(fileName + ": not valid JSON");
  if (!root.is_object())
    return InvalidArgument(fileName + ": must be a JSON object");
  models::ConfigReader r(root, fileName);

  models::ModelConfig cfg;
  if (const json *archs = r.find("architectures")) {
    if (!archs->is_array() || archs->empty() || !(*archs)[0].is_string())
      return r.error("'architectures' must be a non-empty list of strings");
    cfg.architecture = (*archs)[0].get<std::string>();
  }
  if (!r.has("model_type"))
    return r.error("missing required key 'model_type'");
  LLMC_RETURN_IF_ERROR(r.optionalString("model_type", &cfg.modelType));

  std::string supported;
  for (const std::string &t : models::supportedModelTypes())
    supported += (supported.empty() ? "" : ", ") + t;
  const models::ModelFamily *family = models::findFamilyForModelType(cfg.modelType);
  if (!family)
    return Unsupported(fileName + ": model_type '" + cfg.modelType +
                       "' is not supported (supported: " + supported + ")");
  // Only causal-LM heads produce next-token logits; a classifier checkpoint has another head.
  if (!cfg.architecture.empty() && !family->acceptsArchitecture(cfg.architecture))
    return Unsupported(fileName + ": architecture '" + cfg.architecture +
                       "' is not supported (only causal language models, *ForCausalLM)");
  cfg.family = family->name();
  LLMC_RETURN_IF_ERROR(family->parseConfig(r, cfg));
  return cfg;
}

}  // namespace llmc::hf
