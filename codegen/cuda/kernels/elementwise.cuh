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
#define LLMC_DEFINE_GLU(NAME, ACT)                                                             \
  extern "C" __global__ void NAME(const float* __restrict__ gu, float* __restrict__ out,       \
                                  int t, int inner) {                                          \
    ::llmc::pdlEnter();                                                                 \
    LLMC_GRID_STRIDE(i, (::llmc::u64)t * inner) {                                              \
      const ::llmc::u64 row = i / inner, col = i % inner;                                      \
      const float* g = gu + row * 2 * inner;                                                   \
      out[i] = ACT(g[col]) * g[inner + col];                                                   \
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
