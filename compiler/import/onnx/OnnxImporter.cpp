//===- OnnxImporter.cpp - ONNX model -> generic llm ops -------------------===//
//
// Owner: onnx. The driver of OnnxImporterImpl.h: support check, graph inputs, probe
// evaluation, emission. Canonical forms of symbol-only values are in OnnxCanonical.cpp.
//
//===----------------------------------------------------------------------===//
#include "llmc/Compiler/Import/ONNX/OnnxImporter.h"

#include "OnnxImporterImpl.h"

#include "llmc/Dialect/LLM/IR/LLMDialect.h"
#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

namespace llmc::onnx_import {

OnnxImporterImpl::OnnxImporterImpl(mlir::MLIRContext &ctx, const OnnxModel &model,
                                   engine::DType dtype)
    : ctx_(ctx), model_(model), dtype_(dtype), b_(&ctx), loc_(b_.getUnknownLoc()) {}

std::string OnnxImporterImpl::nodeWhere(const onnx::NodeProto &n) const {
  std::string name = n.name().empty() ? (n.output_size() ? "-> " + n.output(0) : "?") : n.name();
  return model_.path() + ": node '" + name + "' (" + n.op_type() + ")";
}

Status OnnxImporterImpl::checkSupported() {
  const onnx::GraphProto &g = model_.graph();
  plan_.assign(g.node_size(), {});
  // (domain, op, opset) -> first node, in order of first appearance.
  std::vector<std::pair<std::string, std::string>> missing;
  std::set<std::string> seen;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &n = g.node(i);
    const std::string domain = n.domain().empty() ? "ai.onnx" : n.domain();
    const int64_t opset = model_.opset(n.domain());
    int64_t since = 0;
    const OpConverter *c = OpRegistry::get().lookup(n.domain(), n.op_type(), opset, &since);
    bool subgraph = false;
    for (const onnx::AttributeProto &a : n.attribute())
      subgraph |= a.has_g() || a.graphs_size() > 0;
    if (c && !subgraph) {
      plan_[i] = {c, since};
      continue;
    }
    std::string key = domain + "::" + n.op_type() + " (opset " +
                      (opset < 0 ? std::string("not imported") : std::to_string(opset));
    if (seen.insert(key).second) {
      std::string name = n.name().empty() ? "#" + std::to_string(i) : n.name();
      missing.push_back({key, name});
    }
  }
  if (missing.empty())
    return Status::Ok();
  std::string msg = model_.path() + ": unsupported ops: ";
  for (size_t k = 0; k < missing.size(); ++k)
    msg += (k ? ", " : "") + missing[k].first + ", first node '" + missing[k].second + "')";
  return Unsupported(msg);
}

Status OnnxImporterImpl::classifyInputs() {
  if (isTensorGraph())
    return classifyTensorInputs();
  const onnx::GraphProto &g = model_.graph();
  std::string maskName, posName;
  for (const onnx::ValueInfoProto &v : g.input()) {
    if (model_.initializer(v.name()))
      continue;  // IR < 4 lists initializers as inputs too
    const onnx::TypeProto_Tensor &tt = v.type().tensor_type();
    const int32_t et = tt.elem_type();
    const int rank = tt.has_shape() ? tt.shape().dim_size() : -1;
    const bool intPair = rank == 2 && (et == kOnnxInt64 || et == kOnnxInt32);
    auto bad = [&](const std::string &why) {
      return Unsupported(model_.path() + ": graph input '" + v.name() + "' " + why +
                         " (llmc feeds token ids [1, T], and optionally attention_mask, "
                         "position_ids and past_key_values.N.key/value)");
    };
    if (isPastName(v.name()) || (rank == 4 && isOnnxFloatType(et))) {
      LLMC_RETURN_IF_ERROR(classifyPastInput(v));
      values_[v.name()].isGraphInput = true;
      continue;
    }
    if (!intPair)
      return bad("is not a rank-2 int64/int32 tensor");
    const onnx::TensorShapeProto_Dimension &d0 = tt.shape().dim(0), &d1 = tt.shape().dim(1);
    if (d0.has_dim_value() && d0.dim_value() != 1)
      return bad("has batch size " + std::to_string(d0.dim_value()) + " (must be 1 or dynamic)");
    if (d1.has_dim_value())
      return bad("has a static sequence length " + std::to_string(d1.dim_value()) +
                 "; export with a dynamic sequence axis");
    const std::string &n = v.name();
    if (n.find("position") != std::string::npos && posName.empty())
      posName = n;
    else if (n.find("mask") != std::string::npos && maskName.empty())
      maskName = n;
    else if (idsName_.empty())
      idsName_ = n, idsType_ = et;
    else
      return bad("is a second token-id-like input");
    values_[n].isGraphInput = true;
  }
  if (idsName_.empty())
    return InvalidArgument(model_.path() + ": the graph has no token-id input ([batch, sequence] "
                                           "int64)");
  return Status::Ok();
}

