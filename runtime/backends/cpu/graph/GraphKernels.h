// GraphKernels.h - the graph interpreter's kernels, one per generic op (docs/graph-program.md).
//
// Semantics are ONNX's (numpy broadcasting, Slice clamping, negative indices, truncating integer
// division, ...) and equal those of the compiler's evaluator (passes/Raising/EvalTensor.cpp).
// `type` is the element type of the op's result as the program declares it; results are computed
// in the inputs' value class and then converted and rounded to it. Errors are InvalidArgument
// values naming the problem (the interpreter prefixes the op).
#pragma once

#include <string>
#include <vector>

#include "GTensor.h"

namespace llmc::cpu::graph {

Status unaryK(const std::string& fn, const GTensor& a, GType type, GTensor* out);
Status binaryK(const std::string& fn, const GTensor& a, const GTensor& b, GType type, GTensor* out);
Status whereK(const GTensor& c, const GTensor& a, const GTensor& b, GType type, GTensor* out);

Status matmulK(const GTensor& a, const GTensor& b, GType type, GTensor* out);
Status reduceK(const std::string& fn, const GTensor& a, const std::vector<int64_t>& axes, bool keepdims,
               GType type, GTensor* out);
Status softmaxK(const GTensor& a, int64_t axis, GTensor* out);
Status cumsumK(const GTensor& a, int64_t axis, bool exclusive, bool reverse, GType type, GTensor* out);
// q [B, H, S, D], k [B, Hk, S2, D], v [B, Hk, S2, Dv] (H a multiple of Hk); mask (may be null)
// broadcasts to [B, H, S, S2], bool (true = attend) or additive; is_causal masks key j > query i.
Status sdpaK(const GTensor& q, const GTensor& k, const GTensor& v, const GTensor* mask, double scale,
             bool causal, GType type, GTensor* out);

Status transposeK(const GTensor& a, const std::vector<int64_t>& perm, GTensor* out);
Status expandK(const GTensor& a, const std::vector<int64_t>& shape, GTensor* out);
Status sliceK(const GTensor& a, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
              const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, GTensor* out);
Status concatK(const std::vector<const GTensor*>& parts, int64_t axis, GType type, GTensor* out);
Status gatherK(const GTensor& data, const GTensor& indices, int64_t axis, GTensor* out);
Status gatherNDK(const GTensor& data, const GTensor& indices, int64_t batchDims, GTensor* out);
Status rangeK(const GTensor& start, const GTensor& limit, const GTensor& delta, GType type, GTensor* out);
Status triluK(const GTensor& a, int64_t k, bool upper, GTensor* out);

}  // namespace llmc::cpu::graph
