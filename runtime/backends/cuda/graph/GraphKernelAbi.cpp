// GraphKernelAbi.cpp - function-name and error codes of graph_ops.cuh (its enum orders).
#include "GraphKernelAbi.h"

namespace llmc::cuda::graph {

namespace {

int indexOf(const std::string& fn, std::initializer_list<const char*> names) {
  int k = 0;
  for (const char* n : names) {
    if (fn == n) return k;
    ++k;
  }
  return -1;
}

}  // namespace

int unaryCode(const std::string& fn) {
  return indexOf(fn, {"identity", "neg", "sqrt", "reciprocal", "exp", "log", "sigmoid", "tanh", "erf", "cos", "sin",
                      "abs", "relu", "floor", "ceil", "not", "isnan", "isinf"});
}
int binaryCode(const std::string& fn) {
  return indexOf(fn, {"add", "sub", "mul", "div", "pow", "max", "min", "mod", "and", "or", "xor", "eq", "lt", "le",
                      "gt", "ge"});
}
int reduceCode(const std::string& fn) { return indexOf(fn, {"sum", "mean", "prod", "max", "min"}); }

const char* graphErrorText(int code) {
  switch (code) {
    case kErrDivZero: return "integer division by zero";
    case kErrModZero: return "integer modulo by zero";
    case kErrGatherIndex: return "gather: an index is out of range";
    case kErrGatherNdIndex: return "gather_nd: an index is out of range";
    case kErrRange: return "range: delta 0, or a length other than the declared shape";
  }
  return "unknown device error";
}

}  // namespace llmc::cuda::graph
