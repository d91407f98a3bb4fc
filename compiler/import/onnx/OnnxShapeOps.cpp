//===- OnnxShapeOps.cpp - shape and data-movement operators ---------------===//
//
// Owner: onnx. Shape, Size, Constant, ConstantOfShape, Range, Reshape, Flatten, Squeeze,
// Unsqueeze, Transpose, Concat, Split, Slice, Gather, GatherND, Expand, Trilu. Their shape
// operands are read from the probes, so a Reshape whose target comes from a Shape/Gather/Concat
// chain gets a static result type (with `?` = T) and no runtime shape computation.
//
//===----------------------------------------------------------------------===//
#include "OnnxConverter.h"
#include "OnnxEmitUtil.h"
#include "OnnxModel.h"

#include "llmc/Dialect/LLM/IR/LLMOps.h"

#include <limits>

namespace llmc::onnx_import {
namespace {

using eval::Tensor;

Status emitReshapeToOut(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, t == x.getType() ? x : c.b.create<llm::ReshapeOp>(c.loc, t, x).getResult());
  return Status::Ok();
}

// Output = input viewed with `shape` (data carried over when known).
Status reshapeResult(EvalCtx &c, const std::vector<int64_t> &shape) {
  const ProbeValue &x = c.input(0);
  if (eval::numelOf(shape) != eval::numelOf(x.shape))
    return c.fail("cannot reshape " + eval::shapeString(x.shape) + " to " + eval::shapeString(shape));
  if (x.hasData) {
    Tensor t = x.data;
    t.shape = shape;
    c.setData(0, x.dtype, std::move(t));
  } else {
    c.setShape(0, x.dtype, shape);
  }
  return Status::Ok();
}

// --- Shape, Size, Constant, ConstantOfShape, Range ----------------------------------------

Status shapeEval(EvalCtx &c) {
  const std::vector<int64_t> &s = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(s.size());
  int64_t start = c.since >= 15 ? c.attr.i("start", 0) : 0;
  int64_t end = c.since >= 15 ? c.attr.i("end", r) : r;
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, start, r);
  std::vector<int64_t> v(s.begin() + start, s.begin() + end);
  const int64_t n = static_cast<int64_t>(v.size());
  c.setData(0, kOnnxInt64, Tensor::ints({n}, std::move(v)));
  return Status::Ok();
}

Status sizeEval(EvalCtx &c) {
  c.setData(0, kOnnxInt64, Tensor::scalarInt(eval::numelOf(c.input(0).shape)));
  return Status::Ok();
}

// Values that are always known are never emitted by their producer (the importer materialises
// them in canonical form), except when that fails to apply.
Status knownOnlyEmit(EmitCtx &c) {
  return c.unsupported("a value computed at compile time has no canonical form here");
}

Status constantEval(EvalCtx &c) {
  const onnx::AttributeProto *a = nullptr;
  for (const onnx::AttributeProto &x : c.node.attribute())
    a = &x;
  if (!a || c.node.attribute_size() != 1)
    return c.fail("Constant needs exactly one value attribute");
  const std::string &n = a->name();
  if (n == "value") {
    LLMC_ASSIGN_OR_RETURN(Tensor t, tensorFromProto(a->t(), c.where));
    c.setData(0, a->t().data_type(), std::move(t));
  } else if (n == "value_float") {
    c.setData(0, kOnnxFloat, Tensor::floats({}, {a->f()}));
  } else if (n == "value_floats") {
    std::vector<double> v(a->floats().begin(), a->floats().end());
    const int64_t len = static_cast<int64_t>(v.size());
    c.setData(0, kOnnxFloat, Tensor::floats({len}, std::move(v)));
  } else if (n == "value_int") {
    c.setData(0, kOnnxInt64, Tensor::scalarInt(a->i()));
  } else if (n == "value_ints") {
    std::vector<int64_t> v(a->ints().begin(), a->ints().end());
    const int64_t len = static_cast<int64_t>(v.size());
    c.setData(0, kOnnxInt64, Tensor::ints({len}, std::move(v)));
  } else {
    return c.unsupported("Constant with attribute '" + n + "'");
  }
  return Status::Ok();
}

