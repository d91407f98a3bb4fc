//===- OnnxMathOps.cpp - elementwise, matmul, reductions, softmax ---------===//
//
// Owner: onnx. ai.onnx math operators. Versions are ONNX's since_versions (onnx.defs) up to
// kMaxKnownOpset; the semantic changes that matter here are noted where they are read
// (ReduceMean/ReduceMax axes became an input at 18, ReduceSum at 13; Softmax's axis meaning
// changed at 13, older versions are not supported).
//
//===----------------------------------------------------------------------===//
#include "OnnxConverter.h"
#include "OnnxEmitUtil.h"
#include "OnnxModel.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

namespace llmc::onnx_import {
namespace {

using eval::Tensor;

bool isCompare(const std::string &fn) {
  return fn == "eq" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge";
}

// --- elementwise binary (variadic for Max/Min) --------------------------------------------

EvalFn binaryEval(std::string fn) {
  return [fn](EvalCtx &c) -> Status {
    if (c.in.size() < 2 && !(c.in.size() == 1 && (fn == "max" || fn == "min")))
      return c.fail("needs two inputs");
    std::vector<int64_t> shape = c.input(0).shape;
    for (size_t k = 1; k < c.in.size(); ++k) {
      std::string err;
      std::vector<int64_t> s;
      LLMC_RETURN_IF_ERROR(c.check(eval::broadcastShapes(shape, c.input(k).shape, s, err), err));
      shape = s;
    }
    const bool boolOut = isCompare(fn) || fn == "and" || fn == "or" || fn == "xor";
    const int32_t dtype = boolOut ? kOnnxBool : c.input(0).dtype;
    if (!c.wantData(shape)) {
      c.setShape(0, dtype, shape);
      return Status::Ok();
    }
    Tensor acc = c.input(0).data;
    for (size_t k = 1; k < c.in.size(); ++k) {
      std::string err;
      Tensor r;
      LLMC_RETURN_IF_ERROR(c.check(eval::binary(fn, acc, c.input(k).data, r, err), err));
      acc = std::move(r);
    }
    c.setData(0, dtype, std::move(acc));
    return Status::Ok();
  };
}

EmitFn binaryEmit(std::string fn) {
  return [fn](EmitCtx &c) -> Status {
    LLMC_ASSIGN_OR_RETURN(mlir::Value acc, c.in(0));
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType outType, c.outType(0));
    for (size_t k = 1; k < c.numInputs(); ++k) {
      LLMC_ASSIGN_OR_RETURN(mlir::Value rhs, c.in(k));
      if (k + 1 == c.numInputs())
        acc = c.b.create<llm::ElemBinaryOp>(c.loc, outType, acc, rhs, c.b.getStringAttr(fn));
      else
        acc = emitBinary(c.b, c.loc, fn, acc, rhs);
    }
    c.set(0, acc);
    return Status::Ok();
  };
}

// Mod: fmod = 0 (integers; the result takes the divisor's sign, like Python) or fmod = 1
// (C fmod, the dividend's sign; required for floats).
Status modEval(EvalCtx &c) {
  const bool fmod = c.attr.i("fmod", 0) != 0;
  if (isOnnxFloatType(c.input(0).dtype) && !fmod)
    return c.fail("Mod of floats needs fmod = 1");
  if (!isOnnxFloatType(c.input(0).dtype) && fmod)
    return c.unsupported("integer Mod with fmod = 1");
  return binaryEval("mod")(c);
}

// --- elementwise unary ----------------------------------------------------------------------

EvalFn unaryEval(std::string fn) {
  return [fn](EvalCtx &c) -> Status {
    const ProbeValue &x = c.input(0);
    const int32_t dtype = (fn == "isnan" || fn == "isinf" || fn == "not") ? kOnnxBool : x.dtype;
    if (!c.wantData(x.shape)) {
      c.setShape(0, dtype, x.shape);
      return Status::Ok();
    }
    std::string err;
    Tensor r;
    LLMC_RETURN_IF_ERROR(c.check(eval::unary(fn, x.data, r, err), err));
    c.setData(0, dtype, std::move(r));
    return Status::Ok();
  };
}

EmitFn unaryEmit(std::string fn) {
  return [fn](EmitCtx &c) -> Status {
    LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
    if (fn == "identity") {
      c.set(0, x);
      return Status::Ok();
    }
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
    c.set(0, c.b.create<llm::ElemUnaryOp>(c.loc, t, x, c.b.getStringAttr(fn)));
    return Status::Ok();
  };
}

// IsInf: detect_positive / detect_negative = 0 drop the infinities of that sign.
Status isInfEval(EvalCtx &c) {
  LLMC_RETURN_IF_ERROR(unaryEval("isinf")(c));
  const bool pos = c.attr.i("detect_positive", 1) != 0, neg = c.attr.i("detect_negative", 1) != 0;
  if (c.out[0].hasData)
    for (int64_t j = 0; j < c.out[0].data.numel(); ++j)
      if (c.input(0).data.at(j) > 0 ? !pos : !neg)
        c.out[0].data.i[j] = 0;
  return Status::Ok();
}

Status isInfEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  mlir::Value y = emitUnary(c.b, c.loc, "isinf", x);
  mlir::Value zero = emitScalar(c.b, c.loc, 0.0, typeOfValue(x).getElementType());
  if (c.attr.i("detect_positive", 1) == 0)
    y = emitBinary(c.b, c.loc, "and", y, emitBinary(c.b, c.loc, "lt", x, zero));
  if (c.attr.i("detect_negative", 1) == 0)
    y = emitBinary(c.b, c.loc, "and", y, emitBinary(c.b, c.loc, "gt", x, zero));
  c.set(0, y);
  return Status::Ok();
}

