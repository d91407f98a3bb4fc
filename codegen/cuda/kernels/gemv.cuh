// gemv.cuh - decode-time linear layer: y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias[N]), M <= 8.
//
// Owned by the CUDA codegen. At batch 1..8 a linear layer is a pass over the weight matrix with
// almost no arithmetic, so its speed is the speed at which W streams out of device memory:
//   * one warp per output row; lane `l` reads 16-byte chunks l, l+32, l+64, ... of the row, so each
//     warp-wide load is 512 contiguous bytes (fully coalesced) and every weight byte is read once;
//   * kGemvUnroll chunks per row are in registers in kGemvPipelineParts parts, and a part is
//     reloaded with the next round's chunks as soon as it has been used (a software pipeline): with
//     one chunk per part (a rolling reload) each warp always has kGemvUnroll - 1 or kGemvUnroll
//     chunks of 512 bytes in flight. Issuing a whole round, using it and only then issuing the
//     next made a one-wave GEMV (o_proj, down: every warp starts at once) request in GPU-wide
//     bursts with a memory latency of idle bus between rounds (docs/perf.md: +3.5-3.7% decode on
//     the H100);
//   * weights are loaded with L1::no_allocate (they are read exactly once) so the activation rows,
//     which every warp of the SM reads again, stay in L1;
//   * K is a compile-time constant: the trip count is known, the loop unrolls, no bounds checks in
//     the hot loop; M is one too, so the M accumulators live in registers;
//   * all M rows of x are multiplied with each weight chunk while it is in registers: the weights
//     are read once for the whole batch, which is why decode at batch 8 costs about what batch 1 does.
// Launch: block 128 threads (4 warps = 4 rows), grid ceil(N / 4).
// The GLU-fused variant (gemvGluBody) computes a gated MLP's gate and up rows in one warp and
// stores act(gate) * up: decode's gate/up projection and llm.glu in one launch.
//
// Decode's residual-add + RMSNorm is folded into the GEMVs around it (NormFusion.cpp in the
// backend): rms_norm(h)·Wᵀ = inv · (h ∘ w)·Wᵀ with inv = rsqrt(mean(h²) + eps), a scalar per row.
//   * the GEMV before the norm (o_proj, down_proj) takes a GemvNormOut: it adds the residual in its
//     epilogue (h = r + x·Wᵀ), stores h and h ∘ w, and one partial sum of h² per block;
//   * the GEMV after it (the fused QKV or gate/up projection) takes a GemvIn: each of its blocks
//     adds the producer's partials up in one fixed order (so every block gets the same bits),
//     and multiplies its dot products by inv before the bias.
// The partials are reduced by the consumer, not by a last-arriving producer block: that took a
// fence, a ticket atomic and a serial reduction onto the critical path between the two kernels
// (~3 us, twice per layer); reading 4 KB of partials per consumer block costs one round trip at
// its end, as the single ss load did (docs/perf.md: +2.7% decode on the H100).
// A one-block-per-row norm kernel at batch 1 runs on one SM of the GPU (~7 us, twice per layer);
// this way the norm costs a few hundred extra bytes per block and no launch.
#pragma once

#include "common.cuh"

