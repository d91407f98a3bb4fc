// DeviceLimits.h - the GPU's two ceilings, measured the same way by `llmc bench --device cuda`
// (CudaBackend::measureLimits) and by llmc-gpu-check (tests/gpu/GpuCheck.cpp): written once here.
//
// Owned by the CUDA backend.
//   * Read bandwidth: llmc_read_sum (codegen/cuda/kernels/measure.cuh) over a buffer of >= 1 GiB,
//     far beyond L2 (50 MiB on H100): 16-byte loads, 4 in flight per thread; bytes read / time.
//   * GEMM rate: one cuBLASLt bf16 matmul with f32 accumulation and f32 output, exactly as the
//     backend's prefill calls it (LtGemm), at 8192^3 by default, on random operands (tensor cores
//     draw less power on zeros, which would flatter the clock and the rate).
// Every time is the median of repeated runs timed with CUDA events after untimed warm-up runs.
// Every buffer is allocated here and freed before returning.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <string>

#include "LtGemm.h"
#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Status.h"

namespace llmc::cuda {

// The measure.cuh kernels, looked up in an engine's kernel library or a freshly compiled bundle.
struct MeasureKernels {
  cudaKernel_t readSum = nullptr;   // llmc_read_sum
  cudaKernel_t fillBf16 = nullptr;  // llmc_fill_random_bf16
  cudaKernel_t fillF32 = nullptr;   // llmc_fill_random_f32
};
// Their symbol names, in the order above.
inline constexpr const char* kReadSumKernel = "llmc_read_sum";
inline constexpr const char* kFillBf16Kernel = "llmc_fill_random_bf16";
inline constexpr const char* kFillF32Kernel = "llmc_fill_random_f32";

// Median milliseconds of `reps` runs of `body` enqueued on `stream` (after `warm` untimed runs).
StatusOr<double> medianMs(cudaStream_t stream, int warm, int reps, const std::function<Status()>& body);

// Fills n elements with uniform random values in [-scale, scale) from `seed` (on `stream`).
Status fillRandomBf16(const MeasureKernels& k, void* p, uint64_t n, uint32_t seed, float scale, cudaStream_t stream);
Status fillRandomF32(const MeasureKernels& k, float* p, uint64_t n, uint32_t seed, float scale, cudaStream_t stream);

// Bytes per second of a read-only sum over a buffer of `bytes` (allocated and freed here).
StatusOr<double> measureReadBandwidth(const MeasureKernels& k, uint64_t bytes, int reps, cudaStream_t stream);

// FLOP/s (2 t n k per matmul) of gemm.run(bf16 x [t, k], W [n, k] -> f32 y [t, n]) on random data.
StatusOr<double> measureBf16GemmRate(const MeasureKernels& kernels, LtGemm& gemm, int t, int n, int k, int reps,
                                     cudaStream_t stream);

struct LimitOptions {
  uint64_t readBytes = 1ull << 30;  // halved (down to 256 MiB) while the allocation fails
  int gemmSize = 8192;              // halved (down to 2048) while the allocation fails
  int reps = 20;
  bool verbose = false;             // say on stderr when a size was reduced
};
// The device's name, read bandwidth and bf16 GEMM rate (a temporary LtGemm of its own).
StatusOr<DeviceLimits> measureDeviceLimits(const MeasureKernels& k, int device, const LimitOptions& options,
                                           cudaStream_t stream);

}  // namespace llmc::cuda