// --- Where, Cast, CastLike ------------------------------------------------------------------

Status whereEval(EvalCtx &c) {
  std::vector<int64_t> s1, shape;
  std::string err;
  LLMC_RETURN_IF_ERROR(c.check(eval::broadcastShapes(c.input(0).shape, c.input(1).shape, s1, err), err));
  LLMC_RETURN_IF_ERROR(c.check(eval::broadcastShapes(s1, c.input(2).shape, shape, err), err));
  if (!c.wantData(shape)) {
    c.setShape(0, c.input(1).dtype, shape);
    return Status::Ok();
  }
  Tensor r;
  LLMC_RETURN_IF_ERROR(
      c.check(eval::where(c.input(0).data, c.input(1).data, c.input(2).data, r, err), err));
  c.setData(0, c.input(1).dtype, std::move(r));
  return Status::Ok();
}

Status whereEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value cond, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value a, c.in(1));
  LLMC_ASSIGN_OR_RETURN(mlir::Value b, c.in(2));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::WhereOp>(c.loc, t, cond, a, b));
  return Status::Ok();
}

Status castEvalTo(EvalCtx &c, int32_t to) {
  if (onnxTypeBytes(to) == 0)
    return c.unsupported(std::string("cast to ") + onnxTypeName(to));
  const ProbeValue &x = c.input(0);
  if (!c.wantData(x.shape)) {
    c.setShape(0, to, x.shape);
    return Status::Ok();
  }
  c.setData(0, to, eval::cast(x.data, kindOf(to)));
  return Status::Ok();
}

Status castEval(EvalCtx &c) {
  return castEvalTo(c, static_cast<int32_t>(c.attr.i("to", kOnnxFloat)));
}
Status castLikeEval(EvalCtx &c) { return castEvalTo(c, c.input(1).dtype); }

Status castEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, t == x.getType() ? x : c.b.create<llm::CastOp>(c.loc, t, x).getResult());
  return Status::Ok();
}

// --- MatMul, Gemm ---------------------------------------------------------------------------

Status matmulEval(EvalCtx &c) {
  std::vector<int64_t> shape;
  std::string err;
  LLMC_RETURN_IF_ERROR(c.check(eval::matmulShape(c.input(0).shape, c.input(1).shape, shape, err), err));
  if (!c.wantData(shape)) {
    c.setShape(0, c.input(0).dtype, shape);
    return Status::Ok();
  }
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::matmul(c.input(0).data, c.input(1).data, r, err), err));
  c.setData(0, c.input(0).dtype, std::move(r));
  return Status::Ok();
}

Status matmulEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value a, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value b, c.in(1));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::MatMulOp>(c.loc, t, a, b));
  return Status::Ok();
}