namespace llmc {

constexpr int kGemvWarps = 4;
constexpr int kGemvUnroll = 8;
// Parts of a round that are reloaded one by one: 8 = kGemvUnroll, every chunk reloaded as soon as
// it is used. Measured (H100, Llama-2-7B bf16 decode, docs/perf.md): halves 195.5, quarters 197.8,
// single chunks 198.0 tok/s; all three compile to the same registers, without spills.
constexpr int kGemvPipelineParts = 8;

// Per-launch input options.
//   * A folded RMSNorm before the GEMV: x rows are h ∘ w; sum(h[m]²) over the K columns is the sum
//     of ssParts[b * M + m] over the producer's blocks b < nParts. ssParts == nullptr: x is used
//     as it is.
//   * earlyTrigger: when the next kernel may launch (pdlEnter): 0 once every block of this one has
//     waited for its predecessor; 1 as soon as every block has started, so its own weight prefetch
//     starts sooner; 2 as this one's blocks exit.
//   * earlyParts != 0 (with ssParts; the launch then gives nParts * M floats of dynamic shared
//     memory): right after the wait the block copies the partials into shared memory (cp.async),
//     so their sum at the end of the block (normScales) needs no global round trip. In a multi-wave
//     GEMV (QKV, gate/up) that round trip sits at the end of every block, with nothing of the
//     block's weight stream in flight. Same additions in the same order: the same bits.
//   * prefetchTails != 0: before its wait, each warp also asks L2 for the rest of its rows (all but
//     the first round it loads into registers; warpPrefetchL2), so the memory system streams them
//     while the previous kernel's tail (or a latency-bound kernel) leaves it partly idle.
struct GemvIn {
  const float* ssParts;
  float eps;
  int earlyTrigger;
  int nParts;
  int earlyParts;
  int prefetchTails;
};

// The dynamic shared memory of a GEMV launch: the early copy of a folded norm's partials. Only
// for M <= kGemvEarlyPartsMaxRows (decode at batch 1-2, where the block tail matters most): for
// larger M the copy loop pushed ptxas into spilling (sm_80, K = 11008, M = 7); it is compiled out
// there and the runtime does not ask for it (GemvArgs.h).
extern __shared__ __align__(16) float gemvDynamicSmem[];
constexpr int kGemvEarlyPartsMaxRows = 2;

// The output side: y = residual + x·Wᵀ (+ bias) (y may be residual itself), xw = y ∘ (normW +
// normOffset), partials[blockIdx.x * M + m] = sum of y[m]² over this block's rows (gridDim.x * M
// floats). residual == nullptr: a plain GEMV.
struct GemvNormOut {
  const float* residual;
  const float* normW;
  float normOffset;
  float* xw;
  float* partials;
};

// inv[m] of a folded norm, from the producer's per-block partials (after gridWait: they are the
// previous kernel's output). Every warp of the block must call it (a block barrier). The order of
// the additions (thread-strided, then the warp's xor tree, then warps 0..3) is the same in every
// block, so all blocks scale by the same inv. __ldg as for x: read-only for this kernel's life.
// Not blockSum (common.cuh): that is two barriers per value, this one barrier for all M rows.
template <int K, int M>
__device__ __forceinline__ void normScales(const GemvIn& nin, float (&inv)[M]) {
  if (nin.ssParts == nullptr) {  // the same for the whole launch: no barrier skipped by some warps
#pragma unroll
    for (int m = 0; m < M; ++m) inv[m] = 1.f;
    return;
  }
  __shared__ float warpSs[kGemvWarps][M];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  // The early copy (gemvCopyParts): each thread waits for its own copies, the barrier for the others'.
  const bool early = M <= kGemvEarlyPartsMaxRows && nin.earlyParts != 0;
  if (early) {
    cpAsyncWait<0>();
    __syncthreads();
  }
#pragma unroll
  for (int m = 0; m < M; ++m) {
    float t = 0.f;
    if (early)
      for (int b = threadIdx.x; b < nin.nParts; b += kGemvWarps * 32) t += gemvDynamicSmem[b * M + m];
    else
      for (int b = threadIdx.x; b < nin.nParts; b += kGemvWarps * 32) t += __ldg(nin.ssParts + (u64)b * M + m);
    t = warpSum(t);
    if (lane == 0) warpSs[warp][m] = t;
  }
  __syncthreads();
#pragma unroll
  for (int m = 0; m < M; ++m) {
    float ss = 0.f;
#pragma unroll
    for (int w = 0; w < kGemvWarps; ++w) ss += warpSs[w][m];
    inv[m] = rsqrtf(ss * (1.f / (float)K) + nin.eps);
  }
}

// GemvIn.earlyParts: every thread of the block copies its share of the nParts * M partials into
// the dynamic shared memory (4-byte cp.async: the partials need not be 16-byte aligned), right
// after the wait; normScales waits for them. Called by every thread, active rows or not.
template <int M>
__device__ __forceinline__ void gemvCopyParts(const GemvIn& in) {
  if (M > kGemvEarlyPartsMaxRows || in.ssParts == nullptr || in.earlyParts == 0) return;
#pragma unroll 1
  for (int i = threadIdx.x; i < in.nParts * M; i += kGemvWarps * 32)
    cpAsync4(sharedAddress(gemvDynamicSmem + i), in.ssParts + i);
  cpAsyncCommit();
}

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

// The dot products of R weight rows (wr[0..R), each K long) with the M rows of x, into acc[r][m]
// (complete sums only after warpSum). R = 2 serves the GLU-fused GEMV (a gate and an up row per
// warp). Per row the chunks are accumulated in increasing order whatever R is, so a row's sum is
// bit-identical to what the R = 1 kernel computes for it. Calls gridWait() / launchDependents()
// (after issuing the first weight loads); returns false for an inactive warp (row past n), which
// must then return without touching the shuffles below.
// early != nullptr: right after the wait, lane i % 32 also copies early[m * earlyStride + r] into
// earlySlots[i] in shared memory, i = m * R + r (cp.async: no register held across the dot
// products). It is the residual the norm epilogue adds to row r's output m: requested here, its
// round trip overlaps the dot products instead of adding to the end of every warp. The lane
// reads it back after cpAsyncWait<0>().
template <typename W, int K, int M, int R>
__device__ __forceinline__ bool gemvAccumulate(const float* __restrict__ x, const W* const (&wr)[R],
                                               bool active, const GemvIn& in, const float* early,
                                               int earlyStride, float* earlySlots, float (&acc)[R][M]) {
  const int lane = threadIdx.x & 31;
  constexpr int E = Vec16<W>::kElems;
  constexpr int kChunks = K / E;
  constexpr int kFull = kChunks / 32;  // chunks every lane reads
  constexpr int kRem = kChunks % 32;   // lanes [0, kRem) read one more
  // Loads in flight per row: the same bytes per warp whatever R is (rounded up for R = 3); H per
  // pipeline part.
  constexpr int U = (kGemvUnroll + R - 1) / R;
  constexpr int P = kGemvPipelineParts < U ? kGemvPipelineParts : U;
  constexpr int H = U / P;
  static_assert(U % P == 0, "the pipeline reloads whole parts");
  // The vector path needs 16-byte aligned weight rows (the engine stores every tensor 4096-aligned
  // and the backend keeps that, so K % E == 0 suffices) and x rows (the backend's arena layout
  // keeps every value 16-byte aligned, so K % 4 == 0 suffices; checked anyway).
  const bool vectorOk = K % E == 0 && K % 4 == 0 && (reinterpret_cast<u64>(x) & 15) == 0;

  // The first round (chunks [0, U) of each row, all parts) is requested before waiting for the
  // previous kernel (programmatic dependent launch): weights depend on no kernel, so the start of
  // this GEMV's weight stream overlaps the previous kernel's tail.
  uint4 wv[R][U];
  if (vectorOk && active) {
#pragma unroll
    for (int u = 0; u < U; ++u)
#pragma unroll
      for (int r = 0; r < R; ++r)
        if (u < kFull) wv[r][u] = loadStream16(wr[r] + (u * 32 + lane) * E);
    constexpr u32 kHeadBytes = U * 32 * 16, kRowBytes = (u32)K * TypeInfo<W>::kBytes;
    if (kRowBytes > kHeadBytes && in.prefetchTails != 0)
#pragma unroll
      for (int r = 0; r < R; ++r)
        warpPrefetchL2(reinterpret_cast<const char*>(wr[r]) + kHeadBytes, kRowBytes - kHeadBytes);
  }
  pdlEnter(in.earlyTrigger);
  gemvCopyParts<M>(in);
  if (!active) return false;
  if (early != nullptr) {
#pragma unroll
    for (int i = 0; i < M * R; ++i)
      if (lane == i % 32) cpAsync4(sharedAddress(earlySlots + i), early + (u64)(i / R) * earlyStride + i % R);
    cpAsyncCommit();
  }

#pragma unroll
  for (int r = 0; r < R; ++r)
#pragma unroll
    for (int m = 0; m < M; ++m) acc[r][m] = 0.f;

  if (vectorOk) {
    // Round c0 uses chunks [c0, c0 + U): part 0 is used, then reloaded with the same part of the
    // next round, then part 1 likewise, and so on. Not unrolled over rounds: one body already
    // keeps enough bytes in flight, and a fully unrolled K=11008 x M=8 body makes NVRTC take
    // seconds per kernel (docs/cuda.md).
#pragma unroll 1
    for (int c0 = 0; c0 < kFull; c0 += U) {
#pragma unroll
      for (int part = 0; part < P; ++part) {
#pragma unroll
        for (int u = part * H; u < part * H + H; ++u) {
          if (c0 + u < kFull) {
#pragma unroll
            for (int r = 0; r < R; ++r) {
              float wf[E];
              unpack16(wv[r][u], (const W*)nullptr, wf);
              gemvDot<K, M, E>(x, ((c0 + u) * 32 + lane) * E, wf, acc[r]);
            }
          }
        }
#pragma unroll
        for (int u = part * H; u < part * H + H; ++u)
#pragma unroll
          for (int r = 0; r < R; ++r)
            if (c0 + U + u < kFull) wv[r][u] = loadStream16(wr[r] + ((c0 + U + u) * 32 + lane) * E);
      }
    }
    if (kRem > 0 && lane < kRem) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        float wf[E];
        unpack16(loadStream16(wr[r] + (kFull * 32 + lane) * E), (const W*)nullptr, wf);
        gemvDot<K, M, E>(x, (kFull * 32 + lane) * E, wf, acc[r]);
      }
    }
  } else {
    // Odd K (tiny test models) or an unaligned x: element loads, still coalesced.
#pragma unroll 1
    for (int k = lane; k < K; k += 32) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float wf = toFloat(wr[r][k]);
#pragma unroll
        for (int m = 0; m < M; ++m) acc[r][m] = fmaf(wf, __ldg(x + m * K + k), acc[r][m]);
      }
    }
  }
  return true;
}

