//===- OnnxTensorGraph.cpp - import of graphs that are not token LMs -------===//
//
// Owner: graph. A graph none of whose inputs looks like token ids (a rank-2 integer tensor with a
// dynamic dimension, or named *input_ids*) is imported as a tensor graph: every graph input
// becomes an argument of @forward with its declared static type, every graph output a result,
// and the names are kept in the attributes llm.graph_inputs / llm.graph_outputs. Nothing is
// raised; the engine holds a graph program (docs/graph-program.md) that `llmc eval` runs. This
// is how the ONNX backend node tests run (tests/conformance).
//
//===----------------------------------------------------------------------===//
#include "OnnxImporterImpl.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

namespace llmc::onnx_import {

bool OnnxImporterImpl::isTensorGraph() const {
  for (const onnx::ValueInfoProto &v : model_.graph().input()) {
    if (model_.initializer(v.name()))
      continue;
    const onnx::TypeProto_Tensor &tt = v.type().tensor_type();
    const int32_t et = tt.elem_type();
    if (!tt.has_shape() || tt.shape().dim_size() != 2 || (et != kOnnxInt64 && et != kOnnxInt32))
      continue;
    bool dynamic = false;
    for (const onnx::TensorShapeProto_Dimension &d : tt.shape().dim())
      dynamic |= !d.has_dim_value();
    if (dynamic || v.name().find("input_ids") != std::string::npos)
      return false;
  }
  return true;
}

Status OnnxImporterImpl::classifyTensorInputs() {
  tensorMode_ = true;
  for (const onnx::ValueInfoProto &v : model_.graph().input()) {
    if (model_.initializer(v.name()))
      continue;  // IR < 4 lists initializers as inputs too
    auto bad = [&](const std::string &why) {
      return Unsupported(model_.path() + ": graph input '" + v.name() + "' " + why +
                         " (a graph that is not a token LM is built for static shapes)");
    };
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape())
      return bad("is not a tensor of known shape");
    const onnx::TypeProto_Tensor &tt = v.type().tensor_type();
    std::vector<int64_t> shape;
    for (const onnx::TensorShapeProto_Dimension &d : tt.shape().dim()) {
      if (!d.has_dim_value())
        return bad("has a symbolic dimension '" + d.dim_param() + "'");
      shape.push_back(d.dim_value());
    }
    LLMC_RETURN_IF_ERROR(elemType(tt.elem_type(), model_.path() + ": graph input '" + v.name() + "'").status());
    ValueState &vs = values_[v.name()];
    for (ProbeValue &p : vs.probes) {
      p.dtype = tt.elem_type();
      p.shape = shape;
      p.hasData = false;
    }
    tensorInputs_.push_back(v.name());
  }
  return Status::Ok();
}

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> OnnxImporterImpl::runTensorGraph() {
  const onnx::GraphProto &g = model_.graph();
  mlir::OwningOpRef<mlir::ModuleOp> owned = mlir::ModuleOp::create(loc_);
  module_ = *owned;
  b_.setInsertionPointToEnd(module_.getBody());
  std::vector<mlir::Type> argTypes;
  for (const std::string &name : tensorInputs_) {
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, typeOf(name, model_.path()));
    argTypes.push_back(t);
  }
  auto func = b_.create<mlir::func::FuncOp>(loc_, "forward", b_.getFunctionType(argTypes, {}));
  mlir::Block *body = func.addEntryBlock();
  b_.setInsertionPointToStart(body);
  for (size_t k = 0; k < tensorInputs_.size(); ++k)
    emitted_[tensorInputs_[k]] = body->getArgument(k);

  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto &n = g.node(i);
    if (!isDataNode(n))
      continue;  // known at compile time: emitted on demand, in canonical form
    bool done = true;
    for (const std::string &o : n.output())
      done &= o.empty() || emitted_.count(o);
    if (!done)
      LLMC_RETURN_IF_ERROR(emitNode(i));
  }
  std::vector<mlir::Value> results;
  std::vector<mlir::Type> resultTypes;
  std::vector<mlir::Attribute> inNames, outNames;
  for (const onnx::ValueInfoProto &o : g.output()) {
    LLMC_ASSIGN_OR_RETURN(mlir::Value v, materialize(o.name(), /*forData=*/true));
    results.push_back(v);
    resultTypes.push_back(v.getType());
    outNames.push_back(b_.getStringAttr(o.name()));
  }
  for (const std::string &n : tensorInputs_)
    inNames.push_back(b_.getStringAttr(n));
  b_.create<mlir::func::ReturnOp>(loc_, results);
  func.setFunctionType(b_.getFunctionType(argTypes, resultTypes));
  func->setAttr("llm.graph_inputs", b_.getArrayAttr(inNames));
  func->setAttr("llm.graph_outputs", b_.getArrayAttr(outNames));

  std::string diag;
  mlir::ScopedDiagnosticHandler handler(&ctx_, [&](mlir::Diagnostic &d) {
    llvm::raw_string_ostream os(diag);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  if (mlir::failed(mlir::verify(module_)))
    return Internal(model_.path() + ": the imported module does not verify (importer bug): " + diag);
  return std::move(owned);
}

}  // namespace llmc::onnx_import