// Gemm: Y = alpha * op(A) * op(B) + beta * C, A and B 2-D.
Status gemmEval(EvalCtx &c) {
  std::vector<int64_t> a = c.input(0).shape, b = c.input(1).shape;
  if (a.size() != 2 || b.size() != 2)
    return c.fail("Gemm needs 2-D A and B");
  if (c.attr.i("transA", 0))
    std::swap(a[0], a[1]);
  if (c.attr.i("transB", 0))
    std::swap(b[0], b[1]);
  if (a[1] != b[0])
    return c.fail("Gemm inner dimensions differ");
  std::vector<int64_t> shape = {a[0], b[1]};
  if (!c.wantData(shape)) {
    c.setShape(0, c.input(0).dtype, shape);
    return Status::Ok();
  }
  std::string err;
  Tensor ta = c.input(0).data, tb = c.input(1).data, r;
  if (c.attr.i("transA", 0))
    LLMC_RETURN_IF_ERROR(c.check(eval::transpose(c.input(0).data, {1, 0}, ta, err), err));
  if (c.attr.i("transB", 0))
    LLMC_RETURN_IF_ERROR(c.check(eval::transpose(c.input(1).data, {1, 0}, tb, err), err));
  LLMC_RETURN_IF_ERROR(c.check(eval::matmul(ta, tb, r, err), err));
  Tensor alpha = Tensor::floats({}, {c.attr.f("alpha", 1.0f)});
  LLMC_RETURN_IF_ERROR(c.check(eval::binary("mul", r, alpha, r, err), err));
  if (c.present(2)) {
    Tensor bc, beta = Tensor::floats({}, {c.attr.f("beta", 1.0f)});
    LLMC_RETURN_IF_ERROR(c.check(eval::binary("mul", c.input(2).data, beta, bc, err), err));
    LLMC_RETURN_IF_ERROR(c.check(eval::binary("add", r, bc, r, err), err));
  }
  c.setData(0, c.input(0).dtype, std::move(r));
  return Status::Ok();
}

Status gemmEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value a, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value b, c.in(1));
  if (c.attr.i("transA", 0))
    a = emitTranspose(c.b, c.loc, a, {1, 0});
  if (c.attr.i("transB", 0))
    b = emitTranspose(c.b, c.loc, b, {1, 0});
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  mlir::Value y = c.b.create<llm::MatMulOp>(c.loc, t, a, b);
  const float alpha = c.attr.f("alpha", 1.0f), beta = c.attr.f("beta", 1.0f);
  if (alpha != 1.0f)
    y = emitBinary(c.b, c.loc, "mul", y, emitScalar(c.b, c.loc, alpha, t.getElementType()));
  if (c.present(2)) {
    LLMC_ASSIGN_OR_RETURN(mlir::Value bias, c.in(2));
    if (beta != 1.0f)
      bias = emitBinary(c.b, c.loc, "mul", bias, emitScalar(c.b, c.loc, beta, t.getElementType()));
    y = c.b.create<llm::ElemBinaryOp>(c.loc, t, y, bias, c.b.getStringAttr("add"));
  }
  c.set(0, y);
  return Status::Ok();
}

// --- Reductions -----------------------------------------------------------------------------

// Axes from the attribute (before `inputSince`) or input 1; empty = all (unless noop).
StatusOr<std::vector<int64_t>> reduceAxes(const NodeCtx &c, int64_t inputSince,
                                          const std::function<StatusOr<std::vector<int64_t>>()> &fromInput,
                                          int64_t rank, bool &noop) {
  std::vector<int64_t> axes;
  noop = false;
  if (c.since < inputSince) {
    axes = c.attr.ints("axes");
  } else if (c.present(1)) {
    LLMC_ASSIGN_OR_RETURN(axes, fromInput());
  }
  // An empty axes input is a no-op too when noop_with_empty_axes is set.
  if (c.since >= inputSince && axes.empty() && c.attr.i("noop_with_empty_axes", 0))
    noop = true;
  for (int64_t &a : axes)
    if (!eval::normAxis(a, rank))
      return c.fail("reduction axis out of range");
  if (axes.empty() && !noop)
    for (int64_t k = 0; k < rank; ++k)
      axes.push_back(k);
  return axes;
}

