// GraphRunner.cpp - op dispatch, leaves (constants, weights, positions, masks), shape checks and
// device errors of the CUDA graph runner.
#include "GraphRunner.h"

#include "../KernelLibrary.h"
#include "../KernelPlan.h"
#include "../../cpu/graph/GraphInterpreter.h"
#include "../../cpu/graph/GraphShapes.h"

namespace llmc::cuda::graph {

using cpu::graph::GTensor;
using cpu::graph::numelOf;
using cpu::graph::resolvedShape;
using cpu::graph::shapeStr;

StatusOr<std::unique_ptr<GraphRunner>> GraphRunner::create(const Engine& engine, int device) {
  if (!engine.graph()) return Internal("cuda graph runner: the engine has no graph program");
  std::unique_ptr<GraphRunner> r(new GraphRunner(engine));
  LLMC_CUDA_CHECK(cudaSetDevice(device));
  int major = 0, minor = 0;
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  LLMC_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  LLMC_ASSIGN_OR_RETURN(r->stream_, createStream());
  LLMC_ASSIGN_OR_RETURN(r->lib_, KernelLibrary::load(engine.file(), 10 * major + minor));
  for (const std::string& name : graphKernelNames()) {
    StatusOr<cudaKernel_t> k = r->lib_->get(name);
    if (!k.ok())
      return InvalidArgument(engine.path() + ": the engine has no kernels for its graph program (" + name +
                             "); rebuild it with this llmc");
    r->kernels_[name] = *k;
  }
  // Values freed at their last reader come back to the pool, not to the driver.
  cudaMemPool_t pool = nullptr;
  if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
    uint64_t keep = UINT64_MAX;
    cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
  }
  const GraphProgram& g = r->g_;
  LLMC_ASSIGN_OR_RETURN(r->errors_, DeviceBuffer::allocate(std::max<size_t>(g.ops.size(), 1) * sizeof(int), "graph op errors"));
  r->lastUse_.assign(g.values.size(), -1);
  for (size_t k = 0; k < g.ops.size(); ++k)
    for (int i : g.ops[k].in) r->lastUse_[i] = static_cast<int>(k);
  for (const GraphIO& o : g.outputs) r->lastUse_[o.value] = static_cast<int>(g.ops.size());
  for (size_t k = 0; k < g.ops.size(); ++k) {
    if (g.ops[k].op != GOp::kWeightValue) continue;
    const WeightView w = engine.weight(g.ops[k].weight);
    LLMC_ASSIGN_OR_RETURN(DeviceBuffer b, DeviceBuffer::allocate(w.info->nbytes, "weight " + w.info->name));
    LLMC_CUDA_CHECK(cudaMemcpy(b.get(), w.data, w.info->nbytes, cudaMemcpyHostToDevice));
    r->rawWeights_[static_cast<int>(k)] = std::move(b);
  }
  return r;
}

GraphRunner::~GraphRunner() {
  constants_.clear();
  if (stream_) cudaStreamSynchronize(stream_.get());
}

StatusOr<DTensor> GraphRunner::upload(const GTensor& t) {
  LaunchCtx c{stream_.get(), &kernels_, nullptr};
  LLMC_ASSIGN_OR_RETURN(DTensor d, c.alloc(t.type, t.shape));
  const size_t bytes = static_cast<size_t>(t.numel()) * 8;
  const void* src = t.isFloat() ? static_cast<const void*>(t.f.data()) : static_cast<const void*>(t.i.data());
  if (bytes > 0) LLMC_CUDA_CHECK(cudaMemcpyAsync(d.data(), src, bytes, cudaMemcpyHostToDevice, stream_.get()));
  // The host vector may go away when this returns: wait for pageable copies to leave it.
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  return d;
}

StatusOr<DTensor> GraphRunner::fromRaw(const void* raw, GType rawType, GType type, const std::vector<int64_t>& shape) {
  LaunchCtx c{stream_.get(), &kernels_, nullptr};
  LLMC_ASSIGN_OR_RETURN(DTensor d, c.alloc(type, shape));
  const int64_t n = d.numel();
  if (n > 0)
    LLMC_RETURN_IF_ERROR(c.launch("llmc_g_from_bytes", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n),
                                  typeCode(rawType), static_cast<const unsigned char*>(raw), d.data(), typeCode(type)));
  return d;
}

