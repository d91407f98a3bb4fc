//===- OnnxBuild.h - `llmc build model.onnx` --------------------*- C++ -*-===//
//
// Owner: onnx. The ONNX branch of llmc::buildEngine (BuildDriver.cpp hands over every input
// ending in .onnx): import (generic llm ops) -> raising pipeline (per-token llm ops; fails
// listing whatever stays generic) -> default pipeline -> program -> engine. The model's
// hyper-parameters come from the raised graph; bos/eos ids, max_position and the tokenizer from
// config.json / generation_config.json / tokenizer.json next to the .onnx file when present.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Compiler/BuildDriver.h"

namespace llmc {

Status buildOnnxEngine(const BuildOptions &options, BuildSummary *summary);

}  // namespace llmc
