//===- OnnxSideFiles.cpp - config files next to a .onnx model ------------===//
//
// Owner: onnx.
//
//===----------------------------------------------------------------------===//
#include "OnnxSideFiles.h"

#include "llmc/Compiler/Support/Paths.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace llmc::onnx_import {
namespace {

using nlohmann::json;

// Used when no config.json says otherwise; the ONNX graph computes positions from T and has no
// table that would bound them.
constexpr int64_t kDefaultMaxPosition = 4096;

// Parsed JSON of an optional side file, or null (absent or not an object).
StatusOr<json> sideJson(const std::string &path) {
  LLMC_ASSIGN_OR_RETURN(std::optional<std::string> text, readOptionalFile(path));
  if (!text)
    return json();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgument(path + ": not a JSON object");
  return j;
}

std::vector<int64_t> idList(const json &j, const char *key) {
  std::vector<int64_t> out;
  if (!j.is_object() || !j.contains(key))
    return out;
  const json &v = j[key];
  if (v.is_number_integer())
    out.push_back(v.get<int64_t>());
  else if (v.is_array())
    for (const json &x : v)
      if (x.is_number_integer())
        out.push_back(x.get<int64_t>());
  return out;
}

}  // namespace

Status readSideFiles(const std::string &path, int64_t vocab, json &m, json &report) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  LLMC_ASSIGN_OR_RETURN(json config, sideJson(dir + "/config.json"));
  LLMC_ASSIGN_OR_RETURN(json gen, sideJson(dir + "/generation_config.json"));
  const bool fromConfig =
      config.is_object() && config.value("max_position_embeddings", json()).is_number_integer();
  m["max_position"] = fromConfig ? config["max_position_embeddings"].get<int64_t>() : kDefaultMaxPosition;
  report["max_position_source"] = fromConfig ? "config.json" : "default";
  std::vector<int64_t> eos = idList(config, "eos_token_id");
  for (int64_t id : idList(gen, "eos_token_id"))
    if (std::find(eos.begin(), eos.end(), id) == eos.end())
      eos.push_back(id);
  std::vector<int64_t> bos = idList(config, "bos_token_id");
  for (int64_t id : eos)
    if (id < 0 || id >= vocab)
      return InvalidArgument(dir + "/config.json: eos_token_id " + std::to_string(id) +
                             " is outside the vocabulary");
  if (!bos.empty() && (bos[0] < 0 || bos[0] >= vocab))
    return InvalidArgument(dir + "/config.json: bos_token_id outside the vocabulary");
  m["eos_token_ids"] = eos;
  m["bos_token_id"] = bos.empty() ? json() : json(bos[0]);
  return Status::Ok();
}

}  // namespace llmc::onnx_import