EvalFn reduceEval(std::string fn, int64_t inputSince) {
  return [fn, inputSince](EvalCtx &c) -> Status {
    const ProbeValue &x = c.input(0);
    bool noop = false;
    LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> axes,
                          reduceAxes(c, inputSince, [&] { return c.ints(1); },
                                     static_cast<int64_t>(x.shape.size()), noop));
    if (noop) {
      c.out[0] = x;
      return Status::Ok();
    }
    const bool keep = c.attr.i("keepdims", 1) != 0;
    std::vector<int64_t> shape;
    std::string err;
    LLMC_RETURN_IF_ERROR(c.check(eval::reduceShape(x.shape, axes, keep, shape, err), err));
    if (!c.wantData(shape) || !c.wantData(x.shape)) {
      c.setShape(0, x.dtype, shape);
      return Status::Ok();
    }
    Tensor r;
    LLMC_RETURN_IF_ERROR(c.check(eval::reduce(fn, x.data, axes, keep, r, err), err));
    c.setData(0, x.dtype, std::move(r));
    return Status::Ok();
  };
}

EmitFn reduceEmit(std::string fn, int64_t inputSince) {
  return [fn, inputSince](EmitCtx &c) -> Status {
    LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
    const int64_t rank = typeOfValue(x).getRank();
    bool noop = false;
    LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> axes,
                          reduceAxes(c, inputSince, [&]() -> StatusOr<std::vector<int64_t>> {
                            LLMC_ASSIGN_OR_RETURN(Tensor t, c.constIn(1));
                            return t.toInts();
                          }, rank, noop));
    if (noop) {
      c.set(0, x);
      return Status::Ok();
    }
    std::sort(axes.begin(), axes.end());
    LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
    c.set(0, c.b.create<llm::ReduceOp>(c.loc, t, x, c.b.getStringAttr(fn),
                                       c.b.getDenseI64ArrayAttr(axes),
                                       c.b.getBoolAttr(c.attr.i("keepdims", 1) != 0)));
    return Status::Ok();
  };
}

// --- Softmax, CumSum ------------------------------------------------------------------------

Status softmaxEval(EvalCtx &c) {
  const ProbeValue &x = c.input(0);
  int64_t axis = c.attr.i("axis", -1);
  if (!eval::normAxis(axis, static_cast<int64_t>(x.shape.size())))
    return c.fail("softmax axis out of range");
  if (!c.wantData(x.shape)) {
    c.setShape(0, x.dtype, x.shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::softmax(x.data, axis, r, err), err));
  c.setData(0, x.dtype, std::move(r));
  return Status::Ok();
}

Status softmaxEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  int64_t axis = c.attr.i("axis", -1);
  eval::normAxis(axis, typeOfValue(x).getRank());
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::SoftmaxOp>(c.loc, t, x, c.b.getI64IntegerAttr(axis)));
  return Status::Ok();
}

Status cumsumEval(EvalCtx &c) {
  const ProbeValue &x = c.input(0);
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> axisV, c.ints(1));
  if (axisV.size() != 1)
    return c.fail("CumSum axis must be a scalar");
  int64_t axis = axisV[0];
  if (!eval::normAxis(axis, static_cast<int64_t>(x.shape.size())))
    return c.fail("CumSum axis out of range");
  if (!c.wantData(x.shape)) {
    c.setShape(0, x.dtype, x.shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::cumsum(x.data, axis, c.attr.i("exclusive", 0) != 0,
                                            c.attr.i("reverse", 0) != 0, r, err), err));
  c.setData(0, x.dtype, std::move(r));
  return Status::Ok();
}

Status cumsumEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(Tensor axisT, c.constIn(1));
  int64_t axis = axisT.atInt(0);
  eval::normAxis(axis, typeOfValue(x).getRank());
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::CumSumOp>(c.loc, t, x, c.b.getI64IntegerAttr(axis),
                                     c.b.getBoolAttr(c.attr.i("exclusive", 0) != 0),
                                     c.b.getBoolAttr(c.attr.i("reverse", 0) != 0)));
  return Status::Ok();
}

void add(OpRegistry &r, const char *op, std::vector<int64_t> versions, int64_t minVersion,
         EvalFn e, EmitFn m) {
  r.add(OpConverter{"", op, std::move(versions), minVersion, std::move(e), std::move(m)});
}

}  // namespace