// The epilogue of a GEMV before a folded norm (GemvNormOut), for the warp's R consecutive output
// rows row .. row + R - 1. Every warp of the block must call it (inactive ones with live = false):
// it has block barriers.
// residual[m * R + r]: output m's residual element of row r, requested by lane (m * R + r) % 32
// right after the wait (gemvAccumulate's early copy into shared memory); that lane waits for it
// here. nw[r]: row r's normW + normOffset.
template <int M, int R>
__device__ __forceinline__ void gemvNormEpilogue(const float (&out)[R][M], const float* residual, const float (&nw)[R],
                                                 bool live, int row, int n, float* y, const GemvNormOut& no) {
  __shared__ float part[kGemvWarps][M][R];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  // Lane i % 32 owns element i = m * R + r (the M * R stores spread over lanes): it alone read
  // the residual and writes y, so y may be the residual itself.
#pragma unroll
  for (int i = 0; i < M * R; ++i) {
    if (lane != i % 32) continue;
    const int m = i / R, r = i % R;
    float sq = 0.f;
    if (live) {
      const u64 at = (u64)m * n + row + r;
      cpAsyncWait<0>();  // the early copy (with the partials' copy, if any: both are needed)
      const float h = out[r][m] + residual[i];
      y[at] = h;
      no.xw[at] = h * nw[r];
      sq = h * h;
    }
    part[warp][m][r] = sq;
  }
  __syncthreads();
  // This block's partial; the consumer adds them up (normScales). No fence or ticket: the
  // consumer reads them after gridWait, i.e. after this whole grid has completed. Warp by warp,
  // row by row: for R = 1 the order of the one-row kernel.
  if (threadIdx.x < M) {
    float t = 0.f;
#pragma unroll
    for (int w = 0; w < kGemvWarps; ++w)
#pragma unroll
      for (int r = 0; r < R; ++r) t += part[w][threadIdx.x][r];
    no.partials[(u64)blockIdx.x * M + threadIdx.x] = t;
  }
}

