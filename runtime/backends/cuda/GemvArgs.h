// GemvArgs.h - host mirrors of the GEMV kernels' folded-norm parameters (GemvNormIn /
// GemvNormOut in codegen/cuda/kernels/gemv.cuh), passed by value as the kernels' last arguments.
//
// Owned by the CUDA backend. Field order and types must match gemv.cuh exactly (the launch copies
// the bytes); the sizes are checked below. Default-constructed = no folded norm.
#pragma once

namespace llmc::cuda {

// x holds h ∘ w; ss[m] = sum(h[m]²): the GEMV multiplies row m's dot products by
// rsqrt(ss[m] / K + eps). ss == nullptr: none.
struct GemvNormInArgs {
  const float* ss = nullptr;
  float eps = 0.f;
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

static_assert(sizeof(GemvNormInArgs) == 16, "GemvNormIn layout (gemv.cuh)");
static_assert(sizeof(GemvNormOutArgs) == 56, "GemvNormOut layout (gemv.cuh)");

}  // namespace llmc::cuda
