// elementwise.cuh - the memory-bound glue: embedding gather, activations, GLU, residual add,
// column split, last-token gather, dtype cast, argmax.
//
// Owned by the CUDA codegen. None of these needs a per-model constant, so every instance is defined
// here once (for each storage dtype where a weight is read) and compiled into every engine.
// Each thread handles consecutive elements in a grid-stride loop, so a warp's accesses coalesce.
#pragma once

#include "common.cuh"

namespace llmc {

// out[t, :] = table[ids[t], :] * scale. ids were range-checked on the host before upload.
// Launch: grid T, block 256.
template <typename W>
__device__ __forceinline__ void embeddingBody(const int* __restrict__ ids, const W* __restrict__ table,
                                              float* __restrict__ out, int h, float scale) {
  const u64 src = (u64)ids[blockIdx.x] * h;
  const u64 dst = (u64)blockIdx.x * h;
  for (int k = threadIdx.x; k < h; k += blockDim.x) out[dst + k] = toFloat(table[src + k]) * scale;
}

// out[t, :] = x[t, :] + table[pos[t], :] (learned absolute positions, GPT-2). out may alias x.
template <typename W>
__device__ __forceinline__ void positionEmbeddingBody(const float* x, const int* __restrict__ pos,
                                                      const W* __restrict__ table, float* out, int h) {
  const u64 src = (u64)pos[blockIdx.x] * h;
  const u64 row = (u64)blockIdx.x * h;
  for (int k = threadIdx.x; k < h; k += blockDim.x) out[row + k] = x[row + k] + toFloat(table[src + k]);
}

// out[i] = W(in[i]): activations narrowed for cuBLASLt's bf16/f16 operands.
template <typename W>
__device__ __forceinline__ void castBody(const float* __restrict__ in, W* __restrict__ out, u64 n) {
  for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n; i += (u64)gridDim.x * blockDim.x)
    out[i] = fromFloat<W>(in[i]);
}

}  // namespace llmc

#define LLMC_GRID_STRIDE(i, n) \
  for (::llmc::u64 i = blockIdx.x * (::llmc::u64)blockDim.x + threadIdx.x; i < (n); i += (::llmc::u64)gridDim.x * blockDim.x)

#define LLMC_DEFINE_EMBEDDING(NAME, W)                                                         \
  extern "C" __global__ void NAME(const int* __restrict__ ids, const W* __restrict__ table,    \
                                  float* __restrict__ out, int h, float scale) {               \
    ::llmc::pdlEnter();                                                                 \
    ::llmc::embeddingBody<W>(ids, table, out, h, scale);                                       \
  }
#define LLMC_DEFINE_POSITION_EMBEDDING(NAME, W)                                                \
  extern "C" __global__ void NAME(const float* x, const int* __restrict__ pos,                 \
                                  const W* __restrict__ table, float* out, int h) {            \
    ::llmc::pdlEnter();                                                                 \
    ::llmc::positionEmbeddingBody<W>(x, pos, table, out, h);                                   \
  }
#define LLMC_DEFINE_CAST(NAME, W)                                                              \
  extern "C" __global__ void NAME(const float* __restrict__ in, W* __restrict__ out,           \
                                  ::llmc::u64 n) {                                             \
    ::llmc::pdlEnter();                                                                 \
    ::llmc::castBody<W>(in, out, n);                                                           \
  }

LLMC_DEFINE_EMBEDDING(llmc_embedding_f32, ::llmc::f32)
LLMC_DEFINE_EMBEDDING(llmc_embedding_f16, ::llmc::f16)
LLMC_DEFINE_EMBEDDING(llmc_embedding_bf16, ::llmc::bf16)
LLMC_DEFINE_POSITION_EMBEDDING(llmc_position_embedding_f32, ::llmc::f32)
LLMC_DEFINE_POSITION_EMBEDDING(llmc_position_embedding_f16, ::llmc::f16)
LLMC_DEFINE_POSITION_EMBEDDING(llmc_position_embedding_bf16, ::llmc::bf16)
LLMC_DEFINE_CAST(llmc_cast_f16, ::llmc::f16)
LLMC_DEFINE_CAST(llmc_cast_bf16, ::llmc::bf16)

