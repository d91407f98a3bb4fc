//===- Paths.h - small path and side-file helpers of the build drivers -*- C++ -*-===//
//
// Shared by the HF and ONNX build paths (BuildDriver.cpp, import/onnx/OnnxBuild.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/runtime/Status.h"

#include <optional>
#include <string>
#include <vector>

namespace llmc {

// dir + "/" + name (no doubled slash).
std::string joinPath(const std::string &dir, const std::string &name);

// The last path component, without trailing slashes ("models/tiny/" -> "tiny").
std::string baseName(std::string path);

// "sm_80, sm_90" -> {"sm_80", "sm_90"} (blanks and empty items dropped).
std::vector<std::string> splitList(const std::string &list);

// The file's bytes, or nullopt when it does not exist; an error when it exists but can't be read.
StatusOr<std::optional<std::string>> readOptionalFile(const std::string &path);

} // namespace llmc
