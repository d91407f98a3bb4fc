//===- OnnxNNOps.cpp - normalisation and activation operators -------------===//
//
// Owner: onnx. RMSNormalization (23), LayerNormalization (17), Gelu (20). Each is emitted as
// the generic ops of its definition, in the same shape torch's opset-18 export uses for the
// decomposed form (x * reciprocal(sqrt(mean(x^2) + eps)) * w), so one raising pattern covers
// both opsets.
//
//===----------------------------------------------------------------------===//
#include "OnnxConverter.h"
#include "OnnxEmitUtil.h"
#include "OnnxModel.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include <cmath>

namespace llmc::onnx_import {
namespace {

// Output 0 has input 0's shape and type; the values are not evaluated at compile time.
Status sameShapeEval(EvalCtx &c) {
  for (size_t k = 1; k < c.out.size(); ++k)
    if (!c.node.output(k).empty())
      return c.unsupported("optional output " + std::to_string(k) + " is not supported");
  c.setShape(0, c.input(0).dtype, c.input(0).shape);
  return Status::Ok();
}

std::vector<int64_t> trailingAxes(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  std::vector<int64_t> axes;
  for (int64_t k = axis; k < rank; ++k)
    axes.push_back(k);
  return axes;
}

Status rmsNormEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value w, c.in(1));
  auto xt = typeOfValue(x);
  if (!xt.getElementType().isF32())
    return c.unsupported("RMSNormalization of non-float32 input");
  mlir::Type f32 = xt.getElementType();
  std::vector<int64_t> axes = trailingAxes(c.attr.i("axis", -1), xt.getRank());
  mlir::Value sq = emitBinary(c.b, c.loc, "pow", x, emitScalar(c.b, c.loc, 2.0, f32));
  mlir::Value mean = emitReduce(c.b, c.loc, "mean", sq, axes);
  mlir::Value var = emitBinary(c.b, c.loc, "add", mean,
                               emitScalar(c.b, c.loc, c.attr.f("epsilon", 1e-5f), f32));
  mlir::Value r = emitUnary(c.b, c.loc, "reciprocal", emitUnary(c.b, c.loc, "sqrt", var));
  mlir::Value y = emitBinary(c.b, c.loc, "mul", x, r);
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::ElemBinaryOp>(c.loc, t, w, y, c.b.getStringAttr("mul")));
  return Status::Ok();
}

// LayerNormalization's optional outputs Mean and InvStdDev: x's shape with the normalised axes
// kept as 1 (stash_type float32).
Status layerNormEval(EvalCtx &c) {
  const std::vector<int64_t> &shape = c.input(0).shape;
  c.setShape(0, c.input(0).dtype, shape);
  std::vector<int64_t> reduced = shape;
  for (int64_t a : trailingAxes(c.attr.i("axis", -1), static_cast<int64_t>(shape.size())))
    reduced[a] = 1;
  for (size_t k = 1; k < c.out.size() && k < 3; ++k)
    if (!c.node.output(k).empty())
      c.setShape(k, kOnnxFloat, reduced);
  return Status::Ok();
}

Status layerNormEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value w, c.in(1));
  auto xt = typeOfValue(x);
  if (!xt.getElementType().isF32())
    return c.unsupported("LayerNormalization of non-float32 input");
  mlir::Type f32 = xt.getElementType();
  std::vector<int64_t> axes = trailingAxes(c.attr.i("axis", -1), xt.getRank());
  mlir::Value mean = emitReduce(c.b, c.loc, "mean", x, axes);
  mlir::Value d = emitBinary(c.b, c.loc, "sub", x, mean);
  mlir::Value var = emitReduce(c.b, c.loc, "mean", emitBinary(c.b, c.loc, "mul", d, d), axes);
  var = emitBinary(c.b, c.loc, "add", var, emitScalar(c.b, c.loc, c.attr.f("epsilon", 1e-5f), f32));
  mlir::Value inv = emitUnary(c.b, c.loc, "reciprocal", emitUnary(c.b, c.loc, "sqrt", var));
  mlir::Value y = emitBinary(c.b, c.loc, "mul", d, inv);
  if (c.node.output_size() > 1 && !c.node.output(1).empty())
    c.set(1, mean);
  if (c.node.output_size() > 2 && !c.node.output(2).empty())
    c.set(2, inv);
  y = emitBinary(c.b, c.loc, "mul", y, w);
  if (c.present(2)) {
    LLMC_ASSIGN_OR_RETURN(mlir::Value bias, c.in(2));
    y = emitBinary(c.b, c.loc, "add", y, bias);
  }
  c.set(0, y);
  return Status::Ok();
}

Status geluEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  mlir::Type et = typeOfValue(x).getElementType();
  auto k = [&](double v) { return emitScalar(c.b, c.loc, v, et); };
  const std::string approx = c.attr.s("approximate", "none");
  mlir::Value inner;
  if (approx == "tanh") {
    mlir::Value x3 = emitBinary(c.b, c.loc, "mul", emitBinary(c.b, c.loc, "mul", x, x), x);
    mlir::Value s = emitBinary(c.b, c.loc, "add", x, emitBinary(c.b, c.loc, "mul", x3, k(0.044715)));
    inner = emitUnary(c.b, c.loc, "tanh",
                      emitBinary(c.b, c.loc, "mul", s, k(std::sqrt(2.0 / M_PI))));
  } else if (approx == "none") {
    inner = emitUnary(c.b, c.loc, "erf", emitBinary(c.b, c.loc, "mul", x, k(M_SQRT1_2)));
  } else {
    return c.unsupported("Gelu approximate='" + approx + "'");
  }
  mlir::Value y = emitBinary(c.b, c.loc, "mul", emitBinary(c.b, c.loc, "mul", x, k(0.5)),
                             emitBinary(c.b, c.loc, "add", inner, k(1.0)));
  c.set(0, y);
  return Status::Ok();
}

}  // namespace

void registerNNOps(OpRegistry &r) {
  r.add(OpConverter{"", "RMSNormalization", {23}, 23, sameShapeEval, rmsNormEmit});
  r.add(OpConverter{"", "LayerNormalization", {17}, 17, layerNormEval, layerNormEmit});
  r.add(OpConverter{"", "Gelu", {20}, 20, sameShapeEval, geluEmit});
}

}  // namespace llmc::onnx_import
