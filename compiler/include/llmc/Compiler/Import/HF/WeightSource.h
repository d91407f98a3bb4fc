//===- WeightSource.h - the tensors of an HF checkpoint folder --*- C++ -*-===//
//
// Owned by the compiler (cc). Opens `model.safetensors`, or every shard listed in
// `model.safetensors.index.json`, and answers name -> (file, dtype, shape, data pointer).
// Owns the mappings; views stay valid while the WeightSource lives.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightProvider.h"
#include "llmc/Compiler/Import/HF/Safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmc::hf {

class WeightSource final : public codegen::WeightProvider {
 public:
  // Opens the checkpoint in the HF folder `dir`. Errors name the folder or the file at fault:
  // no checkpoint, bad index JSON, a shard missing, a tensor the index promises but the shard
  // lacks, any safetensors validation failure.
  static StatusOr<std::unique_ptr<WeightSource>> openFolder(const std::string &dir);
  // Opens exactly these safetensors files (tests, single-file checkpoints elsewhere).
  static StatusOr<std::unique_ptr<WeightSource>> openFiles(const std::vector<std::string> &paths);

  StatusOr<codegen::TensorView> tensor(const std::string &name) const override;
  void release(const std::string &name) const override;

  // The entry for `name` (any dtype), or nullptr.
  const SafetensorsEntry *find(const std::string &name) const;
  // All tensor names, sorted.
  std::vector<std::string> names() const;
  // What the checkpoint "is": the dtype of the most tensor bytes among the supported ones
  // (ties -> the first of F32, BF16, F16). Used for `--dtype auto`.
  codegen::SourceDType predominantDType() const;
  // A short description for messages: "model.safetensors" or "model.safetensors.index.json".
  const std::string &description() const { return description_; }

 private:
  WeightSource() = default;
  Status addFile(const std::string &path);

  std::string description_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  // name -> (file index, entry)
  std::map<std::string, std::pair<size_t, const SafetensorsEntry *>> index_;
};

}  // namespace llmc::hf