// Unary activations over n elements (out may alias in).
extern "C" __global__ void llmc_silu(const float* in, float* out, ::llmc::u64 n) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, n) out[i] = ::llmc::siluf(in[i]);
}
extern "C" __global__ void llmc_gelu(const float* in, float* out, ::llmc::u64 n) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, n) out[i] = ::llmc::geluErf(in[i]);
}
extern "C" __global__ void llmc_gelu_tanh(const float* in, float* out, ::llmc::u64 n) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, n) out[i] = ::llmc::geluTanh(in[i]);
}

// Binary elementwise over n elements (out may alias a or b).
extern "C" __global__ void llmc_add(const float* a, const float* b, float* out, ::llmc::u64 n) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}
extern "C" __global__ void llmc_mul(const float* a, const float* b, float* out, ::llmc::u64 n) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, n) out[i] = a[i] * b[i];
}

// Fused gate/up: gu [T, 2I] -> out [T, I] = act(gu[:, :I]) * gu[:, I:]. One pass instead of a
// split, an activation and a multiply (three reads and three writes of the intermediate).
// gu and out are of guType / outType (ActType: 16-bit in prefill, where gu comes from cuBLASLt
// and out goes to it). Rows along y, columns along x: no per-element division.
// Launch: grid (column blocks, min(t, 65535)), block 256; a column block covers 256 columns, or
// 256 x 8 on the vector path (gluVectorised; host: gluColumnsPerThread in KernelPlan.h).
namespace llmc {

// The GLU of a prefill hand-off: gu and out of the same 16-bit type T, inner % 8 == 0 (so every
// row starts 16-byte aligned): 8 columns per thread, 16-byte loads and stores. Element loads made
// the Llama-2-7B layer's GLU at 2048 tokens take 108 us, 2.4x its memory time.
template <typename T, float (*ACT)(float)>
__device__ __forceinline__ void gluVec8(const T* __restrict__ gu, T* __restrict__ out, int t, int inner) {
  const int n8 = inner / 8;
  for (int row = blockIdx.y; row < t; row += gridDim.y) {
    const T* g = gu + (u64)row * 2 * inner;
    const T* u = g + inner;
    T* o = out + (u64)row * inner;
    for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < n8; c += gridDim.x * blockDim.x) {
      float gf[8], uf[8];
      unpack16(loadCached16(g + 8 * c), (const T*)nullptr, gf);
      unpack16(loadCached16(u + 8 * c), (const T*)nullptr, uf);
      union {
        uint4 v;
        T e[8];
      } r;
#pragma unroll
      for (int i = 0; i < 8; ++i) r.e[i] = fromFloat<T>(ACT(gf[i]) * uf[i]);
      *reinterpret_cast<uint4*>(o + 8 * c) = r.v;
    }
  }
}

// Whether llmc_glu_* takes the 8-column path (the host sizes the grid by the same rule).
__device__ __forceinline__ bool gluVectorised(int inner, int guType, int outType) {
  return guType == outType && guType != kActF32 && inner % 8 == 0;
}

}  // namespace llmc

