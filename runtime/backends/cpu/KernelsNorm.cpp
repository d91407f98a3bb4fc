// KernelsNorm.cpp - embedding gathers and the row normalisations (rms_norm, add_rms_norm, layer_norm).
//
// Row statistics accumulate in double: rows are short (hidden size), and it keeps the CPU backend a
// tight reference for the GPU kernels.
#include <cmath>
#include <cstring>

#include "CpuKernels.h"
#include "ThreadPool.h"

namespace llmc::cpu {

namespace {
constexpr int64_t kRowGrain = 4;

// In-place safe: the row's statistics are read before any of it is written.
void rmsRow(const float* x, int64_t H, const float* w, float eps, bool unitOffset, float* out) {
  double ss = 0;
  for (int64_t i = 0; i < H; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(H) + eps));
  const float off = unitOffset ? 1.0f : 0.0f;
  for (int64_t i = 0; i < H; ++i) out[i] = x[i] * inv * (w[i] + off);
}
}  // namespace

void embedding(const int32_t* ids, int64_t T, const float* table, int64_t H, float scale, float* out,
               ThreadPool* pool) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const float* row = table + static_cast<int64_t>(ids[t]) * H;
      float* o = out + t * H;
      if (scale == 1.0f) {
        std::memcpy(o, row, H * sizeof(float));
      } else {
        for (int64_t i = 0; i < H; ++i) o[i] = row[i] * scale;
      }
    }
  };
  if (pool) pool->parallelFor(T, kRowGrain, body); else body(0, T);
}

void positionEmbedding(const float* x, int64_t T, int64_t H, const float* table, const int32_t* positions,
                       float* out, ThreadPool* pool) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const float* row = table + static_cast<int64_t>(positions[t]) * H;
      for (int64_t i = 0; i < H; ++i) out[t * H + i] = x[t * H + i] + row[i];
    }
  };
  if (pool) pool->parallelFor(T, kRowGrain, body); else body(0, T);
}

void rmsNorm(const float* x, int64_t T, int64_t H, const float* w, float eps, bool unitOffset, float* out,
             ThreadPool* pool) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) rmsRow(x + t * H, H, w, eps, unitOffset, out + t * H);
  };
  if (pool) pool->parallelFor(T, kRowGrain, body); else body(0, T);
}

void addRmsNorm(const float* x, const float* residual, int64_t T, int64_t H, const float* w, float eps,
                bool unitOffset, float* sum, float* out, ThreadPool* pool) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* s = sum + t * H;
      for (int64_t i = 0; i < H; ++i) s[i] = x[t * H + i] + residual[t * H + i];
      rmsRow(s, H, w, eps, unitOffset, out + t * H);
    }
  };
  if (pool) pool->parallelFor(T, kRowGrain, body); else body(0, T);
}

void layerNorm(const float* x, int64_t T, int64_t H, const float* w, const float* b, float eps, float* out,
               ThreadPool* pool) {
  auto body = [&](int64_t rb, int64_t re) {
    for (int64_t t = rb; t < re; ++t) {
      const float* r = x + t * H;
      double mean = 0;
      for (int64_t i = 0; i < H; ++i) mean += r[i];
      mean /= static_cast<double>(H);
      double var = 0;
      for (int64_t i = 0; i < H; ++i) var += (r[i] - mean) * (r[i] - mean);
      var /= static_cast<double>(H);
      const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
      const float m = static_cast<float>(mean);
      float* o = out + t * H;
      for (int64_t i = 0; i < H; ++i) o[i] = (r[i] - m) * inv * w[i] + (b ? b[i] : 0.0f);
    }
  };
  if (pool) pool->parallelFor(T, kRowGrain, body); else body(0, T);
}

}  // namespace llmc::cpu