void registerMathOps(OpRegistry &r) {
  const std::vector<int64_t> arith = {1, 6, 7, 13, 14};
  for (auto [op, fn] : std::vector<std::pair<const char *, const char *>>{
           {"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"Div", "div"}})
    add(r, op, arith, 7, binaryEval(fn), binaryEmit(fn));
  add(r, "Pow", {1, 7, 12, 13, 15}, 7, binaryEval("pow"), binaryEmit("pow"));
  add(r, "Max", {1, 6, 8, 12, 13}, 8, binaryEval("max"), binaryEmit("max"));
  add(r, "Min", {1, 6, 8, 12, 13}, 8, binaryEval("min"), binaryEmit("min"));
  add(r, "Mod", {10, 13}, 10, modEval, binaryEmit("mod"));
  add(r, "And", {1, 7}, 7, binaryEval("and"), binaryEmit("and"));
  add(r, "Or", {1, 7}, 7, binaryEval("or"), binaryEmit("or"));
  add(r, "Xor", {1, 7}, 7, binaryEval("xor"), binaryEmit("xor"));
  add(r, "Equal", {1, 7, 11, 13, 19}, 7, binaryEval("eq"), binaryEmit("eq"));
  add(r, "Less", {1, 7, 9, 13}, 7, binaryEval("lt"), binaryEmit("lt"));
  add(r, "LessOrEqual", {12, 16}, 12, binaryEval("le"), binaryEmit("le"));
  add(r, "Greater", {1, 7, 9, 13}, 7, binaryEval("gt"), binaryEmit("gt"));
  add(r, "GreaterOrEqual", {12, 16}, 12, binaryEval("ge"), binaryEmit("ge"));

  const std::vector<int64_t> un = {1, 6, 13};
  for (auto [op, fn] : std::vector<std::pair<const char *, const char *>>{
           {"Neg", "neg"}, {"Sqrt", "sqrt"}, {"Reciprocal", "reciprocal"}, {"Exp", "exp"},
           {"Log", "log"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Abs", "abs"},
           {"Floor", "floor"}, {"Ceil", "ceil"}})
    add(r, op, un, 6, unaryEval(fn), unaryEmit(fn));
  add(r, "Relu", {1, 6, 13, 14}, 6, unaryEval("relu"), unaryEmit("relu"));
  add(r, "Erf", {9, 13}, 9, unaryEval("erf"), unaryEmit("erf"));
  add(r, "Cos", {7, 22}, 7, unaryEval("cos"), unaryEmit("cos"));
  add(r, "Sin", {7, 22}, 7, unaryEval("sin"), unaryEmit("sin"));
  add(r, "Not", {1}, 1, unaryEval("not"), unaryEmit("not"));
  add(r, "IsNaN", {9, 13, 20}, 9, unaryEval("isnan"), unaryEmit("isnan"));
  add(r, "IsInf", {10, 20}, 10, isInfEval, isInfEmit);
  add(r, "Identity", {1, 13, 14, 16, 19, 21, 23, 24, 25}, 1, unaryEval("identity"),
      unaryEmit("identity"));

  add(r, "Where", {9, 16}, 9, whereEval, whereEmit);
  add(r, "Cast", {1, 6, 9, 13, 19, 21, 23, 24, 25}, 6, castEval, castEmit);
  add(r, "CastLike", {15, 19, 21, 23, 24, 25}, 15, castLikeEval, castEmit);
  add(r, "MatMul", {1, 9, 13}, 1, matmulEval, matmulEmit);
  add(r, "Gemm", {1, 6, 7, 9, 11, 13}, 11, gemmEval, gemmEmit);
  add(r, "ReduceMean", {1, 11, 13, 18}, 11, reduceEval("mean", 18), reduceEmit("mean", 18));
  add(r, "ReduceMax", {1, 11, 12, 13, 18, 20}, 11, reduceEval("max", 18), reduceEmit("max", 18));
  add(r, "ReduceMin", {1, 11, 12, 13, 18, 20}, 11, reduceEval("min", 18), reduceEmit("min", 18));
  add(r, "ReduceSum", {1, 11, 13}, 11, reduceEval("sum", 13), reduceEmit("sum", 13));
  add(r, "Softmax", {1, 11, 13}, 13, softmaxEval, softmaxEmit);
  add(r, "CumSum", {11, 14}, 11, cumsumEval, cumsumEmit);
}

}  // namespace llmc::onnx_import
