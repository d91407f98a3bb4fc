//===- RopeDump.cpp - print the RoPE inv_freq the importer stores ---------===//
//
// Owned by the compiler (cc). Test driver for test_rope_oracle.py:
//   llmc-cc-rope-dump CONFIG.json  ->  {"head_dim": .., "rotary_dim": .., "inv_freq": [..]}
// inv_freq is exactly what the importer puts into llm.rope (double math, stored as f32).
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/HF/HFConfig.h"

#include <nlohmann/json.hpp>

#include <iostream>

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: llmc-cc-rope-dump CONFIG.json\n";
    return 2;
  }
  auto cfg = llmc::hf::parseConfigFile(argv[1]);
  if (!cfg.ok()) {
    std::cerr << cfg.status().message() << "\n";
    return cfg.status().exitCode();
  }
  nlohmann::json out;
  out["head_dim"] = cfg->headDim;
  out["rotary_dim"] = cfg->rotaryDim();
  nlohmann::json freqs = nlohmann::json::array();
  for (double f : llmc::hf::computeRopeInvFreq(*cfg))
    freqs.push_back(static_cast<double>(static_cast<float>(f)));
  out["inv_freq"] = freqs;
  std::cout << out.dump() << "\n";
  return 0;
}
