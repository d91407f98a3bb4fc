// GraphLaunchMovement.cpp - transpose, expand, slice and concat (strided copies), gather,
// gather_nd, range and trilu on graph_ops.cuh.
#include <algorithm>
#include <limits>

#include "../../cpu/graph/GTensor.h"
#include "../../cpu/graph/GraphShapes.h"
#include "GraphLaunch.h"

namespace llmc::cuda::graph {

using cpu::graph::broadcast;
using cpu::graph::normAxis;
using cpu::graph::numelOf;
using cpu::graph::shapeStr;
using cpu::graph::stridesOf;

StatusOr<DTensor> transposeG(const LaunchCtx& c, const DTensor& a, const std::vector<int64_t>& perm) {
  const int64_t r = static_cast<int64_t>(a.shape.size());
  if (static_cast<int64_t>(perm.size()) != r) return InvalidArgument("transpose: perm does not match the rank");
  std::vector<bool> seen(r, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[p]) return InvalidArgument("transpose: perm is not a permutation");
    seen[p] = true;
  }
  const std::vector<int64_t> str = stridesOf(a.shape);
  std::vector<int64_t> shape(r), src(r);
  for (int64_t k = 0; k < r; ++k) {
    shape[k] = a.shape[perm[k]];
    src[k] = str[perm[k]];
  }
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(a.type, shape));
  LLMC_RETURN_IF_ERROR(stridedCopy(c, a, shape, src, 0, out, stridesOf(shape), 0));
  return out;
}

StatusOr<DTensor> expandG(const LaunchCtx& c, const DTensor& a, const std::vector<int64_t>& target) {
  std::vector<int64_t> shape;
  if (!broadcast(a.shape, target, &shape))
    return InvalidArgument("expand: " + shapeStr(a.shape) + " does not broadcast to " + shapeStr(target));
  std::vector<int64_t> src(shape.size(), 0);
  const std::vector<int64_t> str = stridesOf(a.shape);
  const size_t off = shape.size() - a.shape.size();
  for (size_t k = 0; k < a.shape.size(); ++k) src[k + off] = a.shape[k] == 1 ? 0 : str[k];
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(a.type, shape));
  LLMC_RETURN_IF_ERROR(stridedCopy(c, a, shape, src, 0, out, stridesOf(shape), 0));
  return out;
}

StatusOr<DTensor> sliceG(const LaunchCtx& c, const DTensor& a, const std::vector<int64_t>& starts,
                         const std::vector<int64_t>& ends, const std::vector<int64_t>& axes,
                         const std::vector<int64_t>& steps) {
  const int64_t r = static_cast<int64_t>(a.shape.size());
  cpu::graph::SlicePlan p;
  LLMC_RETURN_IF_ERROR(cpu::graph::planSlice(a.shape, starts, ends, axes, steps, &p));
  const std::vector<int64_t>&first = p.first, &step = p.step, &shape = p.shape;
  const std::vector<int64_t> str = stridesOf(a.shape);
  std::vector<int64_t> src(r);
  int64_t off = 0;
  for (int64_t k = 0; k < r; ++k) {
    src[k] = str[k] * step[k];
    off += first[k] * str[k];
  }
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(a.type, shape));
  LLMC_RETURN_IF_ERROR(stridedCopy(c, a, shape, src, off, out, stridesOf(shape), 0));
  return out;
}

StatusOr<DTensor> concatG(const LaunchCtx& c, const std::vector<const DTensor*>& parts, int64_t axis, GType type) {
  std::vector<const std::vector<int64_t>*> shapes;
  for (const DTensor* p : parts) shapes.push_back(&p->shape);
  std::vector<int64_t> shape;
  LLMC_RETURN_IF_ERROR(cpu::graph::concatShape(shapes, axis, &shape));
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(type, shape));
  const std::vector<int64_t> outStr = stridesOf(shape);
  int64_t at = 0;
  for (const DTensor* p : parts) {
    LLMC_RETURN_IF_ERROR(stridedCopy(c, *p, p->shape, stridesOf(p->shape), 0, out, outStr, at * outStr[axis]));
    at += p->shape[axis];
  }
  return out;
}

StatusOr<DTensor> gatherG(const LaunchCtx& c, const DTensor& data, const DTensor& indices, int64_t axis) {
  const int64_t r = static_cast<int64_t>(data.shape.size());
  if (!normAxis(axis, r)) return InvalidArgument("gather: axis out of range");
  std::vector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  int64_t inner = 1;
  for (int64_t k = axis + 1; k < r; ++k) inner *= data.shape[k];
  const int64_t ni = indices.numel(), n = numelOf(shape);
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(data.type, shape));
  if (n == 0) return out;
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_gather", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n),
                                static_cast<long long>(ni), static_cast<long long>(data.shape[axis]),
                                static_cast<long long>(inner), data.data(), data.cls(), indices.data(), indices.cls(),
                                out.data(), typeCode(data.type), c.err));
  return out;
}

StatusOr<DTensor> gatherNDG(const LaunchCtx& c, const DTensor& data, const DTensor& indices, int64_t b) {
  cpu::graph::GatherNdPlan g;
  LLMC_RETURN_IF_ERROR(cpu::graph::planGatherNd(data.shape, indices.shape, b, &g));
  if (g.last > kMaxRank) return Unsupported("gather_nd: index tuples longer than " + std::to_string(kMaxRank));
  Space dd;
  Strides ds;
  dd.rank = static_cast<int>(g.last);
  for (int64_t k = 0; k < g.last; ++k) {
    dd.dims[k] = data.shape[b + k];
    ds.s[k] = g.strides[b + k];
  }
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(data.type, g.shape));
  const int64_t n = g.tuples * g.inner;
  if (n == 0) return out;
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_gather_nd", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n),
                                static_cast<long long>(g.inner), static_cast<long long>(g.last),
                                static_cast<long long>(g.tuplesPerBatch), static_cast<long long>(g.perBatch), dd, ds,
                                data.data(), data.cls(), indices.data(), indices.cls(), out.data(),
                                typeCode(data.type), c.err));
  return out;
}

StatusOr<DTensor> rangeG(const LaunchCtx& c, const DTensor& start, const DTensor& limit, const DTensor& delta,
                         GType type, int64_t n) {
  if (start.numel() != 1 || limit.numel() != 1 || delta.numel() != 1)
    return InvalidArgument("range: operands must be scalars");
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(type, {n}));
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_range", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n),
                                start.data(), start.cls(), limit.data(), limit.cls(), delta.data(), delta.cls(),
                                out.data(), typeCode(type), c.err));
  return out;
}

StatusOr<DTensor> triluG(const LaunchCtx& c, const DTensor& a, int64_t k, bool upper) {
  if (a.shape.size() < 2) return InvalidArgument("trilu: needs rank >= 2");
  const int64_t rows = a.shape[a.shape.size() - 2], cols = a.shape.back(), n = a.numel();
  LLMC_ASSIGN_OR_RETURN(DTensor out, c.alloc(a.type, a.shape));
  if (n == 0) return out;
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_trilu", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n),
                                static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(k),
                                upper ? 1 : 0, a.data(), a.cls(), out.data(), typeCode(a.type)));
  return out;
}

}  // namespace llmc::cuda::graph