Status constantOfShapeEval(EvalCtx &c) {
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> shape, c.ints(0));
  Tensor v = Tensor::floats({}, {0.0});
  int32_t dtype = kOnnxFloat;
  if (const onnx::TensorProto *t = c.attr.t("value")) {
    LLMC_ASSIGN_OR_RETURN(v, tensorFromProto(*t, c.where));
    dtype = t->data_type();
    if (v.numel() != 1)
      return c.fail("ConstantOfShape value must have one element");
  }
  v.shape = std::vector<int64_t>(shape.size(), 1);
  if (eval::numelOf(shape) > kMaxEvalElements) {
    c.setShape(0, dtype, shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::expand(v, shape, r, err), err));
  c.setData(0, dtype, std::move(r));
  return Status::Ok();
}

Status rangeEval(EvalCtx &c) {
  if (!c.allData())
    return c.unsupported("Range bounds must be computable at compile time");
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(
      c.check(eval::range(c.input(0).data, c.input(1).data, c.input(2).data, r, err), err));
  c.setData(0, c.input(0).dtype, std::move(r));
  return Status::Ok();
}

// --- Reshape, Flatten, Squeeze, Unsqueeze ---------------------------------------------------

Status reshapeEval(EvalCtx &c) {
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> target, c.ints(1));
  const std::vector<int64_t> &in = c.input(0).shape;
  const bool allowZero = c.since >= 14 && c.attr.i("allowzero", 0) != 0;
  int64_t inferAt = -1, known = 1;
  for (size_t k = 0; k < target.size(); ++k) {
    if (target[k] == 0 && !allowZero) {
      if (k >= in.size())
        return c.fail("Reshape copies dimension " + std::to_string(k) + " the input lacks");
      target[k] = in[k];
    }
    if (target[k] == -1) {
      if (inferAt >= 0)
        return c.fail("Reshape with two -1 dimensions");
      inferAt = static_cast<int64_t>(k);
    } else if (target[k] < 0) {
      return c.fail("Reshape to a negative dimension");
    } else {
      known *= target[k];
    }
  }
  if (inferAt >= 0)
    target[inferAt] = known ? eval::numelOf(in) / known : 0;
  return reshapeResult(c, target);
}

Status flattenEval(EvalCtx &c) {
  const std::vector<int64_t> &in = c.input(0).shape;
  int64_t axis = c.attr.i("axis", 1);
  if (axis < 0)
    axis += static_cast<int64_t>(in.size());
  if (axis < 0 || axis > static_cast<int64_t>(in.size()))
    return c.fail("Flatten axis out of range");
  int64_t a = 1, b = 1;
  for (int64_t k = 0; k < static_cast<int64_t>(in.size()); ++k)
    (k < axis ? a : b) *= in[k];
  return reshapeResult(c, {a, b});
}

StatusOr<std::vector<int64_t>> axesOf(EvalCtx &c, int64_t inputSince) {
  if (c.since < inputSince)
    return c.attr.ints("axes");
  if (!c.present(1))
    return std::vector<int64_t>();
  return c.ints(1);
}

Status squeezeEval(EvalCtx &c) {
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> axes, axesOf(c, 13));
  const std::vector<int64_t> &in = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size());
  std::vector<bool> drop(r, false);
  if (axes.empty()) {
    for (int64_t k = 0; k < r; ++k)
      drop[k] = in[k] == 1;
  }
  for (int64_t a : axes) {
    if (!eval::normAxis(a, r) || in[a] != 1)
      return c.fail("Squeeze of a dimension that is not 1");
    drop[a] = true;
  }
  std::vector<int64_t> shape;
  for (int64_t k = 0; k < r; ++k)
    if (!drop[k])
      shape.push_back(in[k]);
  return reshapeResult(c, shape);
}

Status unsqueezeEval(EvalCtx &c) {
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> axes, axesOf(c, 13));
  const std::vector<int64_t> &in = c.input(0).shape;
  const int64_t r = static_cast<int64_t>(in.size() + axes.size());
  std::vector<bool> ins(r, false);
  for (int64_t a : axes) {
    if (!eval::normAxis(a, r) || ins[a])
      return c.fail("Unsqueeze axis out of range or repeated");
    ins[a] = true;
  }
  std::vector<int64_t> shape;
  size_t j = 0;
  for (int64_t k = 0; k < r; ++k)
    shape.push_back(ins[k] ? 1 : in[j++]);
  return reshapeResult(c, shape);
}

// --- Transpose, Concat, Split -----------------------------------------------------------

std::vector<int64_t> permOf(const NodeCtx &c, size_t rank) {
  std::vector<int64_t> perm = c.attr.ints("perm");
  if (perm.empty())
    for (int64_t k = static_cast<int64_t>(rank) - 1; k >= 0; --k)
      perm.push_back(k);
  return perm;
}

