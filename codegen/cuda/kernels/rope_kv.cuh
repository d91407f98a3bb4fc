// rope_kv.cuh - rotary position embedding, and the fused "rope q/k + append k/v to the paged KV
// cache" step that starts every attention.
//
// Owned by the CUDA codegen. qkv_attention's q, k and v arrive as one [T, (nh + 2 nkv) * hd] row;
// instead of splitting it (a copy), roping k (another pass) and then writing k/v to the cache (a
// third), one kernel reads each element once: k is rotated on the way into the cache, v is only
// narrowed to the cache dtype, q is rotated into a small scratch the attention kernels read.
//
// Rotation of a pair (a, b) at angle θ = pos * inv_freq[i]: (a cos θ - b sin θ, b cos θ + a sin θ).
// Pairs: HF rotate-half layout (interleaved = 0): (i, i + rot/2); GPT-J layout: (2i, 2i + 1).
// Dimensions past rotary_dim pass through. θ is computed in f32 as pos * inv_freq, like HF does,
// then reduced by 2π in double (sincosAngle): positions reach 10^5 and the argument must not lose
// its low bits.
#pragma once

#include "common.cuh"

namespace llmc {

// sin and cos of an f32 angle of any size up to ~10^7 with ~1e-6 absolute error, and no local
// memory: the reduction by 2 pi is done in double (two fma with a split 2 pi; the f32 angle is exact
// in double), then the hardware sin/cos of the reduced |r| <= pi (MUFU, ~5e-7 absolute). sincosf
// would be as accurate but carries a Payne-Hanek slow path (|x| > 105615) that costs a stack frame.
__device__ __forceinline__ void sincosAngle(float angle, float* s, float* c) {
  const double a = (double)angle;
  const double k = rint(a * 0.15915494309189535);                  // 1 / (2 pi)
  double r = fma(-k, 6.283185307179586, a);                         // 2 pi, high part
  r = fma(-k, 2.4492935982947064e-16, r);                           // 2 pi, low part
  const float rf = (float)r;
  *s = __sinf(rf);
  *c = __cosf(rf);
}

// Rotates pair `i` (i < rot/2) of one head in place: v points at the head's first element.
__device__ __forceinline__ void ropePair(float& a, float& b, int pos, float invFreq) {
  float s, c;
  sincosAngle((float)pos * invFreq, &s, &c);  // the f32 product, as HF computes the angle
  const float ra = a * c - b * s;
  const float rb = b * c + a * s;
  a = ra;
  b = rb;
}

// Indices of the two elements pair `i` of a head touches, for i < hd/2. Pairs past rot/2 are the
// pass-through tail, also handed out two elements at a time.
__device__ __forceinline__ void pairIndex(int i, int rot, int interleaved, int* ia, int* ib) {
  if (i >= rot / 2) {
    const int j = rot + 2 * (i - rot / 2);
    *ia = j;
    *ib = j + 1;
  } else if (interleaved) {
    *ia = 2 * i;
    *ib = 2 * i + 1;
  } else {
    *ia = i;
    *ib = i + rot / 2;
  }
}

}  // namespace llmc

// llm.rope: out[t, h*hd + :] = rope(in[t, h*hd + :]) for `heads` heads; in, out [T, heads*hd].
// Launch: grid T, block 128. hd even; rot even, <= hd.
extern "C" __global__ void llmc_rope(const float* in, float* out, const int* __restrict__ positions,
                                     const float* __restrict__ invFreq, int heads, int hd, int rot,
                                     int interleaved) {
  ::llmc::pdlEnter();
  const int t = blockIdx.x;
  const int pos = positions[t];
  const ::llmc::u64 row = (::llmc::u64)t * heads * hd;
  const int half = hd / 2;
  for (int idx = threadIdx.x; idx < heads * half; idx += blockDim.x) {
    const int h = idx / half, i = idx % half;
    int ia, ib;
    ::llmc::pairIndex(i, rot, interleaved, &ia, &ib);
    float a = in[row + h * hd + ia], b = in[row + h * hd + ib];
    if (i < rot / 2) ::llmc::ropePair(a, b, pos, invFreq[i]);
    out[row + h * hd + ia] = a;
    out[row + h * hd + ib] = b;
  }
}

