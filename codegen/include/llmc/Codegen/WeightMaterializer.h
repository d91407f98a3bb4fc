//===- WeightMaterializer.h - weight symbols -> engine bytes ----*- C++ -*-===//
//
// Owned by the compiler (cc). Produces the bytes of one weight of a WeightPlan in its engine
// dtype, reading the checkpoint through a WeightProvider: a source tensor is converted
// (F32/F16/BF16 -> f32/f16/bf16, round to nearest even), a concat interleaves or stacks its parts,
// a transpose swaps the two axes. Bytes are produced in chunks of about 4 MB, so memory stays at
// one chunk per weight (a transpose holds its one input tensor).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Codegen/WeightPlan.h"
#include "llmc/Codegen/WeightProvider.h"
#include "llmc/runtime/Status.h"

#include <functional>

namespace llmc::codegen {

using ByteSink = std::function<Status(const void *data, size_t bytes)>;

class WeightMaterializer {
 public:
  WeightMaterializer(const WeightPlan &plan, const WeightProvider &provider)
      : plan_(plan), provider_(provider) {}

  // Checks that every emitted weight can be produced: sources exist with the declared shape and a
  // supported dtype, concat parts agree, transposes are 2-D. Errors name the checkpoint file.
  Status validate() const;
  // Streams the engine bytes of `symbol` (exactly WeightDef::nbytes()) into `sink`.
  Status write(const std::string &symbol, const ByteSink &sink) const;

 private:
  const WeightPlan &plan_;
  const WeightProvider &provider_;
};

}  // namespace llmc::codegen
