//===- ConfigReader.h - typed, non-throwing access to a config JSON -*- C++ -*-===//
//
// Owned by the compiler (cc). Wraps one parsed JSON object (HF config.json) and reads typed values
// from it. Every error is a Status whose message starts with the file name and names the key, e.g.
// "model/config.json: missing required key 'hidden_size'". Nothing throws: types are checked before
// any nlohmann::json::get<>.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::models {

class ConfigReader {
 public:
  // `root` must outlive the reader. `fileName` prefixes every error message.
  ConfigReader(const nlohmann::json &root, std::string fileName)
      : root_(root), fileName_(std::move(fileName)) {}

  const std::string &fileName() const { return fileName_; }
  const nlohmann::json &root() const { return root_; }

  // The value of `key`, or nullptr when absent or JSON null (HF writes null for "unset").
  const nlohmann::json *find(const std::string &key) const;
  bool has(const std::string &key) const { return find(key) != nullptr; }
  // True when the key is present with the value null (HF: "explicitly unset", e.g. no sliding window).
  bool isExplicitNull(const std::string &key) const {
    return root_.is_object() && root_.contains(key) && root_[key].is_null();
  }

  // required*: error when the key is missing. optional*: leaves *out unchanged when missing.
  Status requireInt(const std::string &key, int64_t *out) const;
  Status optionalInt(const std::string &key, int64_t *out) const;
  Status optionalDouble(const std::string &key, double *out) const;
  Status optionalBool(const std::string &key, bool *out) const;
  Status optionalString(const std::string &key, std::string *out) const;
  Status optionalStringList(const std::string &key, std::vector<std::string> *out) const;
  // Accepts an integer or a list of integers (HF's eos_token_id may be either).
  Status optionalIntOrList(const std::string &key, std::vector<int64_t> *out) const;

  // Readers for a value found elsewhere (a nested object); `what` names it in errors.
  Status asInt(const nlohmann::json &v, const std::string &what, int64_t *out) const;
  Status asDouble(const nlohmann::json &v, const std::string &what, double *out) const;

  // InvalidArgument("<file>: <message>").
  Status error(const std::string &message) const;

 private:
  const nlohmann::json &root_;
  std::string fileName_;
};

}  // namespace llmc::models