StatusOr<GTensor> GraphRunner::download(const DTensor& t, int64_t first, int64_t count) {
  const int64_t n = t.numel();
  if (count < 0) count = n - first;
  if (first < 0 || count < 0 || first + count > n) return Internal("cuda graph runner: download outside the tensor");
  GTensor h = GTensor::make(t.type, {count});
  if (count == n) h.shape = t.shape;
  void* dst = t.isFloat() ? static_cast<void*>(h.f.data()) : static_cast<void*>(h.i.data());
  if (count > 0)
    LLMC_CUDA_CHECK(cudaMemcpyAsync(dst, static_cast<const char*>(t.data()) + first * 8, count * 8,
                                    cudaMemcpyDeviceToHost, stream_.get()));
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  return h;
}

StatusOr<DTensor> GraphRunner::evalOp(size_t index, const std::vector<DTensor>& vals, int64_t T) {
  const GraphOp& op = g_.ops[index];
  const GraphValue& ov = g_.values[op.out];
  const std::vector<int64_t> shape = resolvedShape(ov, T);
  LaunchCtx c{stream_.get(), &kernels_, errors_.as<int>() + index};
  auto in = [&](size_t k) -> const DTensor& { return vals[op.in[k]]; };
  switch (op.op) {
    case GOp::kConstant: {
      auto it = constants_.find(static_cast<int>(index));
      if (it == constants_.end()) {
        if (op.data.size() != static_cast<size_t>(numelOf(shape)) * gtypeBytes(ov.type))
          return InvalidArgument("constant: " + std::to_string(op.data.size()) + " bytes do not fit " + shapeStr(shape));
        LLMC_ASSIGN_OR_RETURN(DeviceBuffer raw, DeviceBuffer::allocate(op.data.size(), "a graph constant"));
        if (!op.data.empty())
          LLMC_CUDA_CHECK(cudaMemcpy(raw.get(), op.data.data(), op.data.size(), cudaMemcpyHostToDevice));
        LLMC_ASSIGN_OR_RETURN(DTensor d, fromRaw(raw.get(), ov.type, ov.type, shape));
        LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));  // before `raw` is freed
        it = constants_.emplace(static_cast<int>(index), std::move(d)).first;
      }
      return it->second;
    }
    case GOp::kWeightValue: {
      const WeightView w = engine_.weight(op.weight);
      GType src = GType::kF32;
      if (w.info->dtype == engine::DType::kF16) src = GType::kF16;
      else if (w.info->dtype == engine::DType::kBF16) src = GType::kBF16;
      return fromRaw(rawWeights_.at(static_cast<int>(index)).get(), src, ov.type, w.info->shape);
    }
    case GOp::kPositions: {
      GTensor h = GTensor::make(GType::kI64, shape);
      for (int64_t t = 0; t < h.numel(); ++t) h.i[t] = t;
      return upload(h);
    }
    case GOp::kAffineInts: {
      GTensor h = GTensor::make(GType::kI64, shape);
      if (h.numel() != static_cast<int64_t>(op.ints.size())) return InvalidArgument("scale/offset do not fit the shape");
      for (size_t j = 0; j < op.ints.size(); ++j) h.i[j] = op.ints[j] * T + op.ints2[j];
      return upload(h);
    }
    case GOp::kCausalMask: {
      if (shape.size() < 2) return InvalidArgument("causal_mask: needs rank >= 2");
      LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(ov.type, shape));
      const int64_t n = r.numel();
      if (n > 0)
        LLMC_RETURN_IF_ERROR(c.launch("llmc_g_causal_mask", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n),
                                      static_cast<long long>(shape[shape.size() - 2]),
                                      static_cast<long long>(shape.back()), static_cast<long long>(op.window),
                                      op.number, r.data(), typeCode(ov.type)));
      return r;
    }
    case GOp::kUnary: return unaryG(c, op.fn, in(0), ov.type);
    case GOp::kBinary: return binaryG(c, op.fn, in(0), in(1), ov.type);
    case GOp::kWhere: return whereG(c, in(0), in(1), in(2), ov.type);
    case GOp::kCast: return castG(c, in(0), ov.type);
    case GOp::kMatMul: return matmulG(c, in(0), in(1), ov.type);
    case GOp::kReduce: return reduceG(c, op.fn, in(0), op.ints, op.flag, ov.type);
    case GOp::kSoftmax: return softmaxG(c, in(0), op.axis);
    case GOp::kCumSum: return cumsumG(c, in(0), op.axis, op.flag, op.flag2, ov.type);
    case GOp::kSdpa:
      return sdpaG(c, in(0), in(1), in(2), op.in.size() > 3 ? &in(3) : nullptr, op.number, op.flag, ov.type);
    case GOp::kReshape: {
      if (numelOf(shape) != in(0).numel())
        return InvalidArgument("cannot reshape " + shapeStr(in(0).shape) + " to " + shapeStr(shape));
      DTensor r = in(0);  // shares the buffer
      r.shape = shape;
      return r;
    }
    case GOp::kTranspose: return transposeG(c, in(0), op.ints);
    case GOp::kExpand: return expandG(c, in(0), shape);
    case GOp::kSlice: return sliceG(c, in(0), op.starts, op.ends, op.axes, op.steps);
    case GOp::kConcat: {
      std::vector<const DTensor*> parts;
      for (size_t k = 0; k < op.in.size(); ++k) parts.push_back(&in(k));
      return concatG(c, parts, op.axis, ov.type);
    }
    case GOp::kGather: return gatherG(c, in(0), in(1), op.axis);
    case GOp::kGatherND: return gatherNDG(c, in(0), in(1), op.axis);
    case GOp::kRange:
      if (shape.size() != 1) return InvalidArgument("range: the program declares " + shapeStr(shape));
      return rangeG(c, in(0), in(1), in(2), ov.type, shape[0]);
    case GOp::kTrilu: return triluG(c, in(0), op.axis, op.flag);
  }
  return Internal("cuda graph runner: unknown op");
}

