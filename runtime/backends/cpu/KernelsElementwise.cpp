// KernelsElementwise.cpp - silu, gelu (erf / tanh), add, mul and the fused glu.
#include <cmath>

#include "CpuKernels.h"
#include "ThreadPool.h"

namespace llmc::cpu {

namespace {
constexpr int64_t kGrain = 1 << 14;

template <typename F>
void forEach(int64_t n, ThreadPool* pool, F f) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) f(i);
  };
  if (pool) pool->parallelFor(n, kGrain, body); else body(0, n);
}
}  // namespace

float siluScalar(float x) { return x / (1.0f + std::exp(-x)); }

float geluScalar(float x, GeluApprox approx) {
  if (approx == GeluApprox::kTanh) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
  }
  return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
}

void silu(const float* x, int64_t n, float* out, ThreadPool* pool) {
  forEach(n, pool, [&](int64_t i) { out[i] = siluScalar(x[i]); });
}

void gelu(const float* x, int64_t n, GeluApprox approx, float* out, ThreadPool* pool) {
  forEach(n, pool, [&](int64_t i) { out[i] = geluScalar(x[i], approx); });
}

void add(const float* a, const float* b, int64_t n, float* out, ThreadPool* pool) {
  forEach(n, pool, [&](int64_t i) { out[i] = a[i] + b[i]; });
}

void mul(const float* a, const float* b, int64_t n, float* out, ThreadPool* pool) {
  forEach(n, pool, [&](int64_t i) { out[i] = a[i] * b[i]; });
}

void glu(const float* x, int64_t T, int64_t I, GluActivation act, float* out, ThreadPool* pool) {
  forEach(T * I, pool, [&](int64_t idx) {
    const int64_t t = idx / I, i = idx % I;
    const float g = x[t * 2 * I + i], u = x[t * 2 * I + I + i];
    float a;
    switch (act) {
      case GluActivation::kSilu: a = siluScalar(g); break;
      case GluActivation::kGeluTanh: a = geluScalar(g, GeluApprox::kTanh); break;
      default: a = geluScalar(g, GeluApprox::kNone); break;
    }
    out[idx] = a * u;
  });
}

}  // namespace llmc::cpu
