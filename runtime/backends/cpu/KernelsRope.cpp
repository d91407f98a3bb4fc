// KernelsRope.cpp - rotary position embedding, interleaved (GPT-J) or rotate-half (HF) pairs.
#include <cmath>
#include <cstring>

#include "CpuKernels.h"
#include "ThreadPool.h"

namespace llmc::cpu {

void rope(const float* x, int64_t T, int64_t numHeads, int64_t headDim, int64_t rotaryDim, const float* invFreq,
          bool interleaved, const int32_t* positions, float* out, ThreadPool* pool) {
  const int64_t half = rotaryDim / 2;
  const int64_t width = numHeads * headDim;
  auto body = [&](int64_t b, int64_t e) {
    std::vector<float> cs(half), sn(half);
    for (int64_t t = b; t < e; ++t) {
      // Angles in double then rounded: positions reach 1e5+, where float products lose digits.
      for (int64_t i = 0; i < half; ++i) {
        double ang = static_cast<double>(positions[t]) * static_cast<double>(invFreq[i]);
        cs[i] = static_cast<float>(std::cos(ang));
        sn[i] = static_cast<float>(std::sin(ang));
      }
      for (int64_t h = 0; h < numHeads; ++h) {
        const float* xi = x + t * width + h * headDim;
        float* o = out + t * width + h * headDim;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t a = interleaved ? 2 * i : i;
          const int64_t c = interleaved ? 2 * i + 1 : i + half;
          const float x0 = xi[a], x1 = xi[c];  // read both before writing (in place)
          o[a] = x0 * cs[i] - x1 * sn[i];
          o[c] = x1 * cs[i] + x0 * sn[i];
        }
        if (o != xi) {
          for (int64_t i = rotaryDim; i < headDim; ++i) o[i] = xi[i];
        }
      }
    }
  };
  if (pool) pool->parallelFor(T, 2, body); else body(0, T);
}

}  // namespace llmc::cpu