namespace llmc {

// Appends token t's k and v (every kv head) to the cache at slot slots[t], rotating k (and q into
// qOut) when rot > 0. q/k/v rows are read with their own strides (in elements) so that both
// llm.attention (three values) and llm.qkv_attention (one fused row) use this kernel; they are of
// inType (ActType: 16-bit when the fused row comes straight from a prefill GEMM).
//
// Grid (T, G): block (t, g) serves heads [g * hpb, (g + 1) * hpb) of token t, hpb = ceil(heads / G)
// over the nh q heads, then nkv k heads, then nkv v heads. A decode step (one token) launches a
// block per head (G = heads) so the step spreads over the GPU; a prefill launches G = heads / 8:
// a block per (token, head) made 200k blocks of 64 threads for a 2048-token Llama-2-7B prefill
// (238 us per layer, 6x its memory time), each waiting out one load round trip. With 8 heads per
// block the token's sin/cos table is computed once into shared memory and each thread issues all
// its loads before its first store.
template <typename KV, int HD>
__device__ __forceinline__ void ropeKvWriteBody(
    const void* __restrict__ q, int qStride, const void* __restrict__ k, int kStride,
    const void* __restrict__ v, int vStride, const int* __restrict__ positions,
    const int* __restrict__ slots, KV* __restrict__ cache, int blockSize, int numHeads,
    int numKvHeads, int rot, const float* __restrict__ invFreq, int interleaved,
    float* __restrict__ qOut, int inType) {
  constexpr int kHalf = HD / 2;
  constexpr int P = 4;  // items per thread per round: all loaded before any is stored
  __shared__ float sinT[kHalf], cosT[kHalf];
  const int t = blockIdx.x;
  const int pos = positions[t];
  const int slot = slots[t];
  const int block = slot / blockSize, off = slot % blockSize;
  // [num_blocks, 2, nkv, bs, HD]: element (block, 0|1, j, off, d)
  const u64 kBase = ((u64)block * 2 * numKvHeads) * blockSize * HD + (u64)off * HD;
  const u64 vBase = kBase + (u64)numKvHeads * blockSize * HD;
  const u64 qRow = (u64)t * qStride, kRow = (u64)t * kStride, vRow = (u64)t * vStride;
  for (int i = threadIdx.x; i < rot / 2; i += blockDim.x) {
    float sn, cs;
    sincosAngle((float)pos * invFreq[i], &sn, &cs);  // the f32 product, as HF computes the angle
    sinT[i] = sn;
    cosT[i] = cs;
  }
  __syncthreads();

  const int heads = numHeads + 2 * numKvHeads;
  const int hpb = (heads + gridDim.y - 1) / gridDim.y;
  const int h0 = blockIdx.y * hpb;
  const int h1 = min(h0 + hpb, heads);
  // One item: a (q or k) pair, or two v elements; kHalf items per head.
  const int items = max(h1 - h0, 0) * kHalf;
  for (int base = 0; base < items; base += P * blockDim.x) {
    float a[P], b[P];
#pragma unroll
    for (int p = 0; p < P; ++p) {
      const int idx = base + p * blockDim.x + threadIdx.x;
      if (idx >= items) continue;
      const int h = h0 + idx / kHalf, i = idx % kHalf;
      int ia, ib;
      const void* src;
      u64 row;
      if (h < numHeads + numKvHeads) {
        pairIndex(i, rot, interleaved, &ia, &ib);
        const bool isQ = h < numHeads;
        src = isQ ? q : k;
        row = isQ ? qRow + (u64)h * HD : kRow + (u64)(h - numHeads) * HD;
      } else {
        ia = 2 * i;
        ib = 2 * i + 1;
        src = v;
        row = vRow + (u64)(h - numHeads - numKvHeads) * HD;
      }
      a[p] = loadAct(src, row + ia, inType);
      b[p] = loadAct(src, row + ib, inType);
    }
#pragma unroll
    for (int p = 0; p < P; ++p) {
      const int idx = base + p * blockDim.x + threadIdx.x;
      if (idx >= items) continue;
      const int h = h0 + idx / kHalf, i = idx % kHalf;
      if (h < numHeads + numKvHeads) {
        int ia, ib;
        pairIndex(i, rot, interleaved, &ia, &ib);
        float x = a[p], y = b[p];
        if (i < rot / 2) {
          const float cs = cosT[i], sn = sinT[i];
          x = a[p] * cs - b[p] * sn;
          y = b[p] * cs + a[p] * sn;
        }
        if (h < numHeads) {
          float* dst = qOut + (u64)t * numHeads * HD + (u64)h * HD;
          dst[ia] = x;
          dst[ib] = y;
        } else {
          KV* dst = cache + kBase + (u64)(h - numHeads) * blockSize * HD;
          dst[ia] = fromFloat<KV>(x);
          dst[ib] = fromFloat<KV>(y);
        }
      } else {
        KV* dst = cache + vBase + (u64)(h - numHeads - numKvHeads) * blockSize * HD;
        dst[2 * i] = fromFloat<KV>(a[p]);
        dst[2 * i + 1] = fromFloat<KV>(b[p]);
      }
    }
  }
}

}  // namespace llmc

// rot == 0 (llm.attention: rope was its own op): q is copied to qOut as is, k stored unrotated.
// The attention kernels always read q from qOut, so the attention output may overlap q/k/v.
// Launch: grid (T, G) with G <= nh + 2 nkv (ropeKvGroups), any block size (ropeKvThreads).
#define LLMC_DEFINE_ROPE_KV_WRITE(NAME, KV, HD)                                                    \
  extern "C" __global__ void __launch_bounds__(128) NAME(                                          \
      const void* __restrict__ q, int qStride, const void* __restrict__ k, int kStride,            \
      const void* __restrict__ v, int vStride, const int* __restrict__ positions,                  \
      const int* __restrict__ slots, KV* __restrict__ cache, int blockSize, int numHeads,          \
      int numKvHeads, int rot, const float* __restrict__ invFreq, int interleaved,                 \
      float* __restrict__ qOut, int inType) {                                                      \
    ::llmc::pdlEnter();                                                                            \
    ::llmc::ropeKvWriteBody<KV, HD>(q, qStride, k, kStride, v, vStride, positions, slots, cache,   \
                                    blockSize, numHeads, numKvHeads, rot, invFreq, interleaved,    \
                                    qOut, inType);                                                 \
  }
