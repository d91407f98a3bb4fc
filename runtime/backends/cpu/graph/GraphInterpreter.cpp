// GraphInterpreter.cpp - op dispatch, leaves (constants, weights, positions, masks), shape checks.
#include "GraphInterpreter.h"

#include "GraphKernels.h"
#include "GraphShapes.h"

namespace llmc::cpu::graph {

std::vector<int64_t> resolvedShape(const GraphValue& v, int64_t T) {
  std::vector<int64_t> s = v.shape;
  for (int64_t& d : s)
    if (d < 0) d = T;
  return s;
}

GraphInterpreter::GraphInterpreter(const Engine& engine)
    : engine_(engine), g_(*engine.graph()), weights_(engine.graph()->ops.size()) {
  lastUse_.assign(g_.values.size(), -1);
  for (size_t k = 0; k < g_.ops.size(); ++k)
    for (int i : g_.ops[k].in) lastUse_[i] = static_cast<int>(k);
  for (const GraphIO& o : g_.outputs) lastUse_[o.value] = static_cast<int>(g_.ops.size());
}

StatusOr<const GTensor*> GraphInterpreter::weight(size_t opIndex) {
  if (!weights_[opIndex]) {
    const GraphOp& op = g_.ops[opIndex];
    const WeightView w = engine_.weight(op.weight);
    GType src = GType::kF32;
    if (w.info->dtype == engine::DType::kF16) src = GType::kF16;
    else if (w.info->dtype == engine::DType::kBF16) src = GType::kBF16;
    GTensor t = fromBytes(src, w.info->shape, static_cast<const uint8_t*>(w.data));
    weights_[opIndex] = std::make_unique<GTensor>(castTo(t, g_.values[op.out].type));
  }
  return weights_[opIndex].get();
}

Status GraphInterpreter::runOp(size_t index, std::vector<GTensor>& vals, int64_t T) {
  const GraphOp& op = g_.ops[index];
  const GraphValue& ov = g_.values[op.out];
  const std::vector<int64_t> shape = resolvedShape(ov, T);
  auto in = [&](size_t k) -> const GTensor& { return vals[op.in[k]]; };
  GTensor r;
  switch (op.op) {
    case GOp::kConstant: r = fromBytes(ov.type, shape, op.data.data()); break;
    case GOp::kWeightValue: {
      LLMC_ASSIGN_OR_RETURN(const GTensor* w, weight(index));
      r = *w;
      break;
    }
    case GOp::kPositions:
      r = GTensor::make(GType::kI64, shape);
      for (int64_t t = 0; t < r.numel(); ++t) r.i[t] = t;
      break;
    case GOp::kAffineInts:
      r = GTensor::make(GType::kI64, shape);
      if (r.numel() != static_cast<int64_t>(op.ints.size())) return InvalidArgument("scale/offset do not fit the shape");
      for (size_t j = 0; j < op.ints.size(); ++j) r.i[j] = op.ints[j] * T + op.ints2[j];
      break;
    case GOp::kCausalMask: {
      r = GTensor::make(ov.type, shape);
      const int64_t rows = shape[shape.size() - 2], cols = shape.back();
      for (int64_t j = 0; j < r.numel(); ++j) {
        const int64_t c = j % cols, i = (j / cols) % rows;
        const bool allow = c <= i && (op.window == 0 || i - c < op.window);
        if (r.isFloat()) r.f[j] = allow ? 0.0 : op.number;
        else r.i[j] = allow;
      }
      break;
    }
    case GOp::kUnary: LLMC_RETURN_IF_ERROR(unaryK(op.fn, in(0), ov.type, &r)); break;
    case GOp::kBinary: LLMC_RETURN_IF_ERROR(binaryK(op.fn, in(0), in(1), ov.type, &r)); break;
    case GOp::kWhere: LLMC_RETURN_IF_ERROR(whereK(in(0), in(1), in(2), ov.type, &r)); break;
    case GOp::kCast: r = castTo(in(0), ov.type); break;
    case GOp::kMatMul: LLMC_RETURN_IF_ERROR(matmulK(in(0), in(1), ov.type, &r)); break;
    case GOp::kReduce: LLMC_RETURN_IF_ERROR(reduceK(op.fn, in(0), op.ints, op.flag, ov.type, &r)); break;
    case GOp::kSoftmax: LLMC_RETURN_IF_ERROR(softmaxK(in(0), op.axis, &r)); break;
    case GOp::kCumSum: LLMC_RETURN_IF_ERROR(cumsumK(in(0), op.axis, op.flag, op.flag2, ov.type, &r)); break;
    case GOp::kSdpa:
      LLMC_RETURN_IF_ERROR(sdpaK(in(0), in(1), in(2), op.in.size() > 3 ? &in(3) : nullptr, op.number, op.flag,
                                 ov.type, &r));
      break;
    case GOp::kReshape:
      if (numelOf(shape) != in(0).numel())
        return InvalidArgument("cannot reshape " + shapeStr(in(0).shape) + " to " + shapeStr(shape));
      r = in(0);
      r.shape = shape;
      break;
    case GOp::kTranspose: LLMC_RETURN_IF_ERROR(transposeK(in(0), op.ints, &r)); break;
    case GOp::kExpand: LLMC_RETURN_IF_ERROR(expandK(in(0), shape, &r)); break;
    case GOp::kSlice: LLMC_RETURN_IF_ERROR(sliceK(in(0), op.starts, op.ends, op.axes, op.steps, &r)); break;
    case GOp::kConcat: {
      std::vector<const GTensor*> parts;
      for (size_t k = 0; k < op.in.size(); ++k) parts.push_back(&in(k));
      LLMC_RETURN_IF_ERROR(concatK(parts, op.axis, ov.type, &r));
      break;
    }
    case GOp::kGather: LLMC_RETURN_IF_ERROR(gatherK(in(0), in(1), op.axis, &r)); break;
    case GOp::kGatherND: LLMC_RETURN_IF_ERROR(gatherNDK(in(0), in(1), op.axis, &r)); break;
    case GOp::kRange: LLMC_RETURN_IF_ERROR(rangeK(in(0), in(1), in(2), ov.type, &r)); break;
    case GOp::kTrilu: LLMC_RETURN_IF_ERROR(triluK(in(0), op.axis, op.flag, &r)); break;
  }
  if (r.shape != shape)
    return InvalidArgument("computed shape " + shapeStr(r.shape) + ", the program declares " + shapeStr(shape));
  if (r.type != ov.type) r = castTo(r, ov.type);
  vals[op.out] = std::move(r);
  return Status::Ok();
}

Status GraphInterpreter::run(std::vector<GTensor> inputs, int64_t T, std::vector<GTensor>* outputs) {
  if (inputs.size() != g_.inputs.size())
    return InvalidArgument("graph: " + std::to_string(g_.inputs.size()) + " inputs expected, got " +
                           std::to_string(inputs.size()));
  std::vector<GTensor> vals(g_.values.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    const GraphIO& io = g_.inputs[k];
    LLMC_RETURN_IF_ERROR(checkGraphInput(io, g_.values[io.value], T, inputs[k].shape, inputs[k].type));
    vals[io.value] = std::move(inputs[k]);
  }
  for (size_t k = 0; k < g_.ops.size(); ++k) {
    Status s = runOp(k, vals, T);
    if (!s.ok())
      return InvalidArgument("graph.ops[" + std::to_string(k) + "] (" + gopName(g_.ops[k].op) + "): " + s.message());
    for (int i : g_.ops[k].in)
      if (lastUse_[i] == static_cast<int>(k)) vals[i] = GTensor();  // free what no later op reads
  }
  outputs->clear();
  for (const GraphIO& o : g_.outputs) outputs->push_back(vals[o.value]);
  return Status::Ok();
}

}  // namespace llmc::cpu::graph