bool OnnxImporterImpl::allData(const ValueState &vs) const {
  for (const ProbeValue &p : vs.probes)
    if (!p.hasData)
      return false;
  return true;
}

bool OnnxImporterImpl::isDataNode(const onnx::NodeProto &n) const {
  for (const std::string &o : n.output()) {
    if (o.empty())
      continue;
    auto it = values_.find(o);
    if (it != values_.end() && !allData(it->second))
      return true;
  }
  return false;
}

Status OnnxImporterImpl::probeAll() {
  const onnx::GraphProto &g = model_.graph();
  // Initializers: shapes always, values when small (weights stay opaque: never copied).
  for (const auto &[name, d] : model_.initializers()) {
    ValueState &vs = values_[name];
    vs.init = &d;
    const int64_t n = d.numel();
    // Float matrices are weights: never evaluated (a folded Transpose of one would inline the
    // weight). Vectors (inv_freq, norm weights, biases) and integer tables may be.
    const bool small = isOnnxFloatType(d.dtype) ? d.shape.size() <= 1 && n <= kMaxInlineFloats
                                                : n <= kMaxEvalElements;
    bool readable = onnxTypeBytes(d.dtype) != 0;
    if (small && readable) {
      LLMC_ASSIGN_OR_RETURN(eval::Tensor t, model_.readTensor(d));
      initCache_[name] = std::move(t);
    }
    for (ProbeValue &p : vs.probes) {
      p.dtype = d.dtype;
      p.shape = d.shape;
      auto it = initCache_.find(name);
      if (it != initCache_.end()) {
        p.hasData = true;
        p.data = it->second;
      }
    }
  }
  for (int p = 0; p < kNumProbes; ++p) {
    const int64_t T = kProbeLengths[p];
    for (auto &[name, vs] : values_) {
      if (!vs.isGraphInput)
        continue;
      ProbeValue &pv = vs.probes[p];
      if (past_.count(name)) {
        bindPastProbe(name, pv);
        continue;
      }
      pv.dtype = kOnnxInt64;
      pv.shape = {1, T};
      pv.hasData = name != idsName_;
      if (pv.hasData) {
        // attention_mask: all ones (no padding); position_ids: 0..T-1 (a prompt from its start).
        std::vector<int64_t> v(T, 1);
        if (name.find("position") != std::string::npos)
          for (int64_t t = 0; t < T; ++t)
            v[t] = t;
        pv.data = eval::Tensor::ints({1, T}, std::move(v));
      }
    }
    for (int i = 0; i < g.node_size(); ++i) {
      const onnx::NodeProto &n = g.node(i);
      EvalCtx ctx(n, plan_[i].since, nodeWhere(n));
      ctx.T = T;
      for (const std::string &in : n.input())
        ctx.in.push_back(in.empty() ? nullptr : &values_.at(in).probes[p]);
      ctx.out.resize(n.output_size());
      LLMC_RETURN_IF_ERROR(plan_[i].conv->eval(ctx));
      for (int k = 0; k < n.output_size(); ++k) {
        if (n.output(k).empty())
          continue;
        ValueState &vs = values_[n.output(k)];
        vs.producer = i;
        vs.probes[p] = std::move(ctx.out[k]);
      }
    }
  }
  return Status::Ok();
}

