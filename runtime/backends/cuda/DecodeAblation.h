// DecodeAblation.h - a timing diagnostic: decode steps leave out chosen kernels of each layer
// (LLMC_CUDA_ABLATE=attention,qkv,o_proj,gate_up,down), so `llmc bench --no-verify` shows what
// each kernel kind costs inside the real decode graph, where programmatic launches overlap
// neighbours and an isolated profile (ncu) over- or under-states it. The outputs are wrong while
// it is set; the backend says so on stderr.
//
// Owned by the CUDA backend.
#pragma once

#include <string>

#include "llmc/runtime/Status.h"

namespace llmc::cuda {

enum AblateKind : unsigned {
  kAblateAttention = 1u << 0,
  kAblateQkv = 1u << 1,     // a linear reading a folded norm's output or feeding qkv_attention, not GLU-fused
  kAblateOProj = 1u << 2,   // the linear right after attention
  kAblateGateUp = 1u << 3,  // the GLU-fused gate/up linear
  kAblateDown = 1u << 4,    // a linear that produces a folded norm's statistics, not o_proj
};

// Parses a comma-separated list of the names above ("none": none) into *mask; `variable`
// names the setting in the error (LLMC_CUDA_ABLATE, LLMC_CUDA_TRIGGER_AT_EXIT).
Status parseDecodeKinds(const std::string& list, unsigned* mask, const std::string& variable);

}  // namespace llmc::cuda
