// DecodeAblation.cpp - LLMC_CUDA_ABLATE's names (DecodeAblation.h).
#include "DecodeAblation.h"

#include <sstream>

namespace llmc::cuda {

Status parseAblation(const std::string& list, unsigned* mask) {
  *mask = 0;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty()) continue;
    if (name == "attention") *mask |= kAblateAttention;
    else if (name == "qkv") *mask |= kAblateQkv;
    else if (name == "o_proj") *mask |= kAblateOProj;
    else if (name == "gate_up") *mask |= kAblateGateUp;
    else if (name == "down") *mask |= kAblateDown;
    else
      return InvalidArgument("LLMC_CUDA_ABLATE=" + list + ": unknown kernel kind '" + name +
                             "' (expected a comma-separated list of attention, qkv, o_proj, gate_up, down)");
  }
  return Status::Ok();
}

}  // namespace llmc::cuda
