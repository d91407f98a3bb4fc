// GraphRunner.h - runs an engine's graph program (generic ops, docs/graph-program.md) on the GPU.
//
// The device counterpart of the CPU's GraphInterpreter, with its semantics (value classes,
// rounding, checks and messages): each op is one or a few graph_ops.cuh launches on the runner's
// stream, values live in stream-ordered device memory until their last reader, and results stay on
// the device; errors that depend on the data (GraphError) are read back once, after the run, and
// name the op that raised them. Weights are uploaded once, in their engine dtype, and widened by
// each weight_value op as it runs; constants are widened once and kept.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../CudaHandles.h"
#include "../KernelLibrary.h"
#include "../../cpu/graph/GTensor.h"
#include "GraphLaunch.h"
#include "llmc/runtime/Engine.h"

namespace llmc::cuda::graph {

class GraphRunner {
 public:
  // Loads the kernels section for this device and uploads the weights the program reads.
  static StatusOr<std::unique_ptr<GraphRunner>> create(const Engine& engine, int device);
  ~GraphRunner();

  // Runs the program (one tensor per program input, in order; T is what a -1 dimension means)
  // and leaves the outputs on the device.
  Status run(const std::vector<cpu::graph::GTensor>& inputs, int64_t T, std::vector<DTensor>* outputs);
  // Copies `count` elements of `t` from flat index `first` to the host (count -1: to the end).
  StatusOr<cpu::graph::GTensor> download(const DTensor& t, int64_t first = 0, int64_t count = -1);

 private:
  GraphRunner(const Engine& engine) : engine_(engine), g_(*engine.graph()) {}
  Status runOp(size_t index, std::vector<DTensor>& vals, int64_t T);
  // The op's result, before the declared-shape check and the cast to the declared type.
  StatusOr<DTensor> evalOp(size_t index, const std::vector<DTensor>& vals, int64_t T);
  StatusOr<DTensor> upload(const cpu::graph::GTensor& t);
  StatusOr<DTensor> fromRaw(const void* raw, GType rawType, GType type, const std::vector<int64_t>& shape);

  const Engine& engine_;
  const GraphProgram& g_;
  Stream stream_;
  std::unique_ptr<KernelLibrary> lib_;
  std::map<std::string, cudaKernel_t> kernels_;
  DeviceBuffer errors_;                       // one int per op (GraphError)
  std::vector<int> lastUse_;                  // per value: last op index reading it
  std::map<int, DeviceBuffer> rawWeights_;    // op index (weight_value) -> the weight's engine bytes
  std::map<int, DTensor> constants_;          // op index (constant) -> widened, kept
};

}  // namespace llmc::cuda::graph
