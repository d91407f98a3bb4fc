//===- OnnxSideFiles.h - config files next to a .onnx model ----*- C++ -*-===//
//
// Owner: onnx. Internal to compiler/import/onnx. What a token LM's engine takes from the optional
// files next to the .onnx file (docs/onnx.md): max_position (config.json, else a default),
// eos ids (config.json + generation_config.json), bos id, tokenizer files. Shared by the
// per-token build (OnnxBuild.cpp) and the graph-program build (OnnxGraphBuild.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include <nlohmann/json.hpp>

#include <string>

namespace llmc::onnx_import {

// Sets model["max_position"], ["eos_token_ids"], ["bos_token_id"] (ids checked against
// `vocab`) and report["max_position_source"]. Errors name the side file.
Status readSideFiles(const std::string &onnxPath, int64_t vocab, nlohmann::json &model,
                     nlohmann::json &report);

}  // namespace llmc::onnx_import
