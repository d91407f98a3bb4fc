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
// Descriptors and the chosen algorithm are cached per (dtype, output dtype, T, N, K, bias).
//
// Choosing the algorithm: the heuristic's first answer, or (autotune, for T >= kAutotuneMinRows
// outside graph capture) the fastest of its first kAutotuneCandidates answers, timed on the call's
// own operands the first time a shape is seen (what TensorRT does at build time; llmc builds
// without a GPU, so it happens at the first prefill of each shape, ~1 ms per candidate). The timed
// runs write y, which the real run then overwrites. Different algorithms sum in different orders,
// so two processes may choose differently and differ in the last bits. Off by default in the
// backend (LLMC_CUDA_GEMM_AUTOTUNE=1 turns it on): on an H100 it changed the Llama-2-7B and
// Llama-3-8B 2048-token prefill by less than the run-to-run noise (docs/perf.md); the bench's
// GEMM-rate yardstick always uses it (the best rate the device gives).
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
  static StatusOr<std::unique_ptr<LtGemm>> create(size_t workspaceBytes, bool autotune = false);
  static constexpr int kAutotuneMinRows = 128;
  static constexpr int kAutotuneCandidates = 8;
  // Shapes whose algorithm was timed, and how many of those kept another than the heuristic's first.
  int autotuned() const { return autotuned_; }
  int autotuneChanged() const { return autotuneChanged_; }
  ~LtGemm();

  // x: [T, K] of `dtype` (the weight's dtype); w: [N, K]; bias: [N] f32 or null; y: [T, N] of
  // outType (f32, or `dtype`).
  Status run(engine::DType dtype, const void* x, const void* w, const float* bias, void* y, int t, int n,
             int k, cudaStream_t stream, engine::DType outType = engine::DType::kF32);

 private:
  struct Plan;
  LtGemm() = default;
  StatusOr<Plan*> plan(engine::DType dtype, engine::DType outType, int t, int n, int k, bool bias);
  // Times each candidate on the call's operands and keeps the fastest in p->algo.
  Status tune(Plan* p, const cublasLtMatmulHeuristicResult_t* results, int found, const void* x, const void* w,
              const float* bias, void* y, cudaStream_t stream);
  Status matmul(Plan* p, const cublasLtMatmulAlgo_t& algo, const void* x, const void* w, const float* bias, void* y,
                cudaStream_t stream);

  cublasLtHandle_t handle_ = nullptr;
  bool autotune_ = false;
  int autotuned_ = 0, autotuneChanged_ = 0;
  DeviceBuffer workspace_;
  std::map<std::tuple<int, int, int, int, int, bool>, std::unique_ptr<Plan>> plans_;
};

}  // namespace llmc::cuda
