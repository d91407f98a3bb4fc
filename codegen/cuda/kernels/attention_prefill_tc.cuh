// attention_prefill_tc.cuh - causal prefill attention on the tensor cores (mma.sync m16n8k16,
// bf16/f16 operands, f32 accumulation), FlashAttention-2 style, for 16-bit KV caches and head_dim
// 64 or 128. attention_prefill.cuh (FP32 pipes) stays for f32 caches and other head dims.
//
// Owned by the CUDA codegen. Same ABI, tiles and semantics as llmc_attn_prefill_*: a block takes
// BQ = 64 query rows of one head (4 warps x 16 rows) and walks the keys [kBegin, kEnd) of the paged
// cache in tiles of BK = 64, keeping per row the running max, the running sum and the
// un-normalised output in registers (online softmax); nothing T x T exists anywhere.
//
//   * Q: the roped f32 queries are narrowed to the cache's 16-bit type once, straight into the
//     A-operand registers of S = Q K^T (HD/16 k-steps x 4 registers per thread). The softmax scale
//     is applied to S in f32 (not folded into the narrowed Q).
//   * K, V tiles: cp.async (16 bytes, L2 only) from the paged cache into shared memory, two tiles
//     in flight (double buffer): the next tile streams in while the current one is multiplied.
//     Rows past the last key are zero-filled (src-size 0), so garbage in unused cache slots can
//     never reach the accumulators (0 * NaN = NaN).
//   * Shared memory is swizzled: 16-byte chunk c of row r is stored at chunk c ^ (r & 7), so the
//     8 row addresses of every ldmatrix hit 8 different bank groups (rows are 128 / 256 bytes, so
//     an unswizzled column of chunks would be an 8-way conflict).
//   * S's B operand (K rows) comes from ldmatrix; P = exp2(S - m) is re-packed from the S
//     accumulators directly into the A operand of O += P V (the m16n8 accumulator layout of two
//     adjacent n-tiles is the m16k16 A layout), V's B operand from ldmatrix.trans.
//   * Row statistics live in the 4 threads of a quad; the running sum is kept per thread and
//     reduced over the quad once at the end.
//   * Masking (causal, sliding window, keys past the chunk) only in the tiles that need it.
//   * Tiles are taken last-first: under the causal mask late tiles have the most keys, so the
//     longest blocks start first and the tail of the grid is short.
#pragma once

#include "common.cuh"

namespace llmc {

template <int HD>
struct PrefillTcShape {
  static_assert(HD == 64 || HD == 128, "the tensor-core prefill handles head_dim 64 and 128");
  static constexpr int BQ = 64, BK = 64, kThreads = 128;
  static constexpr int CH = HD / 8;        // 16-byte chunks per K/V row
  static constexpr int KS = HD / 16;       // k-steps of S = Q K^T
  static constexpr int SN = BK / 8;        // n-tiles of S (8 keys each)
  static constexpr int ON = HD / 8;        // n-tiles of O (8 dims each)
  static constexpr int kTile = BK * HD;    // 16-bit elements of one K or V tile
  static constexpr int kSmemBytes = 2 * 2 * kTile * 2;  // (K, V) x 2 buffers x 2 bytes
};

__device__ __forceinline__ u32 packPair(float lo, float hi, const bf16*) {
  u32 r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));  // first source -> upper half
  return r;
}
__device__ __forceinline__ u32 packPair(float lo, float hi, const f16*) {
  u32 r;
  asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

// d += a * b for one m16n8k16 tile.
__device__ __forceinline__ void mma16816(float* d, const u32* a, u32 b0, u32 b1, const bf16*) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ void mma16816(float* d, const u32* a, u32 b0, u32 b1, const f16*) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void ldmatrixX4(u32 addr, u32& r0, u32& r1, u32& r2, u32& r3) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr)
               : "memory");
}
__device__ __forceinline__ void ldmatrixX4Trans(u32 addr, u32& r0, u32& r1, u32& r2, u32& r3) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
               : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)
               : "r"(addr)
               : "memory");
}