// The exporter's value_info (and output types) must agree with what the probes computed: the
// element type, and every dimension it states as a number. A disagreement means the graph is not
// what llmc understood (or the file is inconsistent), so the build stops there.
Status OnnxImporterImpl::checkValueInfo() const {
  const onnx::GraphProto &g = model_.graph();
  auto check = [&](const onnx::ValueInfoProto &vi) -> Status {
    auto it = values_.find(vi.name());
    if (it == values_.end() || !vi.type().has_tensor_type())
      return Status::Ok();
    const onnx::TypeProto_Tensor &tt = vi.type().tensor_type();
    const ProbeValue &p0 = it->second.probes[0];
    auto bad = [&](const std::string &what) {
      return InvalidArgument(model_.path() + ": value_info of '" + vi.name() + "' says " + what);
    };
    if (tt.elem_type() != 0 && tt.elem_type() != p0.dtype)
      return bad(std::string(onnxTypeName(tt.elem_type())) + " but the graph computes " +
                 onnxTypeName(p0.dtype));
    if (!tt.has_shape())
      return Status::Ok();
    for (int p = 0; p < kNumProbes; ++p) {
      const std::vector<int64_t> &shape = it->second.probes[p].shape;
      if (static_cast<int>(shape.size()) != tt.shape().dim_size())
        return bad("rank " + std::to_string(tt.shape().dim_size()) + " but the graph computes " +
                   eval::shapeString(shape));
      for (int k = 0; k < tt.shape().dim_size(); ++k)
        if (tt.shape().dim(k).has_dim_value() && tt.shape().dim(k).dim_value() != shape[k])
          return bad("dimension " + std::to_string(k) + " is " +
                     std::to_string(tt.shape().dim(k).dim_value()) + " but the graph computes " +
                     std::to_string(shape[k]) + " (at T=" + std::to_string(kProbeLengths[p]) + ")");
    }
    return Status::Ok();
  };
  for (const onnx::ValueInfoProto &vi : g.value_info())
    LLMC_RETURN_IF_ERROR(check(vi));
  for (const onnx::ValueInfoProto &vi : g.output())
    LLMC_RETURN_IF_ERROR(check(vi));
  return Status::Ok();
}

const ProbeValue &OnnxImporterImpl::probe(const std::string &name, int p) const {
  return values_.at(name).probes[p];
}

StatusOr<mlir::Type> OnnxImporterImpl::elemType(int32_t dtype, const std::string &where) const {
  mlir::MLIRContext *c = &ctx_;
  switch (dtype) {
  case kOnnxFloat: return mlir::Float32Type::get(c);
  case kOnnxFloat16: return mlir::Float16Type::get(c);
  case kOnnxBFloat16: return mlir::BFloat16Type::get(c);
  case kOnnxDouble: return mlir::Float64Type::get(c);
  case kOnnxInt64: return mlir::IntegerType::get(c, 64);
  case kOnnxInt32: return mlir::IntegerType::get(c, 32);
  case kOnnxInt16: return mlir::IntegerType::get(c, 16);
  case kOnnxInt8: return mlir::IntegerType::get(c, 8);
  // Unsigned types keep their signedness: the graph runtime computes and stores with it.
  case kOnnxUint8: return mlir::IntegerType::get(c, 8, mlir::IntegerType::Unsigned);
  case kOnnxUint16: return mlir::IntegerType::get(c, 16, mlir::IntegerType::Unsigned);
  case kOnnxUint32: return mlir::IntegerType::get(c, 32, mlir::IntegerType::Unsigned);
  case kOnnxUint64: return mlir::IntegerType::get(c, 64, mlir::IntegerType::Unsigned);
  case kOnnxBool: return mlir::IntegerType::get(c, 1);
  default:
    return Unsupported(where + ": element type " + onnxTypeName(dtype) + " is not supported");
  }
}

StatusOr<mlir::RankedTensorType> OnnxImporterImpl::typeOf(const std::string &name,
                                                          const std::string &where) const {
  const ValueState &vs = values_.at(name);
  const ProbeValue &p0 = vs.probes[0];
  std::vector<int64_t> dims;
  for (size_t k = 0; k < p0.shape.size(); ++k) {
    bool same = true, isT = true;
    for (int p = 0; p < kNumProbes; ++p) {
      if (vs.probes[p].shape.size() != p0.shape.size())
        return Unsupported(where + ": the rank of '" + name + "' depends on the sequence length");
      same &= vs.probes[p].shape[k] == p0.shape[k];
      isT &= vs.probes[p].shape[k] == kProbeLengths[p];
    }
    if (same)
      dims.push_back(p0.shape[k]);
    else if (isT)
      dims.push_back(mlir::ShapedType::kDynamic);
    else
      return Unsupported(where + ": dimension " + std::to_string(k) + " of '" + name +
                         "' depends on the sequence length T other than being T (" +
                         std::to_string(p0.shape[k]) + " at T=" + std::to_string(kProbeLengths[0]) +
                         "); only static dimensions and T are supported");
  }
  LLMC_ASSIGN_OR_RETURN(mlir::Type et, elemType(p0.dtype, where));
  return mlir::RankedTensorType::get(dims, et);
}