Status GraphRunner::runOp(size_t index, std::vector<DTensor>& vals, int64_t T) {
  const GraphOp& op = g_.ops[index];
  const GraphValue& ov = g_.values[op.out];
  const std::vector<int64_t> shape = resolvedShape(ov, T);
  LLMC_ASSIGN_OR_RETURN(DTensor r, evalOp(index, vals, T));
  if (r.shape != shape)
    return InvalidArgument("computed shape " + shapeStr(r.shape) + ", the program declares " + shapeStr(shape));
  if (r.type != ov.type) {
    LaunchCtx c{stream_.get(), &kernels_, errors_.as<int>() + index};
    LLMC_ASSIGN_OR_RETURN(r, castG(c, r, ov.type));
  }
  vals[op.out] = std::move(r);
  return Status::Ok();
}

Status GraphRunner::run(const std::vector<GTensor>& inputs, int64_t T, std::vector<DTensor>* outputs) {
  if (inputs.size() != g_.inputs.size())
    return InvalidArgument("graph: " + std::to_string(g_.inputs.size()) + " inputs expected, got " +
                           std::to_string(inputs.size()));
  std::vector<DTensor> vals(g_.values.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    const GraphIO& io = g_.inputs[k];
    LLMC_RETURN_IF_ERROR(cpu::graph::checkGraphInput(io, g_.values[io.value], T, inputs[k].shape, inputs[k].type));
    LLMC_ASSIGN_OR_RETURN(vals[io.value], upload(inputs[k]));
  }
  LLMC_CUDA_CHECK(cudaMemsetAsync(errors_.get(), 0, errors_.bytes(), stream_.get()));
  for (size_t k = 0; k < g_.ops.size(); ++k) {
    Status s = runOp(k, vals, T);
    if (!s.ok())
      return InvalidArgument("graph.ops[" + std::to_string(k) + "] (" + gopName(g_.ops[k].op) + "): " + s.message());
    for (int i : g_.ops[k].in)
      if (lastUse_[i] == static_cast<int>(k)) vals[i] = DTensor();  // free what no later op reads
  }
  std::vector<int> errs(g_.ops.size(), 0);
  if (!errs.empty())
    LLMC_CUDA_CHECK(cudaMemcpyAsync(errs.data(), errors_.get(), errs.size() * sizeof(int), cudaMemcpyDeviceToHost,
                                    stream_.get()));
  LLMC_CUDA_CHECK(cudaStreamSynchronize(stream_.get()));
  for (size_t k = 0; k < errs.size(); ++k)
    if (errs[k] != kErrNone)
      return InvalidArgument("graph.ops[" + std::to_string(k) + "] (" + gopName(g_.ops[k].op) +
                             "): " + graphErrorText(errs[k]));
  outputs->clear();
  for (const GraphIO& o : g_.outputs) outputs->push_back(vals[o.value]);
  return Status::Ok();
}

}  // namespace llmc::cuda::graph
