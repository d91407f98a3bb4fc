// DecodeAblation.cpp - the decode kernel kinds' names (LLMC_CUDA_ABLATE, LLMC_CUDA_TRIGGER_AT_EXIT).
#include "DecodeAblation.h"

#include <sstream>

namespace llmc::cuda {

Status parseDecodeKinds(const std::string& list, unsigned* mask, const std::string& variable) {
  *mask = 0;
  std::stringstream in(list);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name.empty() || name == "none") continue;  // "none": a way to turn off a default list
    if (name == "attention") *mask |= kAblateAttention;
    else if (name == "qkv") *mask |= kAblateQkv;
    else if (name == "o_proj") *mask |= kAblateOProj;
    else if (name == "gate_up") *mask |= kAblateGateUp;
    else if (name == "down") *mask |= kAblateDown;
    else
      return InvalidArgument(variable + "=" + list + ": unknown kernel kind '" + name +
                             "' (expected none or a comma-separated list of attention, qkv, o_proj, gate_up, down)");
  }
  return Status::Ok();
}

}  // namespace llmc::cuda