Status transposeEval(EvalCtx &c) {
  const ProbeValue &x = c.input(0);
  std::vector<int64_t> perm = permOf(c, x.shape.size());
  if (perm.size() != x.shape.size())
    return c.fail("Transpose perm does not match the rank");
  std::vector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(x.shape.size()))
      return c.fail("Transpose perm out of range");
    shape.push_back(x.shape[p]);
  }
  if (!c.wantData(shape)) {
    c.setShape(0, x.dtype, shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::transpose(x.data, perm, r, err), err));
  c.setData(0, x.dtype, std::move(r));
  return Status::Ok();
}

Status transposeEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  std::vector<int64_t> perm = permOf(c, typeOfValue(x).getRank());
  c.set(0, c.b.create<llm::TransposeOp>(c.loc, t, x, c.b.getDenseI64ArrayAttr(perm)));
  return Status::Ok();
}

Status concatEval(EvalCtx &c) {
  std::vector<const ProbeValue *> parts;
  for (const ProbeValue *p : c.in)
    if (p)
      parts.push_back(p);
  if (parts.empty())
    return c.fail("Concat of nothing");
  int64_t axis = c.attr.i("axis", 0);
  const int64_t r = static_cast<int64_t>(parts[0]->shape.size());
  if (!eval::normAxis(axis, r))
    return c.fail("Concat axis out of range");
  std::vector<int64_t> shape = parts[0]->shape;
  shape[axis] = 0;
  for (const ProbeValue *p : parts) {
    if (static_cast<int64_t>(p->shape.size()) != r)
      return c.fail("Concat of different ranks");
    shape[axis] += p->shape[axis];
  }
  if (!c.wantData(shape)) {
    c.setShape(0, parts[0]->dtype, shape);
    return Status::Ok();
  }
  std::vector<const Tensor *> ts;
  for (const ProbeValue *p : parts)
    ts.push_back(&p->data);
  std::string err;
  Tensor out;
  LLMC_RETURN_IF_ERROR(c.check(eval::concat(ts, axis, out, err), err));
  c.setData(0, parts[0]->dtype, std::move(out));
  return Status::Ok();
}

Status concatEmit(EmitCtx &c) {
  int64_t axis = c.attr.i("axis", 0);
  eval::normAxis(axis, static_cast<int64_t>(c.probeOut(0, 0).shape.size()));
  // Parts empty along the axis at every probe add nothing (a KV-cache input bound to an empty
  // past, OnnxKvCache.cpp); they are not materialised.
  auto empty = [&](size_t k) {
    for (int p = 0; p < kNumProbes; ++p)
      if (c.probeIn(k, p).shape[axis] != 0)
        return false;
    return true;
  };
  std::vector<mlir::Value> xs;
  for (size_t k = 0; k < c.numInputs(); ++k) {
    if (!c.present(k) || empty(k))
      continue;
    LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(k));
    xs.push_back(x);
  }
  if (xs.empty())
    return c.fail("Concat of empty tensors used as data");
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  if (xs.size() == 1 && typeOfValue(xs[0]) == t) {
    c.set(0, xs[0]);
    return Status::Ok();
  }
  c.set(0, c.b.create<llm::ConcatOp>(c.loc, t, mlir::ValueRange(xs), c.b.getI64IntegerAttr(axis)));
  return Status::Ok();
}

// Split sizes: input (>= 13), attribute (< 13), or equal parts (num_outputs / output count).
StatusOr<std::vector<int64_t>> splitSizes(const NodeCtx &c, int64_t dim,
                                          const std::function<StatusOr<std::vector<int64_t>>()> &input) {
  std::vector<int64_t> sizes;
  if (c.since >= 13 && c.present(1)) {
    LLMC_ASSIGN_OR_RETURN(sizes, input());
  } else if (c.since < 13) {
    sizes = c.attr.ints("split");
  }
  if (sizes.empty()) {
    const int64_t n = c.node.output_size();
    const int64_t chunk = (dim + n - 1) / n;  // the last part may be smaller (opset 18)
    for (int64_t k = 0; k < n; ++k)
      sizes.push_back(std::min(chunk, dim - k * chunk));
  }
  int64_t sum = 0;
  for (int64_t s : sizes)
    sum += s;
  if (sum != dim || static_cast<int64_t>(sizes.size()) != c.node.output_size())
    return c.fail("Split sizes do not add up to the dimension");
  return sizes;
}

