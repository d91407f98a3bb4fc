// LtGemm.h - the prefill projections through cuBLASLt: y[T, N] = x[T, K] · W[N, K]ᵀ (+ bias).
//
// Owned by the CUDA backend. Above kMaxGemvRows tokens a linear layer is compute-bound and goes to
// cuBLASLt: bf16/f16 operands (activations arrive 16-bit from their producer, or are narrowed by
// a cast kernel), f32 accumulation, the bias added by the matmul's epilogue instead of another
// pass. The output is f32, or the operands' 16-bit type where the consumer narrows it anyway
// (docs/cuda.md, "16-bit hand-off"): half the bytes written and read. f32 engines use
// CUBLAS_COMPUTE_32F (no TF32: f32 engines are the accuracy reference).
//
// Layouts: cuBLASLt is column-major. Row-major W [N, K] is column-major Wᵀ [K, N] (ld K) and
// row-major x [T, K] is column-major xᵀ [K, T]; so D (column-major [N, T], ld N, which is row-major
// y [T, N]) = op(A) · B with A = W viewed [K, N] transposed, B = xᵀ [K, T].
// Descriptors and the heuristic's algorithm are cached per (dtype, output dtype, T, N, K, bias).
#pragma once

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>

#include "CudaHandles.h"
#include "llmc/runtime/EngineFormat.h"
#include "llmc/runtime/Status.h"

namespace llmc::cuda {

class LtGemm {
 public:
  static StatusOr<std::unique_ptr<LtGemm>> create(size_t workspaceBytes);
  ~LtGemm();

  // x: [T, K] of `dtype` (the weight's dtype); w: [N, K]; bias: [N] f32 or null; y: [T, N] of
  // outType (f32, or `dtype`).
  Status run(engine::DType dtype, const void* x, const void* w, const float* bias, void* y, int t, int n,
             int k, cudaStream_t stream, engine::DType outType = engine::DType::kF32);

 private:
  struct Plan;
  LtGemm() = default;
  StatusOr<Plan*> plan(engine::DType dtype, engine::DType outType, int t, int n, int k, bool bias);

  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer workspace_;
  std::map<std::tuple<int, int, int, int, int, bool>, std::unique_ptr<Plan>> plans_;
};

}  // namespace llmc::cuda
