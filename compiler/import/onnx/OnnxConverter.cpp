//===- OnnxConverter.cpp - converter registry and context helpers ---------===//
//
// Owner: onnx.
//
//===----------------------------------------------------------------------===//
#include "OnnxConverter.h"

#include "OnnxImporterImpl.h"
#include "OnnxModel.h"

#include <algorithm>

namespace llmc::onnx_import {

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeAttrs::find(const std::string &name) const {
  for (const onnx::AttributeProto &a : node_.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

int64_t NodeAttrs::i(const std::string &name, int64_t def) const {
  const onnx::AttributeProto *a = find(name);
  return a ? a->i() : def;
}

float NodeAttrs::f(const std::string &name, float def) const {
  const onnx::AttributeProto *a = find(name);
  return a ? a->f() : def;
}

std::string NodeAttrs::s(const std::string &name, const std::string &def) const {
  const onnx::AttributeProto *a = find(name);
  return a ? a->s() : def;
}

std::vector<int64_t> NodeAttrs::ints(const std::string &name) const {
  const onnx::AttributeProto *a = find(name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : std::vector<int64_t>();
}

const onnx::TensorProto *NodeAttrs::t(const std::string &name) const {
  const onnx::AttributeProto *a = find(name);
  return a && a->has_t() ? &a->t() : nullptr;
}

//===----------------------------------------------------------------------===//
// Probe evaluation context
//===----------------------------------------------------------------------===//

bool EvalCtx::allData() const {
  for (const ProbeValue *v : in)
    if (v && !v->hasData)
      return false;
  return true;
}

bool EvalCtx::wantData(const std::vector<int64_t> &shape) const {
  return allData() && eval::numelOf(shape) <= kMaxEvalElements;
}

StatusOr<std::vector<int64_t>> EvalCtx::ints(size_t k) const {
  if (k >= in.size() || !in[k])
    return fail("input " + std::to_string(k) + " is missing");
  if (!in[k]->hasData)
    return unsupported("input " + std::to_string(k) + " ('" + node.input(k) +
                       "') must be computable at compile time (it depends on the model's input "
                       "values)");
  return in[k]->data.toInts();
}

void EvalCtx::setShape(size_t k, int32_t dtype, std::vector<int64_t> shape) {
  out[k].dtype = dtype;
  out[k].shape = std::move(shape);
  out[k].hasData = false;
}

void EvalCtx::setData(size_t k, int32_t dtype, eval::Tensor t) {
  out[k].dtype = dtype;
  out[k].shape = t.shape;
  // Keep the value class consistent with the declared ONNX type.
  eval::Kind want = kindOf(dtype);
  if (t.kind != want)
    t = eval::cast(t, want);
  out[k].data = std::move(t);
  out[k].hasData = true;
}

eval::Kind kindOf(int32_t t) {
  if (isOnnxFloatType(t))
    return eval::Kind::kFloat;
  return t == kOnnxBool ? eval::Kind::kBool : eval::Kind::kInt;
}

int32_t onnxTypeOfKind(eval::Kind k, int32_t floatType) {
  switch (k) {
  case eval::Kind::kFloat: return floatType;
  case eval::Kind::kBool: return kOnnxBool;
  default: return kOnnxInt64;
  }
}

//===----------------------------------------------------------------------===//
// Emission context
//===----------------------------------------------------------------------===//

StatusOr<mlir::Value> EmitCtx::in(size_t k) {
  if (!present(k))
    return fail("input " + std::to_string(k) + " is missing");
  return imp.materialize(node.input(k), /*forData=*/imp.isDataNode(node));
}

const ProbeValue &EmitCtx::probeIn(size_t k, int p) const { return imp.probe(node.input(k), p); }
const ProbeValue &EmitCtx::probeOut(size_t k, int p) const { return imp.probe(node.output(k), p); }

StatusOr<eval::Tensor> EmitCtx::constIn(size_t k) const {
  if (!present(k))
    return fail("input " + std::to_string(k) + " is missing");
  const ProbeValue &p0 = probeIn(k, 0);
  for (int p = 0; p < kNumProbes; ++p) {
    const ProbeValue &v = probeIn(k, p);
    if (!v.hasData || !v.data.sameValues(p0.data))
      return unsupported("input " + std::to_string(k) + " ('" + node.input(k) +
                         "') must be a compile-time constant");
  }
  return p0.data;
}

StatusOr<std::vector<Affine>> EmitCtx::affineIn(size_t k) const {
  if (!present(k))
    return fail("input " + std::to_string(k) + " is missing");
  return imp.affineOf(node.input(k), where);
}

StatusOr<mlir::RankedTensorType> EmitCtx::outType(size_t k) const {
  return imp.typeOf(node.output(k), where);
}

StatusOr<mlir::Type> EmitCtx::elemType(int32_t dtype) const { return imp.elemType(dtype, where); }

void EmitCtx::set(size_t k, mlir::Value v) { imp.setEmitted(node.output(k), v); }

//===----------------------------------------------------------------------===//
// Registry
//===----------------------------------------------------------------------===//

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerMathOps(r);
    registerShapeOps(r);
    registerNNOps(r);
    registerAttentionOps(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(OpConverter c) {
  auto key = std::make_pair(c.domain, c.opType);
  ops_[key] = std::move(c);
}

const OpConverter *OpRegistry::lookup(const std::string &domainIn, const std::string &op,
                                      int64_t opset, int64_t *since) const {
  const std::string domain = domainIn == "ai.onnx" ? "" : domainIn;
  auto it = ops_.find({domain, op});
  if (it == ops_.end() || opset < 0)
    return nullptr;
  const OpConverter &c = it->second;
  int64_t v = -1;
  for (int64_t s : c.versions)
    if (s <= opset)
      v = s;
  if (v < c.minVersion)
    return nullptr;
  *since = v;
  return &c;
}

std::vector<const OpConverter *> OpRegistry::all() const {
  std::vector<const OpConverter *> out;
  for (const auto &[k, c] : ops_)
    out.push_back(&c);
  return out;
}

}  // namespace llmc::onnx_import

#include "llmc/Compiler/Import/ONNX/OnnxOps.h"

namespace llmc::onnx_import {

std::vector<SupportedOp> supportedOps() {
  std::vector<SupportedOp> out;
  for (const OpConverter *c : OpRegistry::get().all())
    out.push_back({c->domain, c->opType, c->minVersion, c->versions});
  return out;
}

int64_t maxKnownOpset() { return kMaxKnownOpset; }

}  // namespace llmc::onnx_import