template <typename KV, int HD>
__device__ __forceinline__ void attnPrefillTcBody(
    const float* __restrict__ q, int qStride, const KV* __restrict__ cache, int blockSize,
    const int* __restrict__ blockTables, int maxBlocks, const int* __restrict__ tiles,
    int numHeads, int numKvHeads, float scale, int window, void* __restrict__ out, int oStride,
    int outType) {
  using S = PrefillTcShape<HD>;
  constexpr int BK = S::BK, CH = S::CH;
  extern __shared__ unsigned char prefillTcSmem[];  // dynamic shared memory is 16-byte aligned
  u16* const smem = reinterpret_cast<u16*>(prefillTcSmem);  // [buffer][K | V][BK][HD], swizzled

  const int* tile = tiles + 4 * (gridDim.x - 1 - blockIdx.x);  // last tiles (most keys) first
  const int seq = tile[0], tok0 = tile[1], count = tile[2], pos0 = tile[3];
  const int h = blockIdx.y;
  const int kvh = h / (numHeads / numKvHeads);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int g = lane >> 2, t4 = lane & 3;  // mma fragment coordinates: row group, thread in quad
  const int* table = blockTables + (u64)seq * maxBlocks;
  const u64 blockStride = (u64)2 * numKvHeads * blockSize * HD;
  const u64 headOff = (u64)kvh * blockSize * HD;
  const u64 vOff = (u64)numKvHeads * blockSize * HD;
  const int kEnd = pos0 + count;
  const int kBegin = window > 0 && pos0 + 1 > window ? pos0 + 1 - window : 0;
  const int numKeyTiles = (kEnd - kBegin + BK - 1) / BK;

  // Starts copying the K and V rows of keys [kt, kt + BK) into buffer `buf` (one commit group).
  auto loadTile = [&](int buf, int kt) {
    u16* ks = smem + buf * 2 * S::kTile;
    u16* vs = ks + S::kTile;
    for (int c = tid; c < BK * CH; c += S::kThreads) {
      const int r = c / CH, ch = c % CH;
      const int key = kt + r;
      const KV* src = cache;
      int bytes = 0;
      if (key < kEnd) {
        src = cache + table[key / blockSize] * blockStride + headOff + (u64)(key % blockSize) * HD + ch * 8;
        bytes = 16;
      }
      const int at = r * HD + ((ch ^ (r & 7)) << 3);
      cpAsync16(sharedAddress(ks + at), src, bytes);
      cpAsync16(sharedAddress(vs + at), bytes ? src + vOff : cache, bytes);
    }
    cpAsyncCommit();
  };

  // Wait for the kernel that wrote q and the cache (rope_kv_write) before reading either.
  gridWait();
  launchDependents();
  loadTile(0, kBegin);

  // Q rows warp*16 + g and + 8 of the tile, as A fragments of m16n8k16 (rows past `count`: zero).
  const int r0 = warp * 16 + g, r1 = r0 + 8;
  u32 qf[S::KS][4];
  {
    const float* q0 = q + (u64)(tok0 + r0) * qStride + h * HD;
    const float* q1 = q + (u64)(tok0 + r1) * qStride + h * HD;
    float2 zero;
    zero.x = zero.y = 0.f;
#pragma unroll
    for (int ks = 0; ks < S::KS; ++ks) {
      const int c = ks * 16 + 2 * t4;
      const float2 a = r0 < count ? *reinterpret_cast<const float2*>(q0 + c) : zero;
      const float2 b = r1 < count ? *reinterpret_cast<const float2*>(q1 + c) : zero;
      const float2 a8 = r0 < count ? *reinterpret_cast<const float2*>(q0 + c + 8) : zero;
      const float2 b8 = r1 < count ? *reinterpret_cast<const float2*>(q1 + c + 8) : zero;
      qf[ks][0] = packPair(a.x, a.y, (const KV*)nullptr);
      qf[ks][1] = packPair(b.x, b.y, (const KV*)nullptr);
      qf[ks][2] = packPair(a8.x, a8.y, (const KV*)nullptr);
      qf[ks][3] = packPair(b8.x, b8.y, (const KV*)nullptr);
    }
  }

  float o[S::ON][4];
#pragma unroll
  for (int n = 0; n < S::ON; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float m0 = LLMC_NEG_INF, m1 = LLMC_NEG_INF;  // running max of rows r0, r1 (log2 units)
  float l0 = 0.f, l1 = 0.f;                    // this thread's share of the running sums
  const float sl = scale * kLog2e;
  const int p0 = pos0 + r0, p1 = pos0 + r1;    // absolute positions of rows r0, r1
  // The matrix of lane's ldmatrix address (4 per x4 load) and its row within it.
  const int mat = lane >> 3, mrow = lane & 7;

  for (int it = 0; it < numKeyTiles; ++it) {
    const int kt = kBegin + it * BK;
    if (it + 1 < numKeyTiles) {
      loadTile((it + 1) & 1, kt + BK);
      cpAsyncWait<1>();  // this tile's group has landed; the next one may still be in flight
    } else {
      cpAsyncWait<0>();
    }
    __syncthreads();
    const u16* ks = smem + (it & 1) * 2 * S::kTile;
    const u16* vs = ks + S::kTile;

    // S = Q K^T: per k-step, one ldmatrix.x4 gives the B fragments of two 8-key n-tiles.
    float s[S::SN][4];
#pragma unroll
    for (int j = 0; j < S::SN; ++j) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
    for (int kk = 0; kk < S::KS; ++kk) {
#pragma unroll
      for (int np = 0; np < S::SN / 2; ++np) {
        const int key = np * 16 + (mat >> 1) * 8 + mrow, ch = kk * 2 + (mat & 1);
        u32 b0, b1, b2, b3;
        ldmatrixX4(sharedAddress(ks + key * HD + ((ch ^ (key & 7)) << 3)), b0, b1, b2, b3);
        mma16816(s[2 * np], qf[kk], b0, b1, (const KV*)nullptr);
        mma16816(s[2 * np + 1], qf[kk], b2, b3, (const KV*)nullptr);
      }
    }

    // Scale into log2 units; mask where this tile crosses the diagonal, the chunk's end or the
    // window's start (block-uniform test).
    const bool needMask = kt + BK > kEnd || kt + BK - 1 > pos0 || (window > 0 && kt <= pos0 + S::BQ - 1 - window);
#pragma unroll
    for (int j = 0; j < S::SN; ++j) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float v = s[j][e] * sl;
        if (needMask) {
          const int key = kt + j * 8 + 2 * t4 + (e & 1);
          const int p = e < 2 ? p0 : p1;
          const bool ok = key < kEnd && key <= p && (window <= 0 || p - key < window);
          v = ok ? v : LLMC_NEG_INF;
        }
        s[j][e] = v;
      }
    }

    // Online softmax: the row max over the quad, rescale, P = exp2(S - m).
    float mx0 = LLMC_NEG_INF, mx1 = LLMC_NEG_INF;
#pragma unroll
    for (int j = 0; j < S::SN; ++j) {
      mx0 = fmaxf(mx0, fmaxf(s[j][0], s[j][1]));
      mx1 = fmaxf(mx1, fmaxf(s[j][2], s[j][3]));
    }
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
    mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
    mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
    const float n0 = fmaxf(m0, mx0), n1 = fmaxf(m1, mx1);
    const float u0 = n0 == LLMC_NEG_INF ? 0.f : n0;  // a row with nothing visible yet: p = 0
    const float u1 = n1 == LLMC_NEG_INF ? 0.f : n1;
    const float alpha0 = exp2f(m0 - u0), alpha1 = exp2f(m1 - u1);
    m0 = n0;
    m1 = n1;
    float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
    for (int j = 0; j < S::SN; ++j) {
      s[j][0] = exp2f(s[j][0] - u0);
      s[j][1] = exp2f(s[j][1] - u0);
      s[j][2] = exp2f(s[j][2] - u1);
      s[j][3] = exp2f(s[j][3] - u1);
      sum0 += s[j][0] + s[j][1];
      sum1 += s[j][2] + s[j][3];
    }
    l0 = l0 * alpha0 + sum0;
    l1 = l1 * alpha1 + sum1;
#pragma unroll
    for (int n = 0; n < S::ON; ++n) {
      o[n][0] *= alpha0;
      o[n][1] *= alpha0;
      o[n][2] *= alpha1;
      o[n][3] *= alpha1;
    }

    // O += P V: the S accumulators of n-tiles 2kk, 2kk+1 are the A fragment of key step kk.
#pragma unroll
    for (int kk = 0; kk < BK / 16; ++kk) {
      u32 a[4];
      a[0] = packPair(s[2 * kk][0], s[2 * kk][1], (const KV*)nullptr);
      a[1] = packPair(s[2 * kk][2], s[2 * kk][3], (const KV*)nullptr);
      a[2] = packPair(s[2 * kk + 1][0], s[2 * kk + 1][1], (const KV*)nullptr);
      a[3] = packPair(s[2 * kk + 1][2], s[2 * kk + 1][3], (const KV*)nullptr);
#pragma unroll
      for (int np = 0; np < S::ON / 2; ++np) {
        const int key = kk * 16 + (mat & 1) * 8 + mrow, ch = np * 2 + (mat >> 1);
        u32 b0, b1, b2, b3;
        ldmatrixX4Trans(sharedAddress(vs + key * HD + ((ch ^ (key & 7)) << 3)), b0, b1, b2, b3);
        mma16816(o[2 * np], a, b0, b1, (const KV*)nullptr);
        mma16816(o[2 * np + 1], a, b2, b3, (const KV*)nullptr);
      }
    }
    __syncthreads();  // this buffer is refilled by the next iteration's loadTile
  }

  // Normalise: the quad's partial sums make the row sum.
  l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
  l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
  l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
  const float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
  const u64 at0 = (u64)(tok0 + r0) * oStride + h * HD + 2 * t4;
  const u64 at1 = (u64)(tok0 + r1) * oStride + h * HD + 2 * t4;
