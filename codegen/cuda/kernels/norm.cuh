// norm.cuh - RMSNorm, fused residual-add + RMSNorm, and LayerNorm over rows of width H.
//
// Owned by the CUDA codegen. One block per row (token). H is a compile-time constant so each
// thread keeps its ceil(H / threads) elements in registers: the row is read from memory once,
// reduced, and written once (the fused add_rms_norm reads x and residual once and writes both the
// sum and the normalised row: three passes over the activations become one).
// Launch: block kNormThreads, grid T (rows).
#pragma once

#include "common.cuh"

namespace llmc {

constexpr int kNormThreads = 256;

template <int H>
struct NormShape {
  static constexpr int kPer = (H + kNormThreads - 1) / kNormThreads;  // elements per thread
};

// y = x / sqrt(mean(x²) + eps) * (w (+ 1 when unitOffset)); x [T, H] f32, y [T, H] of yType
// (ActType: f32, or 16-bit when y only feeds a prefill GEMM).
// residual != null: x := x + residual first, and that sum is written to `sum` (add_rms_norm).
template <typename W, int H>
__device__ __forceinline__ void rmsNormBody(const float* x, const float* residual,
                                            const W* __restrict__ w, float* sum,
                                            void* __restrict__ y, float eps, int unitOffset, int yType) {
  __shared__ float scratch[32];
  constexpr int P = NormShape<H>::kPer;
  const u64 base = (u64)blockIdx.x * H;
  float v[P], wv[P];
  float ss = 0.f;
  // The weights do not depend on the reduction: load them now so their latency overlaps it.
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int k = threadIdx.x + i * kNormThreads;
    wv[i] = k < H ? toFloat(w[k]) : 0.f;
  }
  // Every load first, then the stores: `sum` may alias x (so the compiler may not move a load
  // above an earlier store), and interleaving them serialised P round trips to memory per thread
  // (10 us for one 4096-wide decode row on an H100, against ~3 us with the loads in flight).
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int k = threadIdx.x + i * kNormThreads;
    v[i] = k < H ? x[base + k] : 0.f;
  }
  if (residual != nullptr) {
    float r[P];
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int k = threadIdx.x + i * kNormThreads;
      r[i] = k < H ? residual[base + k] : 0.f;
    }
#pragma unroll
    for (int i = 0; i < P; ++i) {
      const int k = threadIdx.x + i * kNormThreads;
      v[i] += r[i];
      if (k < H) sum[base + k] = v[i];
    }
  }
#pragma unroll
  for (int i = 0; i < P; ++i) ss = fmaf(v[i], v[i], ss);
  ss = blockSum(ss, scratch);
  const float inv = rsqrtf(ss / (float)H + eps);
  const float off = unitOffset ? 1.f : 0.f;
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int k = threadIdx.x + i * kNormThreads;
    if (k < H) storeAct(y, base + k, v[i] * inv * (wv[i] + off), yType);
  }
}

// Standard LayerNorm: (x - mean) / sqrt(var + eps) * w + b, var the biased variance; two passes
// over registers (mean first, then squared deviations) rather than E[x²] - E[x]², which cancels.
template <typename W, int H>
__device__ __forceinline__ void layerNormBody(const float* __restrict__ x, const W* __restrict__ w,
                                              const W* __restrict__ b, void* __restrict__ y,
                                              float eps, int yType) {
  __shared__ float scratch[32];
  constexpr int P = NormShape<H>::kPer;
  const u64 base = (u64)blockIdx.x * H;
  float v[P];
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int k = threadIdx.x + i * kNormThreads;
    v[i] = k < H ? x[base + k] : 0.f;
    s += v[i];
  }
  const float mean = blockSum(s, scratch) / (float)H;
  float d2 = 0.f;
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int k = threadIdx.x + i * kNormThreads;
    if (k < H) d2 = fmaf(v[i] - mean, v[i] - mean, d2);
  }
  const float inv = rsqrtf(blockSum(d2, scratch) / (float)H + eps);
#pragma unroll
  for (int i = 0; i < P; ++i) {
    const int k = threadIdx.x + i * kNormThreads;
    if (k < H) {
      const float bias = b != nullptr ? toFloat(b[k]) : 0.f;
      storeAct(y, base + k, (v[i] - mean) * inv * toFloat(w[k]) + bias, yType);
    }
  }
}

}  // namespace llmc

// x: [T, H] f32; y: [T, H] of yType (ActType); w: [H] W.
#define LLMC_DEFINE_RMS_NORM(NAME, W, H)                                                  \
  extern "C" __global__ void __launch_bounds__(::llmc::kNormThreads)                      \
      NAME(const float* __restrict__ x, const W* __restrict__ w, void* __restrict__ y,    \
           float eps, int unitOffset, int yType) {                                        \
    ::llmc::pdlEnter();                                                                   \
    ::llmc::rmsNormBody<W, H>(x, nullptr, w, nullptr, y, eps, unitOffset, yType);         \
  }

// sum = x + residual; y = rms_norm(sum). x, residual, sum [T, H] f32, y [T, H] of yType; sum and
// y must not overlap x/residual rows of other blocks (each block reads and writes only its own
// row, so sum may alias x).
#define LLMC_DEFINE_ADD_RMS_NORM(NAME, W, H)                                                \
  extern "C" __global__ void __launch_bounds__(::llmc::kNormThreads)                        \
      NAME(const float* x, const float* residual, const W* __restrict__ w, float* sum,      \
           void* __restrict__ y, float eps, int unitOffset, int yType) {                    \
    ::llmc::pdlEnter();                                                                     \
    ::llmc::rmsNormBody<W, H>(x, residual, w, sum, y, eps, unitOffset, yType);              \
  }

// x: [T, H] f32; y: [T, H] of yType (ActType); w, b: [H] W (b may be null).
#define LLMC_DEFINE_LAYER_NORM(NAME, W, H)                                                   \
  extern "C" __global__ void __launch_bounds__(::llmc::kNormThreads)                         \
      NAME(const float* __restrict__ x, const W* __restrict__ w, const W* __restrict__ b,    \
           void* __restrict__ y, float eps, int yType) {                                     \
    ::llmc::pdlEnter();                                                                      \
    ::llmc::layerNormBody<W, H>(x, w, b, y, eps, yType);                                     \
  }