#define LLMC_DEFINE_GLU(NAME, ACT)                                                             \
  extern "C" __global__ void NAME(const void* __restrict__ gu, void* __restrict__ out, int t,  \
                                  int inner, int guType, int outType) {                        \
    ::llmc::pdlEnter();                                                                        \
    if (::llmc::gluVectorised(inner, guType, outType)) {                                       \
      if (guType == ::llmc::kActBf16)                                                          \
        ::llmc::gluVec8<::llmc::bf16, ACT>(static_cast<const ::llmc::bf16*>(gu),               \
                                           static_cast<::llmc::bf16*>(out), t, inner);         \
      else                                                                                     \
        ::llmc::gluVec8<::llmc::f16, ACT>(static_cast<const ::llmc::f16*>(gu),                 \
                                          static_cast<::llmc::f16*>(out), t, inner);           \
      return;                                                                                  \
    }                                                                                          \
    for (int row = blockIdx.y; row < t; row += gridDim.y) {                                    \
      const ::llmc::u64 g0 = (::llmc::u64)row * 2 * inner, o0 = (::llmc::u64)row * inner;      \
      for (int col = blockIdx.x * blockDim.x + threadIdx.x; col < inner; col += gridDim.x * blockDim.x) { \
        const float gate = ::llmc::loadAct(gu, g0 + col, guType);                              \
        const float up = ::llmc::loadAct(gu, g0 + inner + col, guType);                        \
        ::llmc::storeAct(out, o0 + col, ACT(gate) * up, outType);                              \
      }                                                                                        \
    }                                                                                          \
  }
LLMC_DEFINE_GLU(llmc_glu_silu, ::llmc::siluf)
LLMC_DEFINE_GLU(llmc_glu_gelu, ::llmc::geluErf)
LLMC_DEFINE_GLU(llmc_glu_gelu_tanh, ::llmc::geluTanh)

// out[t, c] = in[t, col0 + c] for t < rows, c < width; in has `inStride` columns (llm.split).
extern "C" __global__ void llmc_copy_cols(const float* __restrict__ in, int inStride, int col0,
                                          float* __restrict__ out, int rows, int width) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, (::llmc::u64)rows * width) {
    const ::llmc::u64 r = i / width, c = i % width;
    out[i] = in[r * inStride + col0 + c];
  }
}

// out[i, :] = in[rowIds[i], :] for i < n (llm.last_token: one row per sequence).
extern "C" __global__ void llmc_gather_rows(const float* __restrict__ in, const int* __restrict__ rowIds,
                                            float* __restrict__ out, int n, int width) {
  ::llmc::pdlEnter();
  LLMC_GRID_STRIDE(i, (::llmc::u64)n * width) {
    const ::llmc::u64 r = i / width, c = i % width;
    out[i] = in[(::llmc::u64)rowIds[r] * width + c];
  }
}

// out[r] = argmax_j logits[r, j] (the lowest index among equal maxima; NaN never wins).
// Launch: grid rows, block 1024 (any multiple of 32 up to 1024).
extern "C" __global__ void __launch_bounds__(1024)
    llmc_argmax(const float* __restrict__ logits, int vocab, int* __restrict__ out) {
  ::llmc::pdlEnter();
  __shared__ float bestV[32];
  __shared__ int bestI[32];
  const float* row = logits + (::llmc::u64)blockIdx.x * vocab;
  float v = -__int_as_float(0x7f800000);  // -inf
  int idx = 0x7fffffff;
  for (int j = threadIdx.x; j < vocab; j += blockDim.x) {
    const float x = row[j];
    if (x > v) { v = x; idx = j; }  // strided ascending j: the first maximum per thread is kept
  }
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
    if (ov > v || (ov == v && oi < idx)) { v = ov; idx = oi; }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { bestV[warp] = v; bestI[warp] = idx; }
  __syncthreads();
  if (warp == 0) {
    const int warps = (blockDim.x + 31) >> 5;
    v = lane < warps ? bestV[lane] : -__int_as_float(0x7f800000);
    idx = lane < warps ? bestI[lane] : 0x7fffffff;
    for (int o = 16; o > 0; o >>= 1) {
      const float ov = __shfl_xor_sync(0xffffffffu, v, o);
      const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
      if (ov > v || (ov == v && oi < idx)) { v = ov; idx = oi; }
    }
    if (lane == 0) out[blockIdx.x] = idx == 0x7fffffff ? 0 : idx;
  }
}

namespace llmc {

// (v, i) wins over (bv, bi): larger value, or an equal value at a lower index. NaN never wins.
__device__ __forceinline__ bool argmaxBetter(float v, int i, float bv, int bi) {
  return v > bv || (v == bv && i < bi);
}
__device__ __forceinline__ void warpArgmax(float& v, int& i) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (argmaxBetter(ov, oi, v, i)) { v = ov; i = oi; }
  }
}

}  // namespace llmc