// The row's norm weight (normW + normOffset) is a weight (no kernel writes it): requested before
// the stream, so no warp ends it with a round trip through a memory system the other warps still
// saturate (the one-wave o_proj and down GEMVs end on their last warp). Batch 1-2 only: for
// larger M the extra live registers made ptxas spill (sm_80/86/89, K = 11008, M = 8); there
// gemvLateNormW loads them after the stream.
template <int M>
constexpr bool kGemvEarlyNormW = M <= 2;
template <int M, int R>
__device__ __forceinline__ void gemvEarlyNormW(const GemvNormOut& no, bool normed, int row, float (&nw)[R]) {
#pragma unroll
  for (int r = 0; r < R; ++r) nw[r] = kGemvEarlyNormW<M> && normed ? __ldg(no.normW + row + r) + no.normOffset : 0.f;
}
template <int M, int R>
__device__ __forceinline__ void gemvLateNormW(const GemvNormOut& no, bool live, int row, float (&nw)[R]) {
  if (kGemvEarlyNormW<M> || !live) return;
#pragma unroll
  for (int r = 0; r < R; ++r) nw[r] = no.normW[row + r] + no.normOffset;
}

template <typename W, int K, int M>
__device__ __forceinline__ void gemvBody(const float* __restrict__ x, const W* __restrict__ w,
                                         const float* __restrict__ bias, float* __restrict__ y,
                                         int n, const GemvIn& nin, const GemvNormOut& nout) {
  const int row = blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  const bool active = row < n;
  const W* const wr[1] = {w + (u64)(active ? row : 0) * K};
  float acc[1][M];
  __shared__ float residual[kGemvWarps][M];  // the norm epilogue's residual, copied in early
  const int warp = threadIdx.x >> 5;
  const float* residualRow = nout.residual != nullptr ? nout.residual + row : nullptr;
  float nw[1];
  gemvEarlyNormW<M, 1>(nout, active && nout.residual != nullptr, row, nw);
  const bool live = gemvAccumulate<W, K, M, 1>(x, wr, active, nin, residualRow, n, residual[warp], acc);
  traceMark(0);
  float inv[M];
  normScales<K, M>(nin, inv);  // every warp: a block barrier
  traceMark(1);
  // An inactive warp leaves as a whole (no shuffle below misses a lane), except into the
  // norm epilogue, whose barrier every warp must reach.
  if (!live && nout.residual == nullptr) return;
  const float b = live && bias != nullptr ? bias[row] : 0.f;
  float out[1][M];
#pragma unroll
  for (int m = 0; m < M; ++m) out[0][m] = live ? warpSum(acc[0][m]) * inv[m] + b : 0.f;
  if (nout.residual != nullptr) {
    gemvLateNormW<M, 1>(nout, live, row, nw);
    gemvNormEpilogue<M, 1>(out, residual[warp], nw, live, row, n, y, nout);
    return;
  }
#pragma unroll
  for (int m = 0; m < M; ++m)
    if (lane == m % 32) y[(u64)m * n + row] = out[0][m];  // spread the M stores over lanes
}