StatusOr<std::vector<Affine>> OnnxImporterImpl::affineOf(const std::string &name,
                                                         const std::string &where) const {
  const ValueState &vs = values_.at(name);
  for (const ProbeValue &p : vs.probes)
    if (!p.hasData || p.data.shape != vs.probes[0].data.shape)
      return Unsupported(where + ": '" + name + "' must be computable at compile time from the "
                                               "sequence length");
  std::vector<Affine> out;
  const int64_t n = vs.probes[0].data.numel();
  const int64_t t0 = kProbeLengths[0], t1 = kProbeLengths[1];
  for (int64_t j = 0; j < n; ++j) {
    const int64_t v0 = vs.probes[0].data.atInt(j), v1 = vs.probes[1].data.atInt(j);
    Affine a;
    if ((v1 - v0) % (t1 - t0) != 0)
      return Unsupported(where + ": '" + name + "' is not a linear function of T");
    a.a = (v1 - v0) / (t1 - t0);
    a.b = v0 - a.a * t0;
    for (int p = 2; p < kNumProbes; ++p)
      if (vs.probes[p].data.atInt(j) != a.a * kProbeLengths[p] + a.b)
        return Unsupported(where + ": '" + name + "' is not a linear function of T");
    out.push_back(a);
  }
  return out;
}

StatusOr<mlir::Value> OnnxImporterImpl::materialize(const std::string &name, bool forData) {
  auto it = values_.find(name);
  if (it == values_.end())
    return Internal("ONNX importer: unknown value '" + name + "'");
  const ValueState &vs = it->second;
  if (vs.init) {
    const InitializerData &d = *vs.init;
    const bool weight = isOnnxFloatType(d.dtype) &&
                        (!allData(vs) || (forData && d.numel() > 1));
    if (weight)
      return weightValue(name, d);
    auto c = emittedConst_.find(name);
    if (c != emittedConst_.end())
      return c->second;
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType type, typeOf(name, model_.path()));
    LLMC_ASSIGN_OR_RETURN(mlir::Value v, constant(vs.probes[0].data, type));
    emittedConst_[name] = v;
    return v;
  }
  auto e = emitted_.find(name);
  if (e != emitted_.end())
    return e->second;
  if (!allData(vs))
    return Internal("ONNX importer: value '" + name + "' used before its producer was emitted");
  bool found = false;
  // Canonical forms are attributed to the node that computed the value.
  mlir::Location saved = loc_;
  if (vs.producer >= 0)
    loc_ = mlir::NameLoc::get(b_.getStringAttr(model_.graph().node(vs.producer).name()));
  StatusOr<mlir::Value> canon = canonical(name, vs, found);
  loc_ = saved;
  LLMC_ASSIGN_OR_RETURN(mlir::Value v, std::move(canon));
  if (found) {
    emitted_[name] = v;
    return v;
  }
  if (vs.producer < 0)
    return Unsupported(model_.path() + ": graph input '" + name + "' cannot be used as data");
  LLMC_RETURN_IF_ERROR(emitNode(vs.producer));
  e = emitted_.find(name);
  if (e == emitted_.end())
    return Internal("ONNX importer: emitting the producer of '" + name + "' did not define it");
  return e->second;
}

