// GraphInterpreter.h - runs an engine's graph program on the CPU (docs/graph-program.md).
//
// Borrows the Engine (which must outlive it). Weights are converted once, on first use, to the
// type their weight_value declares and kept; every other value lives only until its last reader.
#pragma once

#include <memory>
#include <vector>

#include "GTensor.h"
#include "llmc/runtime/Engine.h"

namespace llmc::cpu::graph {

class GraphInterpreter {
 public:
  explicit GraphInterpreter(const Engine& engine);
  // Runs the program with one tensor per program input (in order); `T` is what a -1 dimension
  // means (the sequence length of a token LM; unused by a tensors graph). Checks each input's type
  // and shape, and each op's result against the shape the program declares.
  Status run(std::vector<GTensor> inputs, int64_t T, std::vector<GTensor>* outputs);

 private:
  Status runOp(size_t index, std::vector<GTensor>& vals, int64_t T);
  StatusOr<const GTensor*> weight(size_t opIndex);

  const Engine& engine_;
  const GraphProgram& g_;
  std::vector<int> lastUse_;                           // per value: last op index reading it
  std::vector<std::unique_ptr<GTensor>> weights_;      // per op (weight_value), converted on first use
};

// The shape of value `v` with -1 replaced by T.
std::vector<int64_t> resolvedShape(const GraphValue& v, int64_t T);

}  // namespace llmc::cpu::graph