#pragma unroll
  for (int n = 0; n < S::ON; ++n) {
    const float x0 = o[n][0] * inv0, y0 = o[n][1] * inv0, x1 = o[n][2] * inv1, y1 = o[n][3] * inv1;
    if (outType == kActF32) {
      float2 v0, v1;
      v0.x = x0, v0.y = y0;
      v1.x = x1, v1.y = y1;
      if (r0 < count) *reinterpret_cast<float2*>(static_cast<float*>(out) + at0 + n * 8) = v0;
      if (r1 < count) *reinterpret_cast<float2*>(static_cast<float*>(out) + at1 + n * 8) = v1;
    } else {  // a 16-bit pair is one aligned 32-bit store (at0, at1 are even)
      const u32 w0 = outType == kActBf16 ? packPair(x0, y0, (const bf16*)nullptr) : packPair(x0, y0, (const f16*)nullptr);
      const u32 w1 = outType == kActBf16 ? packPair(x1, y1, (const bf16*)nullptr) : packPair(x1, y1, (const f16*)nullptr);
      if (r0 < count) *reinterpret_cast<u32*>(static_cast<u16*>(out) + at0 + n * 8) = w0;
      if (r1 < count) *reinterpret_cast<u32*>(static_cast<u16*>(out) + at1 + n * 8) = w1;
    }
  }
}

}  // namespace llmc

// Same parameters as LLMC_DEFINE_ATTN_PREFILL (out of outType: ActType); KV is ::llmc::bf16 or ::llmc::f16, HD 64 or 128.
// Launch: grid (numTiles of 64 rows, nh), block 128, dynamic shared memory
// PrefillTcShape<HD>::kSmemBytes (32 / 64 KB: above 48 KB it needs the raised limit).
#define LLMC_DEFINE_ATTN_PREFILL_TC(NAME, KV, HD)                                                   \
  extern "C" __global__ void __launch_bounds__(128) NAME(                                           \
      const float* __restrict__ q, int qStride, const KV* __restrict__ cache, int blockSize,        \
      const int* __restrict__ blockTables, int maxBlocks, const int* __restrict__ tiles,            \
      int numHeads, int numKvHeads, float scale, int window, void* __restrict__ out,                \
      int oStride, int outType) {                                                                   \
    ::llmc::attnPrefillTcBody<KV, HD>(q, qStride, cache, blockSize, blockTables, maxBlocks, tiles,  \
                                      numHeads, numKvHeads, scale, window, out, oStride, outType);  \
  }
