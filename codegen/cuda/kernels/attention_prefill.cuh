// attention_prefill.cuh - causal attention for many query tokens (prompt prefill, chunked prefill)
// over the paged KV cache, FlashAttention-style.
//
// Owned by the CUDA codegen. The T x T score matrix is never materialised: a block takes a tile of
// BQ query rows of one head and walks the keys in tiles of BK, keeping for every row the running
// max m, the running sum l and the un-normalised output O (online softmax). Memory is O(BQ * HD)
// per block whatever the context length; each K/V tile is read from the cache once per query tile.
// GQA: head h reads KV head h / (nh / nkv). Causal masking uses absolute positions, so a chunk that
// starts at startPos > 0 sees every earlier token already in the cache. The K/V of the chunk itself
// were written to the cache by the rope/kv-write kernel before this one runs.
//
// This first version runs on the FP32 pipes (no tensor cores): prefill attention is a small share
// of prefill time next to the cuBLASLt projections at the context lengths we serve; docs/cuda.md.
//
// Tiles: a tile descriptor is {sequence, first token row, token count (<= BQ), position of the
// first token}; the host cuts every sequence's new tokens into such tiles.
#pragma once

#include "common.cuh"

namespace llmc {

constexpr int kPrefillThreads = 128;

template <typename KV, int HD>
struct PrefillShape {
  static constexpr int BQ = HD <= 128 ? 64 : 32;   // query rows per block
  static constexpr int BK = HD <= 128 ? 32 : 16;   // keys per tile
  static constexpr int TX = 8;                     // S = Q K^T: threads along keys
  static constexpr int TY = kPrefillThreads / TX;  //            threads along queries
  static constexpr int KPT = BK / TX;              // keys per thread
  static constexpr int RPT = BQ / TY;              // query rows per thread
  static constexpr int TPR = kPrefillThreads / BQ; // softmax: threads per row
  static constexpr int ORW = BQ / (kPrefillThreads / 32);  // O: rows per warp
  static constexpr int DPL = (HD + 31) / 32;       // O: dimensions per lane
  static constexpr int E = Vec16<KV>::kElems;
  // Shared memory, in floats. Q and K rows padded by one float so that the column-wise reads of
  // the S loop hit distinct banks.
  static constexpr int kQ = BQ * (HD + 1), kK = BK * (HD + 1), kV = BK * HD, kS = BQ * (BK + 1);
  static constexpr int kSmemFloats = kQ + kK + kV + kS + 3 * BQ;
  static_assert(HD % E == 0, "head_dim must be a multiple of 16 bytes of the cache dtype");
};

template <typename KV, int HD>
__device__ __forceinline__ void attnPrefillBody(
    const float* __restrict__ q, int qStride, const KV* __restrict__ cache, int blockSize,
    const int* __restrict__ blockTables, int maxBlocks, const int* __restrict__ tiles,
    int numHeads, int numKvHeads, float scale, int window, void* __restrict__ out, int oStride,
    int outType) {
  using S = PrefillShape<KV, HD>;
  constexpr int BQ = S::BQ, BK = S::BK, E = S::E;
  extern __shared__ float smem[];
  float* Qs = smem;              // [BQ][HD + 1], pre-scaled by scale * log2 e
  float* Ks = Qs + S::kQ;        // [BK][HD + 1]
  float* Vs = Ks + S::kK;        // [BK][HD]
  float* Ss = Vs + S::kV;        // [BQ][BK + 1] scores, then probabilities
  float* rowM = Ss + S::kS;      // [BQ] running max (log2 units)
  float* rowL = rowM + BQ;       // [BQ] running sum
  float* rowA = rowL + BQ;       // [BQ] rescale factor of this tile

  const int* tile = tiles + 4 * blockIdx.x;
  const int seq = tile[0], tok0 = tile[1], count = tile[2], pos0 = tile[3];
  const int h = blockIdx.y;
  const int kvh = h / (numHeads / numKvHeads);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int* table = blockTables + (u64)seq * maxBlocks;
  const u64 headOff = (u64)kvh * blockSize * HD;
  const u64 vOff = (u64)numKvHeads * blockSize * HD;

  const float qs = scale * kLog2e;
  for (int i = tid; i < BQ * HD; i += kPrefillThreads) {
    const int r = i / HD, d = i % HD;
    Qs[r * (HD + 1) + d] = r < count ? q[(u64)(tok0 + r) * qStride + h * HD + d] * qs : 0.f;
  }
  for (int r = tid; r < BQ; r += kPrefillThreads) {
    rowM[r] = LLMC_NEG_INF;
    rowL[r] = 0.f;
  }

  float o[S::ORW][S::DPL];
#pragma unroll
  for (int i = 0; i < S::ORW; ++i)
#pragma unroll
    for (int j = 0; j < S::DPL; ++j) o[i][j] = 0.f;

  const int kEnd = pos0 + count;  // keys [kBegin, kEnd): the last query's position + 1
  const int kBegin = window > 0 && pos0 + 1 > window ? pos0 + 1 - window : 0;
  const int tx = tid % S::TX, ty = tid / S::TX;

  for (int kt = kBegin; kt < kEnd; kt += BK) {
    __syncthreads();  // the previous tile's Ks/Vs/Ss are no longer read (and Qs is written)
    // K/V tile: BK rows of HD, 16-byte chunks spread over the block, widened to f32.
    for (int c = tid; c < BK * (HD / E); c += kPrefillThreads) {
      const int r = c / (HD / E), e0 = (c % (HD / E)) * E;
      const int key = kt + r;
      float kf[E], vf[E];
      if (key < kEnd) {
        const KV* kr = cache + (u64)table[key / blockSize] * 2 * numKvHeads * blockSize * HD +
                       headOff + (u64)(key % blockSize) * HD + e0;
        unpack16(loadCached16(kr), (const KV*)nullptr, kf);
        unpack16(loadCached16(kr + vOff), (const KV*)nullptr, vf);
      } else {
#pragma unroll
        for (int e = 0; e < E; ++e) kf[e] = vf[e] = 0.f;
      }
#pragma unroll
      for (int e = 0; e < E; ++e) {
        Ks[r * (HD + 1) + e0 + e] = kf[e];
        Vs[r * HD + e0 + e] = vf[e];
      }
    }
    __syncthreads();

    // S = Q K^T with the causal / window / padding mask.
    {
      float s[S::RPT][S::KPT];
#pragma unroll
      for (int i = 0; i < S::RPT; ++i)
#pragma unroll
        for (int j = 0; j < S::KPT; ++j) s[i][j] = 0.f;
#pragma unroll 8
      for (int d = 0; d < HD; ++d) {
        float qv[S::RPT], kv[S::KPT];
#pragma unroll
        for (int i = 0; i < S::RPT; ++i) qv[i] = Qs[(ty * S::RPT + i) * (HD + 1) + d];
#pragma unroll
        for (int j = 0; j < S::KPT; ++j) kv[j] = Ks[(tx + j * S::TX) * (HD + 1) + d];
#pragma unroll
        for (int i = 0; i < S::RPT; ++i)
#pragma unroll
          for (int j = 0; j < S::KPT; ++j) s[i][j] = fmaf(qv[i], kv[j], s[i][j]);
      }
#pragma unroll
      for (int i = 0; i < S::RPT; ++i) {
        const int r = ty * S::RPT + i;
        const int p = pos0 + r;
#pragma unroll
        for (int j = 0; j < S::KPT; ++j) {
          const int c = tx + j * S::TX;
          const int key = kt + c;
          const bool ok = r < count && key <= p && (window <= 0 || p - key < window);
          Ss[r * (BK + 1) + c] = ok ? s[i][j] : LLMC_NEG_INF;
        }
      }
    }
    __syncthreads();

    // Online softmax, TPR adjacent threads per row.
    {
      const int r = tid / S::TPR, part = tid % S::TPR;
      float mx = LLMC_NEG_INF;
      for (int c = part; c < BK; c += S::TPR) mx = fmaxf(mx, Ss[r * (BK + 1) + c]);
#pragma unroll
      for (int o2 = S::TPR / 2; o2 > 0; o2 >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o2));
      const float mOld = rowM[r];
      const float mNew = fmaxf(mOld, mx);
      const float mUse = mNew == LLMC_NEG_INF ? 0.f : mNew;  // an all-masked row so far: p = 0
      float sum = 0.f;
      for (int c = part; c < BK; c += S::TPR) {
        const float pr = exp2f(Ss[r * (BK + 1) + c] - mUse);
        Ss[r * (BK + 1) + c] = pr;
        sum += pr;
      }
#pragma unroll
      for (int o2 = S::TPR / 2; o2 > 0; o2 >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o2);
      __syncwarp();
      if (part == 0) {
        const float a = exp2f(mOld - mUse);
        rowA[r] = a;
        rowL[r] = rowL[r] * a + sum;
        rowM[r] = mNew;
      }
    }
    __syncthreads();

    // O = O * alpha + P V; warp w owns rows w, w + 4, ...; lane owns dims lane, lane + 32, ...
#pragma unroll
    for (int i = 0; i < S::ORW; ++i) {
      const float a = rowA[warp + i * 4];
#pragma unroll
      for (int j = 0; j < S::DPL; ++j) o[i][j] *= a;
    }
    for (int c = 0; c < BK; ++c) {
      float vv[S::DPL];
#pragma unroll
      for (int j = 0; j < S::DPL; ++j) {
        const int d = lane + 32 * j;
        vv[j] = d < HD ? Vs[c * HD + d] : 0.f;
      }
#pragma unroll
      for (int i = 0; i < S::ORW; ++i) {
        const float p = Ss[(warp + i * 4) * (BK + 1) + c];
#pragma unroll
        for (int j = 0; j < S::DPL; ++j) o[i][j] = fmaf(p, vv[j], o[i][j]);
      }
    }
  }
  __syncthreads();

#pragma unroll
  for (int i = 0; i < S::ORW; ++i) {
    const int r = warp + i * 4;
    if (r >= count) continue;
    const float l = rowL[r];
    const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
    for (int j = 0; j < S::DPL; ++j) {
      const int d = lane + 32 * j;
      if (d < HD) storeAct(out, (u64)(tok0 + r) * oStride + h * HD + d, o[i][j] * inv, outType);
    }
  }
}

}  // namespace llmc

// q: [T, *] query rows (head h at h*HD) with row stride qStride; tiles: [numTiles, 4] int32;
// out: [T, *] of outType (ActType: 16-bit when it feeds a prefill GEMM) with row stride oStride.
// Dynamic shared memory: PrefillShape<KV, HD>::kSmemFloats * 4.
// Launch: grid (numTiles, nh), block 128.
#define LLMC_DEFINE_ATTN_PREFILL(NAME, KV, HD)                                                      \
  extern "C" __global__ void __launch_bounds__(128) NAME(                                           \
      const float* __restrict__ q, int qStride, const KV* __restrict__ cache, int blockSize,        \
      const int* __restrict__ blockTables, int maxBlocks, const int* __restrict__ tiles,            \
      int numHeads, int numKvHeads, float scale, int window, void* __restrict__ out,                \
      int oStride, int outType) {                                                                   \
    ::llmc::pdlEnter();                                                                             \
    ::llmc::attnPrefillBody<KV, HD>(q, qStride, cache, blockSize, blockTables, maxBlocks, tiles,    \
                                    numHeads, numKvHeads, scale, window, out, oStride, outType);    \
  }
