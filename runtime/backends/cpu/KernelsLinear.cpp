// KernelsLinear.cpp - linear (OpenBLAS sgemm) and column copies (split).
#include <cblas.h>

#include <cstring>

#include "CpuKernels.h"

namespace llmc::cpu {

void linear(const float* x, int64_t T, int64_t K, const float* w, const float* bias, int64_t N, float* out) {
  if (T == 0) return;
  // out[T, N] = x[T, K] * W[N, K]^T: W is HF's [out, in] layout, read transposed by sgemm.
  if (bias) {
    for (int64_t t = 0; t < T; ++t) std::memcpy(out + t * N, bias, N * sizeof(float));
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(T), static_cast<blasint>(N),
              static_cast<blasint>(K), 1.0f, x, static_cast<blasint>(K), w, static_cast<blasint>(K),
              bias ? 1.0f : 0.0f, out, static_cast<blasint>(N));
}

void copyColumns(const float* x, int64_t T, int64_t xWidth, int64_t col, int64_t width, float* out) {
  for (int64_t t = 0; t < T; ++t) std::memcpy(out + t * width, x + t * xWidth + col, width * sizeof(float));
}

}  // namespace llmc::cpu