Status splitEval(EvalCtx &c) {
  const ProbeValue &x = c.input(0);
  int64_t axis = c.attr.i("axis", 0);
  if (!eval::normAxis(axis, static_cast<int64_t>(x.shape.size())))
    return c.fail("Split axis out of range");
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> sizes,
                        splitSizes(c, x.shape[axis], [&] { return c.ints(1); }));
  int64_t start = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<int64_t> shape = x.shape;
    shape[axis] = sizes[k];
    if (c.wantData(shape)) {
      std::string err;
      Tensor r;
      LLMC_RETURN_IF_ERROR(c.check(
          eval::slice(x.data, {start}, {start + sizes[k]}, {axis}, {1}, r, err), err));
      c.setData(k, x.dtype, std::move(r));
    } else {
      c.setShape(k, x.dtype, shape);
    }
    start += sizes[k];
  }
  return Status::Ok();
}

Status splitEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  auto xt = typeOfValue(x);
  int64_t axis = c.attr.i("axis", 0);
  eval::normAxis(axis, xt.getRank());
  if (xt.isDynamicDim(axis))
    return c.unsupported("Split along the sequence axis");
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> sizes,
                        splitSizes(c, xt.getDimSize(axis), [&]() -> StatusOr<std::vector<int64_t>> {
                          LLMC_ASSIGN_OR_RETURN(Tensor t, c.constIn(1));
                          return t.toInts();
                        }));
  int64_t start = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    c.set(k, emitSlice(c.b, c.loc, x, axis, start, start + sizes[k]));
    start += sizes[k];
  }
  return Status::Ok();
}

// --- Slice ----------------------------------------------------------------------------------

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

StatusOr<SliceArgs> sliceArgs(EvalCtx &c) {
  SliceArgs a;
  LLMC_ASSIGN_OR_RETURN(a.starts, c.ints(1));
  LLMC_ASSIGN_OR_RETURN(a.ends, c.ints(2));
  if (c.present(3)) {
    LLMC_ASSIGN_OR_RETURN(a.axes, c.ints(3));
  }
  if (c.present(4)) {
    LLMC_ASSIGN_OR_RETURN(a.steps, c.ints(4));
  }
  return a;
}

Status sliceEval(EvalCtx &c) {
  LLMC_ASSIGN_OR_RETURN(SliceArgs a, sliceArgs(c));
  const ProbeValue &x = c.input(0);
  std::vector<int64_t> shape;
  std::string err;
  LLMC_RETURN_IF_ERROR(c.check(eval::sliceShape(x.shape, a.starts, a.ends, a.axes, a.steps, shape, err), err));
  if (!c.wantData(shape) || !x.hasData) {
    c.setShape(0, x.dtype, shape);
    return Status::Ok();
  }
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::slice(x.data, a.starts, a.ends, a.axes, a.steps, r, err), err));
  c.setData(0, x.dtype, std::move(r));
  return Status::Ok();
}