// The R-row stream shared by gemvRowsBody (R = 2, 3) and gemvGluBody (R = 2): the dot products
// of the warp's R weight rows (acc) and the folded norm's scales (inv). Every warp must call it
// (normScales is a block barrier); false for an inactive warp, which must then return.
template <typename W, int K, int M, int R>
__device__ __forceinline__ bool gemvRows(const float* __restrict__ x, const W* const (&wr)[R], bool active,
                                         const GemvIn& nin, float (&acc)[R][M], float (&inv)[M]) {
  const bool live = gemvAccumulate<W, K, M, R>(x, wr, active, nin, nullptr, 0, nullptr, acc);
  traceMark(0);
  normScales<K, M>(nin, inv);
  traceMark(1);
  return live;
}

// R consecutive output rows per warp (rows R·w .. R·w + R - 1; R·4 per block): the stream of the
// GLU-fused GEMV for a plain linear. Each warp streams R times the bytes per block lifetime, so a
// multi-wave GEMV (the fused QKV projection) has 1/R as many block starts and block-end round
// trips (the folded norm's partials) per byte; gate/up, which streams two rows, reaches ~98% of
// the bandwidth where the one-row QKV GEMV reached ~85% (docs/perf.md). R = 3 makes Llama-2-7B's
// QKV (12288 rows) 1024 blocks, one wave on 132 SMs, where pairs are 1.45 waves whose second
// runs on under half the SMs' slots. Each row's sum is the one gemvBody computes (gemvAccumulate
// adds a row's chunks in the same order whatever R is): the same bits. n must be a multiple of
// 4·R (the backend keeps gemvBody otherwise).
// nout.residual != null: the norm epilogue of gemvBody (GemvNormOut) for the warp's R rows; the
// block's partial then sums 4·R rows, so the consumer reads n / (4·R) partials. For the one-wave
// o_proj and down GEMVs (LLMC_CUDA_GEMV_PAIR=o_proj,down): half the warps, each streaming two rows.
template <typename W, int K, int M, int R>
__device__ __forceinline__ void gemvRowsBody(const float* __restrict__ x, const W* __restrict__ w,
                                             const float* __restrict__ bias, float* __restrict__ y,
                                             int n, const GemvIn& nin, const GemvNormOut& nout) {
  const int warp = threadIdx.x >> 5;
  const int row = (blockIdx.x * kGemvWarps + warp) * R;
  const int lane = threadIdx.x & 31;
  const bool active = row < n;
  const u64 r0 = (u64)(active ? row : 0);
  const W* wr[R];
#pragma unroll
  for (int r = 0; r < R; ++r) wr[r] = w + (r0 + r) * K;
  float acc[R][M], inv[M];
  // gemvBody's norm path for R rows. Kept apart from gemvBody's: one shared function for both made
  // ptxas spill the register-capped M = 1 one-row GEMV (sm_80/86/89, K = 4096 and 14336).
  if (nout.residual != nullptr) {  // the same for the whole launch
    __shared__ float residual[kGemvWarps][R * M];  // the norm epilogue's residual, copied in early
    float nw[R];
    gemvEarlyNormW<M, R>(nout, active, row, nw);
    const bool live = gemvAccumulate<W, K, M, R>(x, wr, active, nin, nout.residual + r0, n, residual[warp], acc);
    traceMark(0);
    normScales<K, M>(nin, inv);  // every warp: a block barrier
    traceMark(1);
    float out[R][M];
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const float b = live && bias != nullptr ? bias[row + r] : 0.f;
#pragma unroll
      for (int m = 0; m < M; ++m) out[r][m] = live ? warpSum(acc[r][m]) * inv[m] + b : 0.f;
    }
    gemvLateNormW<M, R>(nout, live, row, nw);
    gemvNormEpilogue<M, R>(out, residual[warp], nw, live, row, n, y, nout);
    return;
  }
  if (!gemvRows<W, K, M, R>(x, wr, active, nin, acc, inv)) return;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const float b = bias != nullptr ? bias[row + r] : 0.f;
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const float out = warpSum(acc[r][m]) * inv[m] + b;
      if (lane == m % 32) y[(u64)m * n + row + r] = out;
    }
  }
}