// Greedy sampling on the device: out[r] = argmax_j logits[row r, j] for every row r of the step,
// with the ties and NaN rules of llmc_argmax (the lowest index among equal maxima, NaN never
// wins, 0 when a row has no maximum above -inf) and of the host sampler.
// Row r is logits + (rowIds ? rowIds[r] : r) * vocab (rowIds: the last token of each sequence when
// the program's output has a row per token, so no gather copy is needed).
// One row is split over gridDim.x blocks of `chunk` columns (a 128K vocabulary is 512 KB: one
// block per row would read it at a single SM's bandwidth). Each block writes its (max, index) to
// partV/partI[r * gridDim.x + block]; the block that finishes last (a ticket from
// counters[r], which atomicInc wraps back to 0 for the next launch: graph replays need no reset)
// reduces the partials. Launch: grid (blocks, rows), block 256; counters zeroed once at allocation.
extern "C" __global__ void __launch_bounds__(256)
    llmc_argmax_rows(const float* __restrict__ logits, const int* __restrict__ rowIds, int vocab, int chunk,
                     float* partV, int* partI, unsigned* counters, int* __restrict__ out) {
  ::llmc::pdlEnter();
  __shared__ float sV[8];
  __shared__ int sI[8];
  __shared__ bool isLast;
  const int r = blockIdx.y, parts = gridDim.x;
  const float* row = logits + (::llmc::u64)(rowIds ? rowIds[r] : r) * vocab;
  const int begin = blockIdx.x * chunk, end = min(vocab, begin + chunk);
  const int bd = blockDim.x;
  float v = LLMC_NEG_INF;
  int idx = 0x7fffffff;
  int j = begin + threadIdx.x;
  // Four independent loads in flight; each thread visits its columns in increasing order and keeps
  // the first maximum (strict >), so the lowest index wins within a thread.
  for (; j + 3 * bd < end; j += 4 * bd) {
    const float x0 = row[j], x1 = row[j + bd], x2 = row[j + 2 * bd], x3 = row[j + 3 * bd];
    if (x0 > v) { v = x0; idx = j; }
    if (x1 > v) { v = x1; idx = j + bd; }
    if (x2 > v) { v = x2; idx = j + 2 * bd; }
    if (x3 > v) { v = x3; idx = j + 3 * bd; }
  }
  for (; j < end; j += bd) {
    const float x = row[j];
    if (x > v) { v = x; idx = j; }
  }
  ::llmc::warpArgmax(v, idx);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (bd + 31) >> 5;
  if (lane == 0) { sV[warp] = v; sI[warp] = idx; }
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? sV[lane] : LLMC_NEG_INF;
    idx = lane < warps ? sI[lane] : 0x7fffffff;
    ::llmc::warpArgmax(v, idx);
    if (lane == 0) {
      partV[r * parts + blockIdx.x] = v;
      partI[r * parts + blockIdx.x] = idx;
      __threadfence();  // the partial is visible device-wide before the ticket is taken
      isLast = atomicInc(counters + r, (unsigned)(parts - 1)) == (unsigned)(parts - 1);
    }
  }
  __syncthreads();
  if (!isLast || warp != 0) return;
  __threadfence();
  v = LLMC_NEG_INF;
  idx = 0x7fffffff;
  for (int p = lane; p < parts; p += 32) {
    // volatile: the other blocks' partials, not a stale L1 line.
    const float pv = ((volatile float*)partV)[r * parts + p];
    const int pi = ((volatile int*)partI)[r * parts + p];
    if (::llmc::argmaxBetter(pv, pi, v, idx)) { v = pv; idx = pi; }
  }
  ::llmc::warpArgmax(v, idx);
  if (lane == 0) out[r] = idx == 0x7fffffff ? 0 : idx;
}