// Emits the slice with bounds normalised per probe and re-encoded so that they hold for any T:
// on a static axis they must not depend on T; on the T axis a bound is `b` (from the start) or
// `T + b` (encoded as negative b; T itself as INT64_MAX, which clamps to the end).
Status sliceEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  auto xt = typeOfValue(x);
  const int64_t rank = xt.getRank();
  std::vector<int64_t> starts, ends, axes, steps;
  // Per-probe normalised (start, end, step) for each listed axis.
  std::vector<std::vector<std::array<int64_t, 3>>> perProbe(kNumProbes);
  for (int p = 0; p < kNumProbes; ++p) {
    auto ints = [&](size_t k) -> std::vector<int64_t> {
      return c.present(k) ? c.probeIn(k, p).data.toInts() : std::vector<int64_t>();
    };
    for (size_t k : {1, 2})
      if (!c.probeIn(k, p).hasData)
        return c.unsupported("Slice bounds must be computable at compile time");
    std::vector<int64_t> s = ints(1), e = ints(2), ax = ints(3), st = ints(4);
    if (ax.empty())
      for (size_t k = 0; k < s.size(); ++k)
        ax.push_back(static_cast<int64_t>(k));
    if (st.empty())
      st.assign(s.size(), 1);
    const std::vector<int64_t> &shape = c.probeIn(0, p).shape;
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t a = ax[k];
      eval::normAxis(a, rank);
      const int64_t dim = shape[a];
      int64_t ss = s[k] < 0 ? s[k] + dim : s[k], ee = e[k];
      if (ee < 0 && ee > std::numeric_limits<int64_t>::min() / 2)
        ee += dim;
      if (st[k] <= 0)
        return c.unsupported("Slice with a negative step on data");
      ss = std::clamp<int64_t>(ss, 0, dim);
      ee = std::clamp<int64_t>(ee, 0, dim);
      perProbe[p].push_back({a, ss, ee});
      if (p == 0)
        steps.push_back(st[k]), axes.push_back(a);
    }
  }
  for (size_t k = 0; k < axes.size(); ++k) {
    const bool dynamicAxis = xt.isDynamicDim(axes[k]);
    int64_t enc[2];
    for (int which = 0; which < 2; ++which) {
      const int64_t v0 = perProbe[0][k][1 + which];
      bool constant = true, fromEnd = true;
      const int64_t off = v0 - kProbeLengths[0];
      for (int p = 0; p < kNumProbes; ++p) {
        const int64_t v = perProbe[p][k][1 + which];
        constant &= v == v0;
        fromEnd &= v - kProbeLengths[p] == off;
      }
      if (constant && (!dynamicAxis || v0 < kProbeLengths[0]))
        enc[which] = v0;
      else if (dynamicAxis && fromEnd && off <= 0)
        enc[which] = off == 0 ? std::numeric_limits<int64_t>::max() : off;
      else
        return c.unsupported("Slice bound that depends on the sequence length other than as "
                             "an offset from its start or end");
    }
    starts.push_back(enc[0]);
    ends.push_back(enc[1]);
  }
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::SliceOp>(c.loc, t, x, c.b.getDenseI64ArrayAttr(starts),
                                    c.b.getDenseI64ArrayAttr(ends), c.b.getDenseI64ArrayAttr(axes),
                                    c.b.getDenseI64ArrayAttr(steps)));
  return Status::Ok();
}

// --- Gather, GatherND, Expand, Trilu --------------------------------------------------------

Status gatherEval(EvalCtx &c) {
  const ProbeValue &d = c.input(0), &ix = c.input(1);
  int64_t axis = c.attr.i("axis", 0);
  if (!eval::normAxis(axis, static_cast<int64_t>(d.shape.size())))
    return c.fail("Gather axis out of range");
  std::vector<int64_t> shape(d.shape.begin(), d.shape.begin() + axis);
  shape.insert(shape.end(), ix.shape.begin(), ix.shape.end());
  shape.insert(shape.end(), d.shape.begin() + axis + 1, d.shape.end());
  if (!c.wantData(shape)) {
    c.setShape(0, d.dtype, shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::gather(d.data, ix.data, axis, r, err), err));
  c.setData(0, d.dtype, std::move(r));
  return Status::Ok();
}

Status gatherEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value d, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value ix, c.in(1));
  int64_t axis = c.attr.i("axis", 0);
  eval::normAxis(axis, typeOfValue(d).getRank());
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::GatherOp>(c.loc, t, d, ix, c.b.getI64IntegerAttr(axis)));
  return Status::Ok();
}

Status gatherNDEval(EvalCtx &c) {
  const ProbeValue &d = c.input(0), &ix = c.input(1);
  const int64_t b = c.attr.i("batch_dims", 0);
  if (ix.shape.empty() || b + ix.shape.back() > static_cast<int64_t>(d.shape.size()))
    return c.fail("GatherND index depth too large");
  std::vector<int64_t> shape(ix.shape.begin(), ix.shape.end() - 1);
  shape.insert(shape.end(), d.shape.begin() + b + ix.shape.back(), d.shape.end());
  if (!c.wantData(shape)) {
    c.setShape(0, d.dtype, shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::gatherND(d.data, ix.data, b, r, err), err));
  c.setData(0, d.dtype, std::move(r));
  return Status::Ok();
}

Status gatherNDEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value d, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value ix, c.in(1));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::GatherNDOp>(c.loc, t, d, ix,
                                       c.b.getI64IntegerAttr(c.attr.i("batch_dims", 0))));
  return Status::Ok();
}

Status expandEval(EvalCtx &c) {
  LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> target, c.ints(1));
  const ProbeValue &x = c.input(0);
  std::vector<int64_t> shape;
  std::string err;
  LLMC_RETURN_IF_ERROR(c.check(eval::broadcastShapes(x.shape, target, shape, err), err));
  if (!c.wantData(shape)) {
    c.setShape(0, x.dtype, shape);
    return Status::Ok();
  }
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::expand(x.data, target, r, err), err));
  c.setData(0, x.dtype, std::move(r));
  return Status::Ok();
}

