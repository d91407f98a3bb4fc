// GraphShapes.h - the shape rules and checks of the generic ops, shared by the CPU interpreter
// (GraphKernels) and the CUDA graph runner (runtime/backends/cuda/graph), so both accept the same
// programs, compute the same result shapes and refuse with the same messages.
#pragma once

#include <string>
#include <vector>

#include "GTensor.h"

namespace llmc::cpu::graph {

// An input of the program: its shape and element type against what the engine declares (-1 = T).
Status checkGraphInput(const GraphIO& io, const GraphValue& v, int64_t T, const std::vector<int64_t>& shape,
                       GType type);

// Slice (ONNX clamping, negative starts/ends/steps): per dimension the first index, the step and
// the result's extent.
struct SlicePlan {
  std::vector<int64_t> first, step, shape;
};
Status planSlice(const std::vector<int64_t>& in, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                 const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, SlicePlan* plan);

// MatMul (numpy): a vector operand promoted to a matrix, batch dimensions broadcast.
struct MatMulPlan {
  int64_t m = 0, k = 0, n = 0;
  std::vector<int64_t> aBatch, bBatch, batch;  // each operand's batch dims, and their broadcast
  std::vector<int64_t> shape;                  // the result's
};
Status planMatMul(const std::vector<int64_t>& a, const std::vector<int64_t>& b, MatMulPlan* plan);

// The accumulator's start of a reduction to `type`: max / min of an empty set give the type's
// lowest / highest value (ONNX).
double reduceInit(const std::string& fn, GType type);

// Scaled dot-product attention: q [B, H, S, D], k [Bk, Hk, S2, D], v [Bk, Hk, S2, Dv] with H a
// multiple of Hk and Bk B or 1; the mask (may be null) broadcasts to [B, H, S, S2].
struct SdpaDims {
  int64_t B = 0, H = 0, S = 0, D = 0, Bk = 0, Hk = 0, S2 = 0, Dv = 0;
};
Status planSdpa(const std::vector<int64_t>& q, const std::vector<int64_t>& k, const std::vector<int64_t>& v,
                const std::vector<int64_t>* mask, SdpaDims* d);

// GatherND with `b` batch dimensions: data [batch (b dims), tuple (last dims), inner...], indices
// [..., last]. The result's shape, and where each index tuple reads: tuple t starts at
// (t / tuplesPerBatch) * perBatch plus sum_k ix_k * strides[b + k] and copies `inner` elements.
struct GatherNdPlan {
  std::vector<int64_t> shape;    // the result's
  std::vector<int64_t> strides;  // data's row-major strides
  int64_t last = 0, inner = 1, perBatch = 0, tuples = 0, tuplesPerBatch = 0;
};
Status planGatherNd(const std::vector<int64_t>& data, const std::vector<int64_t>& indices, int64_t b,
                    GatherNdPlan* plan);

// Concat along `axis` (normalised in place): the result's shape.
Status concatShape(const std::vector<const std::vector<int64_t>*>& parts, int64_t& axis, std::vector<int64_t>* shape);

}  // namespace llmc::cpu::graph