// The fused gate/up projection + GLU of decode: w is the gate_up weight [2 * inner, K] (gate rows
// first, as llm.glu reads them), and y[m, j] = ACT(gate[m, j]) * up[m, j] for j < inner, where
// gate[m, j] = x[m] · w[j] (+ bias[j]) and up[m, j] = x[m] · w[inner + j] (+ bias[inner + j]).
// One warp computes both rows of its j: the [T, 2 * inner] gate/up activation is never written and
// the separate GLU launch disappears; each activation is evaluated once per output. Every weight
// byte is still read once, with the same loads as the plain GEMV, and gate and up are the exact
// sums the plain GEMV produces, so y is bit-identical to GEMV followed by llmc_glu_*.
template <typename W, int K, int M, float (*ACT)(float)>
__device__ __forceinline__ void gemvGluBody(const float* __restrict__ x, const W* __restrict__ w,
                                            const float* __restrict__ bias, float* __restrict__ y,
                                            int inner, const GemvIn& nin) {
  const int row = blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  const bool active = row < inner;
  const u64 g = (u64)(active ? row : 0);
  const W* const wr[2] = {w + g * K, w + (g + inner) * K};
  float acc[2][M], inv[M];
  if (!gemvRows<W, K, M, 2>(x, wr, active, nin, acc, inv)) return;
  const float bg = bias != nullptr ? bias[row] : 0.f;
  const float bu = bias != nullptr ? bias[inner + row] : 0.f;
#pragma unroll
  for (int m = 0; m < M; ++m) {
    const float gate = warpSum(acc[0][m]) * inv[m] + bg;
    const float up = warpSum(acc[1][m]) * inv[m] + bu;
    if (lane == m % 32) y[(u64)m * inner + row] = ACT(gate) * up;
  }
}

}  // namespace llmc

// Register caps, per M (a literal in the generated source, so it can pick): M = 1 (batch-1
// decode) at 56 (9 blocks, 36 warps per SM; without the cap ptxas for sm_86 took 92, 5 blocks per
// SM). Other M stay unbounded: a minimum-blocks hint there makes ptxas spend the whole budget it
// allows.
#define LLMC_GEMV_BOUNDS_1 __launch_bounds__(128, 9)
#define LLMC_GEMV_BOUNDS_2 __launch_bounds__(128)
#define LLMC_GEMV_BOUNDS_3 __launch_bounds__(128)
#define LLMC_GEMV_BOUNDS_4 __launch_bounds__(128)
#define LLMC_GEMV_BOUNDS_5 __launch_bounds__(128)
#define LLMC_GEMV_BOUNDS_6 __launch_bounds__(128)
#define LLMC_GEMV_BOUNDS_7 __launch_bounds__(128)
#define LLMC_GEMV_BOUNDS_8 __launch_bounds__(128)

