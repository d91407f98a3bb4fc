//===- OnnxOps.h - the ONNX operators the importer converts -----*- C++ -*-===//
//
// Owner: onnx. For documentation and tests (llmc-import-onnx --list-ops, compared with the
// `onnx` package's schemas in tests/lit/onnx/op-versions.mlir).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::onnx_import {

struct SupportedOp {
  std::string domain;             // "" = ai.onnx
  std::string opType;
  int64_t minVersion = 0;         // oldest since_version converted
  std::vector<int64_t> versions;  // every since_version ONNX defined up to the newest known opset
};

// Sorted by (domain, op).
std::vector<SupportedOp> supportedOps();
// The newest default-domain opset llmc knows.
int64_t maxKnownOpset();

}  // namespace llmc::onnx_import
