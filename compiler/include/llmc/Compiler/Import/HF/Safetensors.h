//===- Safetensors.h - validated reader for one .safetensors file -*- C++ -*-===//
//
// Owned by the compiler (cc). Layout of the format: u64 little-endian N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data area; offsets are relative to the start of the data area.
// open() maps the file and validates everything before handing out a view: header length and
// JSON, every entry's fields, offsets inside the data area, and shape * element size == span.
// Tensors of dtypes other than F32/F16/BF16 are listed but refused when asked for (a checkpoint
// may carry integer buffers nobody uses).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightProvider.h"
#include "llmc/Compiler/Support/MappedFile.h"
#include "llmc/runtime/Status.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llmc::hf {

struct SafetensorsEntry {
  std::string name;
  std::string dtypeName;      // as in the file: "F32", "BF16", "I64", ...
  bool supported = false;     // dtype is F32, F16 or BF16
  codegen::SourceDType dtype = codegen::SourceDType::kF32;  // valid when supported
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // absolute file offsets of the tensor's bytes
};

class SafetensorsFile {
 public:
  // Maps and validates `path`. Every error message starts with `path`.
  static StatusOr<std::unique_ptr<SafetensorsFile>> open(const std::string &path);

  const std::string &path() const { return file_->path(); }
  // Entries sorted by name.
  const std::map<std::string, SafetensorsEntry> &entries() const { return entries_; }
  const SafetensorsEntry *find(const std::string &name) const;
  // The tensor's view, or an error (unsupported dtype) naming the file and tensor.
  StatusOr<codegen::TensorView> view(const SafetensorsEntry &e) const;
  void dropPages(const SafetensorsEntry &e) const { file_->dropPages(e.begin, e.end - e.begin); }

 private:
  explicit SafetensorsFile(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {}
  Status parseHeader();

  std::unique_ptr<MappedFile> file_;
  std::map<std::string, SafetensorsEntry> entries_;
};

}  // namespace llmc::hf
