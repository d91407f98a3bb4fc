// GraphKernelAbi.h - the host's mirror of what codegen/cuda/kernels/graph_ops.cuh takes: the
// iteration Space and operand Strides structs (passed by value: same layout on both sides) and the
// op, function and error codes. Keep the two in step; the GPU graph tests run both sides.
#pragma once

#include <cstdint>
#include <string>

#include "llmc/runtime/GraphProgram.h"

namespace llmc::cuda::graph {

inline constexpr int kMaxRank = 8;
struct Space {
  int rank = 0;
  long long dims[kMaxRank] = {};
};
struct Strides {
  long long off = 0;
  long long s[kMaxRank] = {};
};
static_assert(sizeof(Space) == 72 && sizeof(Strides) == 72, "graph_ops.cuh passes these by value");

// Element type codes are GType's values (graph_ops.cuh's enum Type lists them in its order).
static_assert(static_cast<int>(GType::kF64) == 3 && static_cast<int>(GType::kBool) == 12, "graph_ops.cuh Type");
inline int typeCode(GType t) { return static_cast<int>(t); }

enum MapOp { kCopy = 0, kUnaryOp = 1, kBinaryOp = 2, kWhereOp = 3 };
enum ReduceFn { kSum = 0, kMean = 1, kProd = 2, kMax = 3, kMin = 4 };
enum GraphError { kErrNone = 0, kErrDivZero, kErrModZero, kErrGatherIndex, kErrGatherNdIndex, kErrRange };

// The kernel's code of a unary / binary / reduce function name (the graph program's); -1 unknown.
int unaryCode(const std::string& fn);
int binaryCode(const std::string& fn);
int reduceCode(const std::string& fn);
// What a GraphError code means, for the error the runner returns.
const char* graphErrorText(int code);

}  // namespace llmc::cuda::graph
