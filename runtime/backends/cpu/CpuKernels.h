// CpuKernels.h - the CPU backend's kernels, one function per program op (docs/design.md op table).
//
// Plain f32 arrays, row-major. T is the number of rows. `pool` may be null (run on the caller).
// Unless a kernel says otherwise, `out` may be exactly equal to an input of the same row width
// (in place) but must not otherwise overlap it; the backend routes other overlaps through scratch.
// Tested against float64 references in tests/runtime/CpuKernelsTest.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "llmc/runtime/Backend.h"
#include "llmc/runtime/Program.h"

namespace llmc::cpu {

class ThreadPool;

// out[t] = table[ids[t]] * scale. ids must be in range (checked by the caller). out: [T, H].
void embedding(const int32_t* ids, int64_t T, const float* table, int64_t H, float scale, float* out,
               ThreadPool* pool);
// out[t] = x[t] + table[positions[t]]. positions in range (checked by the caller).
void positionEmbedding(const float* x, int64_t T, int64_t H, const float* table, const int32_t* positions,
                       float* out, ThreadPool* pool);
// out = x / sqrt(mean(x^2) + eps) * (w (+ 1)).
void rmsNorm(const float* x, int64_t T, int64_t H, const float* w, float eps, bool unitOffset, float* out,
             ThreadPool* pool);
// sum = x + residual; out = rmsNorm(sum). sum and out are distinct; either may equal x or residual.
void addRmsNorm(const float* x, const float* residual, int64_t T, int64_t H, const float* w, float eps,
                bool unitOffset, float* sum, float* out, ThreadPool* pool);
// out = (x - mean) / sqrt(var + eps) * w + b (b may be null).
void layerNorm(const float* x, int64_t T, int64_t H, const float* w, const float* b, float eps, float* out,
               ThreadPool* pool);
// out[T, N] = x[T, K] * W[N, K]^T (+ bias[N]). out must not overlap x. (OpenBLAS sgemm.)
void linear(const float* x, int64_t T, int64_t K, const float* w, const float* bias, int64_t N, float* out);
// out[T, width] = x[T, xWidth][:, col : col + width]. out must not overlap x.
void copyColumns(const float* x, int64_t T, int64_t xWidth, int64_t col, int64_t width, float* out);
// Rotary embedding of every head of x [T, numHeads * headDim] at positions[t]: the first rotaryDim
// dims of each head rotate with angle pos * invFreq[i]; pairs are (2i, 2i+1) when interleaved, else
// (i, i + rotaryDim/2) (HF rotate-half); the rest pass through.
void rope(const float* x, int64_t T, int64_t numHeads, int64_t headDim, int64_t rotaryDim, const float* invFreq,
          bool interleaved, const int32_t* positions, float* out, ThreadPool* pool);

// One layer's paged KV cache: [numBlocks, 2 (k, v), numKvHeads, blockSize, headDim] f32.
struct KVLayerView {
  float* data = nullptr;
  int64_t numBlocks = 0;
  int64_t blockSize = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  float* key(int64_t block, int64_t head, int64_t slot) const {
    return data + (((block * 2 + 0) * numKvHeads + head) * blockSize + slot) * headDim;
  }
  float* value(int64_t block, int64_t head, int64_t slot) const {
    return data + (((block * 2 + 1) * numKvHeads + head) * blockSize + slot) * headDim;
  }
};

// Appends each sequence's new k, v rows ([T, numKvHeads*headDim]) to its blocks, then computes causal
// attention of q ([T, numHeads*headDim]) over each sequence's cache: token at position p sees key
// positions p' <= p (and p - p' < slidingWindow when slidingWindow > 0); head h reads kv head
// h / (numHeads / numKvHeads). out: [T, numHeads*headDim], must not overlap q, k or v.
// Block tables and positions must be valid (checked by the backend).
void attention(const float* q, const float* k, const float* v, const std::vector<SequenceSlice>& seqs,
               const KVLayerView& cache, int64_t numHeads, float scale, int64_t slidingWindow, float* out,
               ThreadPool* pool);

// Elementwise over n floats.
void silu(const float* x, int64_t n, float* out, ThreadPool* pool);
void gelu(const float* x, int64_t n, GeluApprox approx, float* out, ThreadPool* pool);
void add(const float* a, const float* b, int64_t n, float* out, ThreadPool* pool);
void mul(const float* a, const float* b, int64_t n, float* out, ThreadPool* pool);
// out[T, I] = act(x[:, :I]) * x[:, I:], x: [T, 2I]. out must not overlap x.
void glu(const float* x, int64_t T, int64_t I, GluActivation act, float* out, ThreadPool* pool);

// Scalar activations, shared with glu.
float siluScalar(float x);
float geluScalar(float x, GeluApprox approx);

}  // namespace llmc::cpu
