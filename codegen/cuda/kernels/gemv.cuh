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

// Accumulates acc[m] += x[m, k0 .. k0+E) · wf[0 .. E) (x rows 16-byte aligned: E/4 vector loads
// from L1 per row instead of E scalar ones).
template <int K, int M, int E>
__device__ __forceinline__ void gemvDot(const float* __restrict__ x, int k0, const float* wf,
                                        float (&acc)[M]) {
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float* xr = x + m * K + k0;
#pragma unroll
    for (int i = 0; i < E; i += 4) {
      const float4 xv = __ldg(reinterpret_cast<const float4*>(xr + i));
      acc[m] = fmaf(wf[i], xv.x, acc[m]);
      acc[m] = fmaf(wf[i + 1], xv.y, acc[m]);
      acc[m] = fmaf(wf[i + 2], xv.z, acc[m]);
      acc[m] = fmaf(wf[i + 3], xv.w, acc[m]);
    }
  }
}

template <typename W, int K, int M>
__device__ __forceinline__ void gemvBody(const float* __restrict__ x, const W* __restrict__ w,
                                         const float* __restrict__ bias, float* __restrict__ y,
                                         int n) {
  const int row = blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  const bool active = row < n;
  const W* __restrict__ wr = w + (u64)(active ? row : 0) * K;

  constexpr int E = Vec16<W>::kElems;
  constexpr int kChunks = K / E;
  constexpr int kFull = kChunks / 32;  // chunks every lane reads
  constexpr int kRem = kChunks % 32;   // lanes [0, kRem) read one more
  // The vector path needs 16-byte aligned weight rows (the engine stores every tensor 4096-aligned
  // and the backend keeps that, so K % E == 0 suffices) and x rows (the backend's arena layout
  // keeps every value 16-byte aligned, so K % 4 == 0 suffices; checked anyway).
  const bool vectorOk = K % E == 0 && K % 4 == 0 && (reinterpret_cast<u64>(x) & 15) == 0;

  // The first kGemvUnroll weight chunks are requested before waiting for the previous kernel
  // (programmatic dependent launch): weights depend on no kernel, so the start of this GEMV's
  // weight stream overlaps the previous kernel's tail.
  uint4 wv[kGemvUnroll];
  if (vectorOk && active) {
#pragma unroll
    for (int u = 0; u < kGemvUnroll; ++u)
      if (u < kFull) wv[u] = loadStream16(wr + (u * 32 + lane) * E);
  }
  gridWait();
  launchDependents();
  if (!active) return;  // the whole warp leaves together: no shuffle below misses a lane

  float acc[M];
#pragma unroll
  for (int m = 0; m < M; ++m) acc[m] = 0.f;

  if (vectorOk) {
    // Not unrolled: one body of kGemvUnroll loads already keeps enough bytes in flight, and a
    // fully unrolled K=11008 x M=8 body makes NVRTC take seconds per kernel (docs/cuda.md).
#pragma unroll 1
    for (int c0 = 0; c0 < kFull; c0 += kGemvUnroll) {
      if (c0 > 0) {
#pragma unroll
        for (int u = 0; u < kGemvUnroll; ++u)
          if (c0 + u < kFull) wv[u] = loadStream16(wr + ((c0 + u) * 32 + lane) * E);
      }
#pragma unroll
      for (int u = 0; u < kGemvUnroll; ++u) {
        if (c0 + u < kFull) {
          float wf[E];
          unpack16(wv[u], (const W*)nullptr, wf);
          gemvDot<K, M, E>(x, ((c0 + u) * 32 + lane) * E, wf, acc);
        }
      }
    }
    if (kRem > 0 && lane < kRem) {
      float wf[E];
      unpack16(loadStream16(wr + (kFull * 32 + lane) * E), (const W*)nullptr, wf);
      gemvDot<K, M, E>(x, (kFull * 32 + lane) * E, wf, acc);
    }
  } else {
    // Odd K (tiny test models) or an unaligned x: element loads, still coalesced.
#pragma unroll 1
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
    ::llmc::gemvBody<W, K, M>(x, w, bias, y, n);                                                \
  }