Status OnnxImporterImpl::emitNode(int idx) {
  const onnx::NodeProto &n = model_.graph().node(idx);
  mlir::Location loc = mlir::NameLoc::get(
      b_.getStringAttr(n.name().empty() ? n.op_type() + "#" + std::to_string(idx) : n.name()));
  EmitCtx ctx(n, plan_[idx].since, nodeWhere(n), b_, loc, *this);
  return plan_[idx].conv->emit(ctx);
}

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> OnnxImporterImpl::run() {
  ctx_.loadDialect<llm::LLMDialect, mlir::func::FuncDialect>();
  LLMC_RETURN_IF_ERROR(checkSupported());
  LLMC_RETURN_IF_ERROR(classifyInputs());
  LLMC_RETURN_IF_ERROR(probeAll());
  LLMC_RETURN_IF_ERROR(checkValueInfo());
  if (tensorMode_)
    return runTensorGraph();
  LLMC_RETURN_IF_ERROR(checkKvCache());
  const onnx::GraphProto &g = model_.graph();

  mlir::OwningOpRef<mlir::ModuleOp> owned = mlir::ModuleOp::create(loc_);
  module_ = *owned;
  b_.setInsertionPointToEnd(module_.getBody());
  auto idsType = mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, b_.getI32Type());
  auto func = b_.create<mlir::func::FuncOp>(loc_, "forward", b_.getFunctionType({idsType}, {}));
  mlir::Block *body = func.addEntryBlock();
  b_.setInsertionPointToStart(body);

  // The ONNX token ids [1, T] (int64 or int32) from the engine's [T] i32 ids.
  ids_ = body->getArgument(0);
  {
    mlir::Value v = ids_;
    if (idsType_ == kOnnxInt64)
      v = b_.create<llm::CastOp>(
          loc_, mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, b_.getI64Type()), v);
    auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
    v = b_.create<llm::ReshapeOp>(
        loc_, mlir::RankedTensorType::get({1, mlir::ShapedType::kDynamic}, t.getElementType()), v);
    emitted_[idsName_] = v;
  }

  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &n = g.node(i);
    if (!isDataNode(n) || droppedNodes_.count(i))
      continue;  // symbol-only: emitted on demand, in canonical form when one fits
    bool done = true;
    for (const std::string &o : n.output())
      done &= o.empty() || emitted_.count(o);
    if (!done)
      LLMC_RETURN_IF_ERROR(emitNode(i));
  }
  LLMC_RETURN_IF_ERROR(checkKvWindow(func));
  LLMC_ASSIGN_OR_RETURN(mlir::Value out, materialize(logitsName_, /*forData=*/true));
  b_.create<mlir::func::ReturnOp>(loc_, out);
  func.setFunctionType(b_.getFunctionType({idsType}, {out.getType()}));

  std::string diag;
  {
    mlir::ScopedDiagnosticHandler handler(&ctx_, [&](mlir::Diagnostic &d) {
      llvm::raw_string_ostream os(diag);
      os << d.getLocation() << ": " << d << "\n";
      return mlir::success();
    });
    if (mlir::failed(mlir::verify(module_)))
      return Internal(model_.path() + ": the imported module does not verify (importer bug): " +
                      diag);
  }
  return std::move(owned);
}

StatusOr<OnnxImport> importOnnxFile(mlir::MLIRContext &ctx, const std::string &path,
                                    const std::string &dtype) {
  LLMC_ASSIGN_OR_RETURN(std::unique_ptr<OnnxModel> model, OnnxModel::open(path));
  engine::DType d;
  if (dtype == "auto") {
    switch (model->predominantDType()) {
    case codegen::SourceDType::kF32: d = engine::DType::kF32; break;
    case codegen::SourceDType::kF16: d = engine::DType::kF16; break;
    case codegen::SourceDType::kBF16: d = engine::DType::kBF16; break;
    }
  } else if (!engine::parseDType(dtype, &d)) {
    return InvalidArgument("--dtype: '" + dtype + "' is not one of auto, f32, f16, bf16");
  }
  OnnxImport result;
  {
    OnnxImporterImpl imp(ctx, *model, d);
    LLMC_ASSIGN_OR_RETURN(result.module, imp.run());
  }
  result.dtype = d;
  result.opset = model->opset("");
  result.numNodes = model->graph().node_size();
  result.numInitializers = model->graph().initializer_size();
  for (const onnx::NodeProto &n : model->graph().node())
    ++result.onnxOps[(n.domain().empty() ? "" : n.domain() + "::") + n.op_type()];
  result.producer = model->proto().producer_name() + " " + model->proto().producer_version();
  result.weights = std::shared_ptr<codegen::WeightProvider>(std::move(model));
  return result;
}

}  // namespace llmc::onnx_import
