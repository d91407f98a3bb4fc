// gemv.cuh - decode-time linear layer: y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias[N]), M <= 8.
//
// Owned by the CUDA codegen. At batch 1..8 a linear layer is a pass over the weight matrix with
// almost no arithmetic, so its speed is the speed at which W streams out of device memory:
//   * one warp per output row; lane `l` reads 16-byte chunks l, l+32, l+64, ... of the row, so each
//     warp-wide load is 512 contiguous bytes (fully coalesced) and every weight byte is read once;
//   * kUnroll chunks are loaded before the first is used: each warp keeps kUnroll * 512 bytes in
//     flight, which (with ~30 resident warps per SM) covers the memory latency many times over;
//   * weights are loaded with L1::no_allocate (they are read exactly once) so the activation rows,
//     which every warp of the SM reads again, stay in L1;
//   * K is a compile-time constant: the trip count is known, the loop unrolls, no bounds checks in
//     the hot loop; M is one too, so the M accumulators live in registers;
//   * all M rows of x are multiplied with each weight chunk while it is in registers: the weights
//     are read once for the whole batch, which is why decode at batch 8 costs about what batch 1 does.
// Launch: block 128 threads (4 warps = 4 rows), grid ceil(N / 4).
#pragma once

#include "common.cuh"

namespace llmc {

constexpr int kGemvWarps = 4;
constexpr int kGemvUnroll = 8;

// Accumulates acc[m] += x[m, k0 .. k0+E) · wf[0 .. E) for E elements starting at k0.
template <int K, int M, int E, bool XAligned>
__device__ __forceinline__ void gemvDot(const float* __restrict__ x, int k0, const float* wf,
                                        float (&acc)[M]) {
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float* xr = x + m * K + k0;
    if (XAligned) {
      // x rows are 16-byte aligned: E/4 vector loads from L1 instead of E scalar ones.
#pragma unroll
      for (int i = 0; i < E; i += 4) {
        const float4 xv = __ldg(reinterpret_cast<const float4*>(xr + i));
        acc[m] = fmaf(wf[i], xv.x, acc[m]);
        acc[m] = fmaf(wf[i + 1], xv.y, acc[m]);
        acc[m] = fmaf(wf[i + 2], xv.z, acc[m]);
        acc[m] = fmaf(wf[i + 3], xv.w, acc[m]);
      }
    } else {
#pragma unroll
      for (int i = 0; i < E; ++i) acc[m] = fmaf(wf[i], __ldg(xr + i), acc[m]);
    }
  }
}

template <typename W, int K, int M, bool XAligned>
__device__ __forceinline__ void gemvBody(const float* __restrict__ x, const W* __restrict__ w,
                                         const float* __restrict__ bias, float* __restrict__ y,
                                         int n) {
  const int row = blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= n) return;  // the whole warp leaves together: no shuffle below misses a lane
  const W* __restrict__ wr = w + (u64)row * K;

  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.f;

  constexpr int E = Vec16<W>::kElems;
  if constexpr (K % E == 0) {
    // Vector path: the engine stores every tensor 4096-aligned and the backend keeps that, so
    // with K % E == 0 every row starts on a 16-byte boundary.
    constexpr int kChunks = K / E;
    constexpr int kFull = kChunks / 32;  // chunks every lane reads
    constexpr int kRem = kChunks % 32;   // lanes [0, kRem) read one more
#pragma unroll
    for (int c0 = 0; c0 < kFull; c0 += kGemvUnroll) {
      uint4 wv[kGemvUnroll];
#pragma unroll
      for (int u = 0; u < kGemvUnroll; ++u)
        if (c0 + u < kFull) wv[u] = loadStream16(wr + ((c0 + u) * 32 + lane) * E);
#pragma unroll
      for (int u = 0; u < kGemvUnroll; ++u) {
        if (c0 + u < kFull) {
          float wf[E];
          unpack16(wv[u], (const W*)nullptr, wf);
          gemvDot<K, M, E, XAligned>(x, ((c0 + u) * 32 + lane) * E, wf, acc);
        }
      }
    }
    if (kRem > 0 && lane < kRem) {
      float wf[E];
      unpack16(loadStream16(wr + (kFull * 32 + lane) * E), (const W*)nullptr, wf);
      gemvDot<K, M, E, XAligned>(x, (kFull * 32 + lane) * E, wf, acc);
    }
  } else {
    // Odd K (tiny test models): rows are not 16-byte aligned; element loads, still coalesced.
    for (int k = lane; k < K; k += 32) {
      const float wf = toFloat(wr[k]);
#pragma unroll
      for (int m = 0; m < M; ++m) acc[m] = fmaf(wf, __ldg(x + m * K + k), acc[m]);
    }
  }

  const float b = bias != nullptr ? bias[row] : 0.f;
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float s = warpSum(acc[m]);
    if (lane == m % 32) y[(u64)m * n + row] = s + b;  // spread the M stores over lanes
  }
}

}  // namespace llmc

// x: [M, K] f32; w: [N, K] W; bias: [N] f32 or null; y: [M, N] f32 (must not overlap x).
#define LLMC_DEFINE_GEMV(NAME, W, K, M)                                                         \
  extern "C" __global__ void __launch_bounds__(128)                                             \
      NAME(const float* __restrict__ x, const W* __restrict__ w, const float* __restrict__ bias, \
           float* __restrict__ y, int n) {                                                      \
    if ((reinterpret_cast<::llmc::u64>(x) & 15) == 0)                                           \
      ::llmc::gemvBody<W, K, M, ((K) % 4 == 0)>(x, w, bias, y, n);                              \
    else                                                                                        \
      ::llmc::gemvBody<W, K, M, false>(x, w, bias, y, n);                                       \
  }
