// GraphLaunch.h - device tensors of the CUDA graph runner and one launcher per generic op.
//
// Each launcher checks its operands and works out the result's shape exactly as the CPU
// interpreter's kernel does (runtime/backends/cpu/graph/GraphKernels.h, same messages), then
// enqueues graph_ops.cuh kernels on the context's stream. Results have the type the CPU kernel
// gives them; the runner casts to the program's declared type where it differs.
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "GraphKernelAbi.h"
#include "llmc/runtime/GraphProgram.h"
#include "llmc/runtime/Status.h"

namespace llmc::cuda::graph {

// An N-d tensor in device memory, in its value class: doubles for float types, i64 for integer
// types and bool (8 bytes an element, graph_ops.cuh). Copies share the buffer (a reshape is one).
struct DTensor {
  GType type = GType::kF32;
  std::vector<int64_t> shape;
  std::shared_ptr<void> buf;

  bool isFloat() const { return gtypeIsFloat(type); }
  int cls() const { return isFloat() ? 1 : 0; }
  int64_t numel() const;
  void* data() const { return buf.get(); }
};

struct LaunchCtx {
  cudaStream_t stream = nullptr;
  const std::map<std::string, cudaKernel_t>* kernels = nullptr;
  int* err = nullptr;  // the running op's device error slot (GraphError)

  // A tensor of `shape` in the class of `type` (stream-ordered allocation, freed with its last copy).
  StatusOr<DTensor> alloc(GType type, std::vector<int64_t> shape) const;
  // Launches kernel `name` with `args` (each exactly the type of the kernel's parameter).
  template <typename... Args>
  Status launch(const char* name, dim3 grid, dim3 block, Args... args) const;
  // A 1-d grid of 256-thread blocks covering n (grid-stride kernels: capped, any size is correct).
  static dim3 gridFor(int64_t n);
};

Status launchKernel(const LaunchCtx& c, const char* name, dim3 grid, dim3 block, void** argv);

template <typename... Args>
Status LaunchCtx::launch(const char* name, dim3 grid, dim3 block, Args... args) const {
  void* argv[] = {static_cast<void*>(&args)...};
  return launchKernel(*this, name, grid, block, argv);
}

// Element-wise (GraphLaunchElementwise.cpp).
StatusOr<DTensor> unaryG(const LaunchCtx& c, const std::string& fn, const DTensor& a, GType type);
StatusOr<DTensor> binaryG(const LaunchCtx& c, const std::string& fn, const DTensor& a, const DTensor& b, GType type);
StatusOr<DTensor> whereG(const LaunchCtx& c, const DTensor& cond, const DTensor& a, const DTensor& b, GType type);
StatusOr<DTensor> castG(const LaunchCtx& c, const DTensor& a, GType to);
// Copies `src` viewed through (shape, strides, offset) into `dst` at (strides, offset), casting
// to dst's type: the one kernel behind transpose, expand, slice, concat and cast.
Status stridedCopy(const LaunchCtx& c, const DTensor& src, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& srcStrides, int64_t srcOff, const DTensor& dst,
                   const std::vector<int64_t>& dstStrides, int64_t dstOff);

// Math (GraphLaunchMath.cpp).
StatusOr<DTensor> matmulG(const LaunchCtx& c, const DTensor& a, const DTensor& b, GType type);
StatusOr<DTensor> reduceG(const LaunchCtx& c, const std::string& fn, const DTensor& a, const std::vector<int64_t>& axes,
                          bool keepdims, GType type);
StatusOr<DTensor> softmaxG(const LaunchCtx& c, const DTensor& a, int64_t axis);
StatusOr<DTensor> cumsumG(const LaunchCtx& c, const DTensor& a, int64_t axis, bool exclusive, bool reverse, GType type);
StatusOr<DTensor> sdpaG(const LaunchCtx& c, const DTensor& q, const DTensor& k, const DTensor& v, const DTensor* mask,
                        double scale, bool causal, GType type);

// Data movement (GraphLaunchMovement.cpp).
StatusOr<DTensor> transposeG(const LaunchCtx& c, const DTensor& a, const std::vector<int64_t>& perm);
StatusOr<DTensor> expandG(const LaunchCtx& c, const DTensor& a, const std::vector<int64_t>& shape);
StatusOr<DTensor> sliceG(const LaunchCtx& c, const DTensor& a, const std::vector<int64_t>& starts,
                         const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                         const std::vector<int64_t>& steps);
StatusOr<DTensor> concatG(const LaunchCtx& c, const std::vector<const DTensor*>& parts, int64_t axis, GType type);
StatusOr<DTensor> gatherG(const LaunchCtx& c, const DTensor& data, const DTensor& indices, int64_t axis);
StatusOr<DTensor> gatherNDG(const LaunchCtx& c, const DTensor& data, const DTensor& indices, int64_t batchDims);
// `n`: the length the program declares (checked on the device against start, limit, delta).
StatusOr<DTensor> rangeG(const LaunchCtx& c, const DTensor& start, const DTensor& limit, const DTensor& delta,
                         GType type, int64_t n);
StatusOr<DTensor> triluG(const LaunchCtx& c, const DTensor& a, int64_t k, bool upper);

}  // namespace llmc::cuda::graph
