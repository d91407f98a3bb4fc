// GemvArgs.h - host mirrors of the GEMV kernels' per-launch options (GemvIn /
// GemvNormOut in codegen/cuda/kernels/gemv.cuh), passed by value as the kernels' last arguments.
//
// Owned by the CUDA backend. Field order and types must match gemv.cuh exactly (the launch copies
// the bytes); the sizes are checked below. Default-constructed = no folded norm.
#pragma once

#include <cstddef>

namespace llmc::cuda {

// x holds h ∘ w; sum(h[m]²) is the sum of ssParts[b * M + m] over b < nParts (the producer
// GEMV's per-block partials): the GEMV multiplies row m's dot products by rsqrt(that / K + eps).
// ssParts == nullptr: none.
struct GemvInArgs {
  const float* ssParts = nullptr;
  float eps = 0.f;
  int earlyTrigger = 0;  // 1: release the dependent launch before waiting for the predecessor; 2: at block exit
  int nParts = 0;
  // != 0: the block copies the partials into its dynamic shared memory right after its wait (the
  // launch gives nParts * M floats: gemvSmemBytes), so summing them at its end needs no global
  // round trip (LLMC_CUDA_EARLY_NORM_PARTS).
  int earlyParts = 0;
  // != 0: before its wait each warp asks L2 for its rows past the first round of register loads
  // (LLMC_CUDA_GEMV_L2_TAILS).
  int prefetchTails = 0;
};

// The most rows (M) whose GEMVs have the early copy (gemv.cuh kGemvEarlyPartsMaxRows).
constexpr int kGemvEarlyPartsMaxRows = 2;

// The dynamic shared memory a GEMV launch with these options needs (rows = M).
inline size_t gemvSmemBytes(const GemvInArgs& a, int rows) {
  return a.ssParts != nullptr && a.earlyParts != 0 ? static_cast<size_t>(a.nParts) * rows * sizeof(float) : 0;
}

// The GEMV adds `residual` to its output, stores it, stores it ∘ (normW + normOffset) into xw and
// one partial sum of out² per block and row into partials (grid * M floats). residual == nullptr:
// none.
struct GemvNormOutArgs {
  const float* residual = nullptr;
  const float* normW = nullptr;
  float normOffset = 0.f;
  float* xw = nullptr;
  float* partials = nullptr;
};

static_assert(sizeof(GemvInArgs) == 32, "GemvIn layout (gemv.cuh)");
static_assert(sizeof(GemvNormOutArgs) == 40, "GemvNormOut layout (gemv.cuh)");

}  // namespace llmc::cuda
