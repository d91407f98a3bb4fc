// GemvArgs.h - host mirrors of the GEMV kernels' per-launch options (GemvIn /
// GemvNormOut in codegen/cuda/kernels/gemv.cuh), passed by value as the kernels' last arguments.
//
// Owned by the CUDA backend. Field order and types must match gemv.cuh exactly (the launch copies
// the bytes); the sizes are checked below. Default-constructed = no folded norm.
#pragma once

namespace llmc::cuda {

// x holds h ∘ w; ss[m] = sum(h[m]²): the GEMV multiplies row m's dot products by
// rsqrt(ss[m] / K + eps). ss == nullptr: none. stage != 0: the second round of weight loads is
// prefetched into shared memory before the kernel waits for its predecessor (0: registers only).
struct GemvInArgs {
  const float* ss = nullptr;
  float eps = 0.f;
  int stage = 0;
  int earlyTrigger = 0;  // != 0: release the dependent launch before waiting for the predecessor
};

// The GEMV adds `residual` to its output, stores it, stores it ∘ (normW + normOffset) into xw and
// sum(out²) per row into ssOut (partials: grid * M floats; counter: zero before, zero after).
// residual == nullptr: none.
struct GemvNormOutArgs {
  const float* residual = nullptr;
  const float* normW = nullptr;
  float normOffset = 0.f;
  float* xw = nullptr;
  float* partials = nullptr;
  unsigned* counter = nullptr;
  float* ssOut = nullptr;
};

static_assert(sizeof(GemvInArgs) == 24, "GemvIn layout (gemv.cuh)");
static_assert(sizeof(GemvNormOutArgs) == 56, "GemvNormOut layout (gemv.cuh)");

}  // namespace llmc::cuda
