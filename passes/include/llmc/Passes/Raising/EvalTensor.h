//===- EvalTensor.h - small dense tensors and reference kernels --*- C++ -*-===//
//
// Owner: onnx. A plain N-d tensor (row-major, values held as double or int64) and reference
// kernels with ONNX semantics (numpy broadcasting, Slice clamping, Gather/GatherND, ...). Used at
// compile time only, on small tensors: the ONNX importer evaluates shape subgraphs and
// position/mask subgraphs for probe sequence lengths, and the raising passes evaluate generic-op
// subgraphs to recover constants (RoPE frequencies) and to check data-movement chains (head
// views). Never on weights: callers keep large tensors out.
//
// Kernels return false and set `err` on bad input (shape mismatch, out-of-range index); they never
// abort. Errors are strings; callers wrap them into their own diagnostics.
//
//===----------------------------------------------------------------------===//
#ifndef LLMC_PASSES_RAISING_EVALTENSOR_H
#define LLMC_PASSES_RAISING_EVALTENSOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace llmc::eval {

// Value class of a tensor. Floats (any width) are evaluated in double, integers in int64, bools
// as int64 0/1. The exact ONNX element type is kept by callers where it matters.
enum class Kind { kFloat, kInt, kBool };

struct Tensor {
  Kind kind = Kind::kFloat;
  std::vector<int64_t> shape;
  std::vector<double> f;   // kFloat
  std::vector<int64_t> i;  // kInt, kBool

  static Tensor floats(std::vector<int64_t> shape, std::vector<double> v);
  static Tensor ints(std::vector<int64_t> shape, std::vector<int64_t> v, Kind k = Kind::kInt);
  static Tensor scalarInt(int64_t v) { return ints({}, {v}); }

  int64_t numel() const;
  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  bool isFloat() const { return kind == Kind::kFloat; }
  // Element j as double / int64 (converting).
  double at(int64_t j) const { return isFloat() ? f[j] : static_cast<double>(i[j]); }
  int64_t atInt(int64_t j) const { return isFloat() ? static_cast<int64_t>(f[j]) : i[j]; }
  // All elements as int64 (for shape/axes/index operands).
  std::vector<int64_t> toInts() const;
  bool sameValues(const Tensor &o) const;  // same shape, kind class and values (NaN == NaN)
};

std::string shapeString(const std::vector<int64_t> &shape);
int64_t numelOf(const std::vector<int64_t> &shape);
std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape);
// Normalises a possibly negative axis into [0, rank); false if out of range.
bool normAxis(int64_t &axis, int64_t rank);

// numpy broadcasting of two shapes.
bool broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                     std::vector<int64_t> &out, std::string &err);

// Elementwise. Binary fns: add sub mul div pow max min mod and or xor eq lt le gt ge.
// Unary fns: neg sqrt reciprocal exp log sigmoid tanh erf cos sin abs relu not isnan isinf floor
// ceil identity. Comparisons and isnan/isinf give kBool; and/or/xor/not need bools.
bool isBinaryFn(const std::string &fn);
bool isUnaryFn(const std::string &fn);
bool binary(const std::string &fn, const Tensor &a, const Tensor &b, Tensor &out, std::string &err);
bool unary(const std::string &fn, const Tensor &a, Tensor &out, std::string &err);
bool where(const Tensor &c, const Tensor &a, const Tensor &b, Tensor &out, std::string &err);
Tensor cast(const Tensor &a, Kind to);

bool reshape(const Tensor &a, const std::vector<int64_t> &shape, Tensor &out, std::string &err);
bool transpose(const Tensor &a, const std::vector<int64_t> &perm, Tensor &out, std::string &err);
bool expand(const Tensor &a, const std::vector<int64_t> &shape, Tensor &out, std::string &err);
// ONNX Slice (opset >= 10) with starts/ends/axes/steps already read; clamps like ONNX.
bool slice(const Tensor &a, const std::vector<int64_t> &starts, const std::vector<int64_t> &ends,
           const std::vector<int64_t> &axes, const std::vector<int64_t> &steps, Tensor &out,
           std::string &err);
// Output shape of slice without data (shape inference of data tensors).
bool sliceShape(const std::vector<int64_t> &in, const std::vector<int64_t> &starts,
                const std::vector<int64_t> &ends, const std::vector<int64_t> &axes,
                const std::vector<int64_t> &steps, std::vector<int64_t> &out, std::string &err);
bool concat(const std::vector<const Tensor *> &parts, int64_t axis, Tensor &out, std::string &err);
bool gather(const Tensor &data, const Tensor &indices, int64_t axis, Tensor &out, std::string &err);
bool gatherND(const Tensor &data, const Tensor &indices, int64_t batchDims, Tensor &out,
              std::string &err);
// fn: mean sum max min prod. Empty axes = all axes.
bool reduce(const std::string &fn, const Tensor &a, std::vector<int64_t> axes, bool keepdims,
            Tensor &out, std::string &err);
bool reduceShape(const std::vector<int64_t> &in, std::vector<int64_t> axes, bool keepdims,
                 std::vector<int64_t> &out, std::string &err);
bool softmax(const Tensor &a, int64_t axis, Tensor &out, std::string &err);
bool cumsum(const Tensor &a, int64_t axis, bool exclusive, bool reverse, Tensor &out,
            std::string &err);
bool range(const Tensor &start, const Tensor &limit, const Tensor &delta, Tensor &out,
           std::string &err);
bool trilu(const Tensor &a, int64_t k, bool upper, Tensor &out, std::string &err);
bool matmul(const Tensor &a, const Tensor &b, Tensor &out, std::string &err);
bool matmulShape(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                 std::vector<int64_t> &out, std::string &err);

}  // namespace llmc::eval

#endif  // LLMC_PASSES_RAISING_EVALTENSOR_H