Status expandEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, t == x.getType() ? x : c.b.create<llm::ExpandOp>(c.loc, t, x).getResult());
  return Status::Ok();
}

Status triluEval(EvalCtx &c) {
  const ProbeValue &x = c.input(0);
  int64_t k = 0;
  if (c.present(1)) {
    LLMC_ASSIGN_OR_RETURN(std::vector<int64_t> kv, c.ints(1));
    k = kv.empty() ? 0 : kv[0];
  }
  if (!c.wantData(x.shape)) {
    c.setShape(0, x.dtype, x.shape);
    return Status::Ok();
  }
  std::string err;
  Tensor r;
  LLMC_RETURN_IF_ERROR(c.check(eval::trilu(x.data, k, c.attr.i("upper", 1) != 0, r, err), err));
  c.setData(0, x.dtype, std::move(r));
  return Status::Ok();
}

Status triluEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value x, c.in(0));
  int64_t k = 0;
  if (c.present(1)) {
    LLMC_ASSIGN_OR_RETURN(Tensor kt, c.constIn(1));
    k = kt.atInt(0);
  }
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::TriluOp>(c.loc, t, x, c.b.getBoolAttr(c.attr.i("upper", 1) != 0),
                                    c.b.getI64IntegerAttr(k)));
  return Status::Ok();
}

Status rangeEmit(EmitCtx &c) {
  LLMC_ASSIGN_OR_RETURN(mlir::Value s, c.in(0));
  LLMC_ASSIGN_OR_RETURN(mlir::Value l, c.in(1));
  LLMC_ASSIGN_OR_RETURN(mlir::Value d, c.in(2));
  LLMC_ASSIGN_OR_RETURN(mlir::RankedTensorType t, c.outType(0));
  c.set(0, c.b.create<llm::RangeOp>(c.loc, t, s, l, d));
  return Status::Ok();
}

void add(OpRegistry &r, const char *op, std::vector<int64_t> versions, int64_t minVersion,
         EvalFn e, EmitFn m) {
  r.add(OpConverter{"", op, std::move(versions), minVersion, std::move(e), std::move(m)});
}

}  // namespace

void registerShapeOps(OpRegistry &r) {
  const std::vector<int64_t> v25 = {21, 23, 24, 25};
  auto with = [&](std::vector<int64_t> head) {
    head.insert(head.end(), v25.begin(), v25.end());
    return head;
  };
  add(r, "Shape", with({1, 13, 15, 19}), 1, shapeEval, knownOnlyEmit);
  add(r, "Size", with({1, 13, 19}), 1, sizeEval, knownOnlyEmit);
  add(r, "Constant", with({1, 9, 11, 12, 13, 19}), 9, constantEval, knownOnlyEmit);
  add(r, "ConstantOfShape", with({9, 20}), 9, constantOfShapeEval, knownOnlyEmit);
  add(r, "Range", {11}, 11, rangeEval, rangeEmit);
  add(r, "Reshape", with({1, 5, 13, 14, 19}), 5, reshapeEval, emitReshapeToOut);
  add(r, "Flatten", with({1, 9, 11, 13}), 1, flattenEval, emitReshapeToOut);
  add(r, "Squeeze", with({1, 11, 13}), 1, squeezeEval, emitReshapeToOut);
  add(r, "Unsqueeze", with({1, 11, 13}), 1, unsqueezeEval, emitReshapeToOut);
  add(r, "Transpose", with({1, 13}), 1, transposeEval, transposeEmit);
  add(r, "Concat", {1, 4, 11, 13}, 4, concatEval, concatEmit);
  add(r, "Split", {1, 2, 11, 13, 18}, 2, splitEval, splitEmit);
  add(r, "Slice", {1, 10, 11, 13}, 10, sliceEval, sliceEmit);
  add(r, "Gather", {1, 11, 13}, 1, gatherEval, gatherEmit);
  add(r, "GatherND", {11, 12, 13}, 11, gatherNDEval, gatherNDEmit);
  add(r, "Expand", {8, 13}, 8, expandEval, expandEmit);
  add(r, "Trilu", {14}, 14, triluEval, triluEmit);
}

}  // namespace llmc::onnx_import
