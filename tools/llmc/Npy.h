// Npy.h - reading and writing NumPy .npy files (format versions 1-3, little-endian, C order) for
// `llmc eval`. Element types: the graph program's (f32 f16 f64 i8..i64 u8..u64 bool; bf16 as the
// 2-byte void '<V2' that ml_dtypes' bfloat16 arrays are saved as). Errors name the file and say what is wrong.
#pragma once

#include <string>

#include "llmc/runtime/GraphEval.h"

namespace llmc::cli {

StatusOr<HostTensor> readNpy(const std::string& path);
// Writes PATH.tmp then renames it onto PATH.
Status writeNpy(const std::string& path, const HostTensor& t);

}  // namespace llmc::cli
