//===- WeightProvider.h - read access to a checkpoint's tensors -*- C++ -*-===//
//
// Owned by the compiler (cc). The engine writer streams weights out of whatever the importer
// opened (safetensors today, ONNX initializers later) through this interface, so codegen does
// not depend on any importer. The provider owns the bytes (usually an mmap); views stay valid
// for the provider's lifetime.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::codegen {

// Element types a checkpoint tensor may have that the writer can convert.
enum class SourceDType : uint8_t { kF32, kF16, kBF16 };

inline const char *sourceDTypeName(SourceDType d) {
  switch (d) {
  case SourceDType::kF32: return "F32";
  case SourceDType::kF16: return "F16";
  case SourceDType::kBF16: return "BF16";
  }
  return "?";
}
inline size_t sourceDTypeBytes(SourceDType d) { return d == SourceDType::kF32 ? 4 : 2; }

// A tensor in the checkpoint: row-major, little-endian, `nbytes` = product(shape) * element size.
struct TensorView {
  std::string name;
  std::string file;  // where it lives (for error messages)
  SourceDType dtype = SourceDType::kF32;
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  uint64_t nbytes = 0;

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
};

class WeightProvider {
 public:
  virtual ~WeightProvider() = default;
  // The tensor called `name` in the checkpoint, or an error naming the checkpoint and the tensor
  // (not found, unsupported dtype).
  virtual StatusOr<TensorView> tensor(const std::string &name) const = 0;
  // Hint: the writer is done with `name`; a mmap-backed provider may drop its pages so that
  // building a large model does not keep it resident.
  virtual void release(const std::string &name) const { (void)name; }
};

}  // namespace llmc::codegen
