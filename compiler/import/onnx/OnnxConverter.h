//===- OnnxConverter.h - per-op converters keyed by (op, since_version) -*- C++ -*-===//
//
// Owner: onnx. Internal to compiler/import/onnx. Every supported ONNX operator has one
// OpConverter, registered by its family's file (OnnxMathOps.cpp, OnnxShapeOps.cpp,
// OnnxNNOps.cpp, OnnxAttentionOps.cpp). A converter has two halves:
//
//  - eval: shape inference and, when every input's value is known, evaluation, for one concrete
//    sequence length T ("probe"). The importer runs the whole graph at a few probe lengths: this
//    folds shape subgraphs and tells which values depend only on T (positions, masks, shapes).
//  - emit: the generic llm ops for a node whose result depends on the model's input data (or a
//    T-dependent value that no canonical form describes). Result types come from the probes.
//
// The registry resolves the operator version the model's opset selects (the newest since_version
// <= opset among the versions ONNX defined for the op) and hands it to both halves, which read
// attributes or inputs accordingly (e.g. Squeeze's axes: attribute before 13, input from 13).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "llmc/Passes/Raising/EvalTensor.h"
#include "llmc/runtime/Status.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "onnx/onnx_pb.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llmc::onnx_import {

// Elements a probe evaluation may produce for one value; larger values are treated as data.
constexpr int64_t kMaxEvalElements = int64_t{1} << 20;
// Largest float tensor inlined as an llm.constant (frequency tables, scalars); larger float
// values are weights or are computed by ops at run time.
constexpr int64_t kMaxInlineFloats = 4096;
// Number of probe lengths and the lengths themselves (distinct, > 1; the last one longer than a
// small sliding window so masks reveal it).
constexpr int kNumProbes = 3;
constexpr int64_t kProbeLengths[kNumProbes] = {6, 11, 40};

// One value at one probe.
struct ProbeValue {
  int32_t dtype = 0;  // ONNX element type
  std::vector<int64_t> shape;
  bool hasData = false;
  eval::Tensor data;  // when hasData
};

// Attribute access with defaults (ONNX attributes are optional with spec defaults).
class NodeAttrs {
 public:
  explicit NodeAttrs(const onnx::NodeProto &n) : node_(n) {}
  const onnx::AttributeProto *find(const std::string &name) const;
  bool has(const std::string &name) const { return find(name) != nullptr; }
  int64_t i(const std::string &name, int64_t def) const;
  float f(const std::string &name, float def) const;
  std::string s(const std::string &name, const std::string &def) const;
  std::vector<int64_t> ints(const std::string &name) const;
  const onnx::TensorProto *t(const std::string &name) const;

 private:
  const onnx::NodeProto &node_;
};

// Shared context of both halves.
struct NodeCtx {
  const onnx::NodeProto &node;
  int64_t since;  // resolved operator version
  NodeAttrs attr;
  std::string where;  // "model.onnx: node 'n3' (Slice)" for messages
  NodeCtx(const onnx::NodeProto &n, int64_t s, std::string w)
      : node(n), since(s), attr(n), where(std::move(w)) {}
  Status fail(const std::string &msg) const { return InvalidArgument(where + ": " + msg); }
  Status unsupported(const std::string &msg) const { return Unsupported(where + ": " + msg); }
  size_t numInputs() const { return node.input_size(); }
  bool present(size_t k) const { return k < numInputs() && !node.input(k).empty(); }
};

struct EvalCtx : NodeCtx {
  int64_t T = 0;                       // the probe's sequence length
  std::vector<const ProbeValue *> in;  // nullptr for absent optional inputs
  std::vector<ProbeValue> out;         // one per node output
  using NodeCtx::NodeCtx;

  const ProbeValue &input(size_t k) const { return *in[k]; }
  // True when every present input has data (so outputs can be computed, size permitting).
  bool allData() const;
  // allData() and the shape is small enough to evaluate.
  bool wantData(const std::vector<int64_t> &shape) const;
  // Input k's data as integers; fails when the input is not known at this probe.
  StatusOr<std::vector<int64_t>> ints(size_t k) const;
  void setShape(size_t k, int32_t dtype, std::vector<int64_t> shape);
  void setData(size_t k, int32_t dtype, eval::Tensor t);
  Status check(bool ok, const std::string &err) const { return ok ? Status::Ok() : fail(err); }
};

class OnnxImporterImpl;

// y = a * T + b.
struct Affine {
  int64_t a = 0, b = 0;
};

struct EmitCtx : NodeCtx {
  mlir::OpBuilder &b;
  mlir::Location loc;
  OnnxImporterImpl &imp;
  EmitCtx(const onnx::NodeProto &n, int64_t s, std::string w, mlir::OpBuilder &builder,
          mlir::Location l, OnnxImporterImpl &importer)
      : NodeCtx(n, s, std::move(w)), b(builder), loc(l), imp(importer) {}

  // Input k as an IR value (materialised on demand).
  StatusOr<mlir::Value> in(size_t k);
  // Input / output k at probe p.
  const ProbeValue &probeIn(size_t k, int p) const;
  const ProbeValue &probeOut(size_t k, int p) const;
  // Input k's value when it is the same at every probe (a constant), else an error.
  StatusOr<eval::Tensor> constIn(size_t k) const;
  // Input k's integer elements as functions of T (fitted over the probes), else an error.
  StatusOr<std::vector<Affine>> affineIn(size_t k) const;
  // Result type of output k: static dims, `?` for dims equal to T; other dims are an error.
  StatusOr<mlir::RankedTensorType> outType(size_t k) const;
  // Element type of an ONNX dtype.
  StatusOr<mlir::Type> elemType(int32_t dtype) const;
  void set(size_t k, mlir::Value v);
};

using EvalFn = std::function<Status(EvalCtx &)>;
using EmitFn = std::function<Status(EmitCtx &)>;

struct OpConverter {
  std::string domain;  // "" = ai.onnx
  std::string opType;
  // Every since_version ONNX defined for the op (ascending) up to kMaxKnownOpset, and the
  // oldest one this converter implements.
  std::vector<int64_t> versions;
  int64_t minVersion = 0;
  EvalFn eval;
  EmitFn emit;
};

class OpRegistry {
 public:
  static const OpRegistry &get();
  void add(OpConverter c);
  // The converter and the resolved since_version for (domain, op) under `opset`, or nullptr
  // when the op or that version is not supported.
  const OpConverter *lookup(const std::string &domain, const std::string &op, int64_t opset,
                            int64_t *since) const;
  // (domain, op) pairs, sorted (docs and tests).
  std::vector<const OpConverter *> all() const;

 private:
  std::map<std::pair<std::string, std::string>, OpConverter> ops_;
};

// Family registration (one per file).
void registerMathOps(OpRegistry &r);
void registerShapeOps(OpRegistry &r);
void registerNNOps(OpRegistry &r);
void registerAttentionOps(OpRegistry &r);

// Shared helpers of the families.
eval::Kind kindOf(int32_t onnxType);
int32_t onnxTypeOfKind(eval::Kind k, int32_t floatType);

}  // namespace llmc::onnx_import