// x: [M, K] f32; w: [N, K] W; bias: [N] f32 or null; y: [M, N] f32 (must not overlap x).
// nin / nout: a folded RMSNorm before / after (null ss / residual: none).
#define LLMC_DEFINE_GEMV(NAME, W, K, M)                                                         \
  extern "C" __global__ void LLMC_GEMV_BOUNDS_##M                                                 \
      NAME(const float* __restrict__ x, const W* __restrict__ w, const float* __restrict__ bias, \
           float* __restrict__ y, int n, ::llmc::GemvIn nin, ::llmc::GemvNormOut nout) {    \
    ::llmc::TraceScope trace(1, K, w); /* empty unless LLMC_TRACE (trace.cuh) */                \
    ::llmc::gemvBody<W, K, M>(x, w, bias, y, n, nin, nout);                                     \
  }

// The two- and three-rows-per-warp GEMVs (gemvRowsBody): the arguments of LLMC_DEFINE_GEMV;
// n % (4 * R) == 0. Launch: block 128, grid n / (4 * R). Register caps
// as the GLU-fused GEMV's (the same stream, R = 2; R = 3 fits them too: codegen test).
#define LLMC_DEFINE_GEMV_ROWS(NAME, W, K, M, R, TRACE_KIND)                                     \
  extern "C" __global__ void LLMC_GEMV_GLU_BOUNDS_##M                                              \
      NAME(const float* __restrict__ x, const W* __restrict__ w, const float* __restrict__ bias, \
           float* __restrict__ y, int n, ::llmc::GemvIn nin, ::llmc::GemvNormOut nout) {    \
    ::llmc::TraceScope trace(TRACE_KIND, K, w);                                                 \
    ::llmc::gemvRowsBody<W, K, M, R>(x, w, bias, y, n, nin, nout);                              \
  }
#define LLMC_DEFINE_GEMV_PAIR(NAME, W, K, M) LLMC_DEFINE_GEMV_ROWS(NAME, W, K, M, 2, 4)
#define LLMC_DEFINE_GEMV_TRIPLE(NAME, W, K, M) LLMC_DEFINE_GEMV_ROWS(NAME, W, K, M, 3, 5)

// x: [M, K] f32; w: [2 * inner, K] W (gate rows, then up rows); bias: [2 * inner] f32 or null;
// y: [M, inner] f32 = ACT(gate) * up (must not overlap x). ACT: ::llmc::siluf, geluTanh, geluErf.
// nin: a folded RMSNorm before (null ss: none). Launch: block 128, grid ceil(inner / 4).
// Register caps as for the plain GEMV: M = 1 at 64, 8 blocks per SM (ptxas
// takes 66 otherwise); other M unbounded.
#define LLMC_GEMV_GLU_BOUNDS_1 __launch_bounds__(128, 8)
#define LLMC_GEMV_GLU_BOUNDS_2 __launch_bounds__(128)
#define LLMC_GEMV_GLU_BOUNDS_3 __launch_bounds__(128)
#define LLMC_GEMV_GLU_BOUNDS_4 __launch_bounds__(128)
#define LLMC_GEMV_GLU_BOUNDS_5 __launch_bounds__(128)
#define LLMC_GEMV_GLU_BOUNDS_6 __launch_bounds__(128)
#define LLMC_GEMV_GLU_BOUNDS_7 __launch_bounds__(128)
#define LLMC_GEMV_GLU_BOUNDS_8 __launch_bounds__(128)
#define LLMC_DEFINE_GEMV_GLU(NAME, W, K, M, ACT)                                                \
  extern "C" __global__ void LLMC_GEMV_GLU_BOUNDS_##M                                              \
      NAME(const float* __restrict__ x, const W* __restrict__ w, const float* __restrict__ bias, \
           float* __restrict__ y, int inner, ::llmc::GemvIn nin) {                          \
    ::llmc::TraceScope trace(2, K, w);                                                          \
    ::llmc::gemvGluBody<W, K, M, ACT>(x, w, bias, y, inner, nin);                               \
  }
