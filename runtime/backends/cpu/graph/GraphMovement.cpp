// GraphMovement.cpp - data movement kernels: transpose, expand, slice, concat, gather, gather_nd,
// range, trilu. Each builds the flat source index of every output element, then copies.
#include <algorithm>
#include <cmath>
#include <limits>

#include "GraphKernels.h"
#include "GraphShapes.h"

namespace llmc::cpu::graph {

namespace {

GTensor take(const GTensor& a, std::vector<int64_t> shape, const std::vector<int64_t>& src) {
  GTensor r;
  r.type = a.type;
  r.shape = std::move(shape);
  if (a.isFloat()) {
    r.f.resize(src.size());
    for (size_t j = 0; j < src.size(); ++j) r.f[j] = a.f[src[j]];
  } else {
    r.i.resize(src.size());
    for (size_t j = 0; j < src.size(); ++j) r.i[j] = a.i[src[j]];
  }
  return r;
}

// Calls fn(coord) for each coordinate of `shape`, row-major.
template <typename Fn>
void forEachCoord(const std::vector<int64_t>& shape, Fn fn) {
  const int64_t n = numelOf(shape);
  std::vector<int64_t> c(shape.size(), 0);
  for (int64_t j = 0; j < n; ++j) {
    fn(c);
    for (int64_t k = static_cast<int64_t>(shape.size()) - 1; k >= 0; --k) {
      if (++c[k] < shape[k]) break;
      c[k] = 0;
    }
  }
}

}  // namespace

Status transposeK(const GTensor& a, const std::vector<int64_t>& perm, GTensor* out) {
  const int64_t r = static_cast<int64_t>(a.shape.size());
  if (static_cast<int64_t>(perm.size()) != r) return InvalidArgument("transpose: perm does not match the rank");
  std::vector<bool> seen(r, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= r || seen[p]) return InvalidArgument("transpose: perm is not a permutation");
    seen[p] = true;
  }
  std::vector<int64_t> shape(r);
  for (int64_t k = 0; k < r; ++k) shape[k] = a.shape[perm[k]];
  const std::vector<int64_t> str = stridesOf(a.shape);
  std::vector<int64_t> src;
  src.reserve(numelOf(shape));
  forEachCoord(shape, [&](const std::vector<int64_t>& c) {
    int64_t flat = 0;
    for (int64_t k = 0; k < r; ++k) flat += c[k] * str[perm[k]];
    src.push_back(flat);
  });
  *out = take(a, shape, src);
  return Status::Ok();
}

Status expandK(const GTensor& a, const std::vector<int64_t>& target, GTensor* out) {
  std::vector<int64_t> shape;
  if (!broadcast(a.shape, target, &shape))
    return InvalidArgument("expand: " + shapeStr(a.shape) + " does not broadcast to " + shapeStr(target));
  *out = take(a, shape, broadcastIndex(a.shape, shape));
  return Status::Ok();
}

Status sliceK(const GTensor& a, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
              const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, GTensor* out) {
  const int64_t r = static_cast<int64_t>(a.shape.size());
  SlicePlan p;
  LLMC_RETURN_IF_ERROR(planSlice(a.shape, starts, ends, axes, steps, &p));
  const std::vector<int64_t>&first = p.first, &step = p.step, &shape = p.shape;
  const std::vector<int64_t> str = stridesOf(a.shape);
  std::vector<int64_t> src;
  src.reserve(numelOf(shape));
  forEachCoord(shape, [&](const std::vector<int64_t>& c) {
    int64_t flat = 0;
    for (int64_t k = 0; k < r; ++k) flat += (first[k] + c[k] * step[k]) * str[k];
    src.push_back(flat);
  });
  *out = take(a, shape, src);
  return Status::Ok();
}

Status concatK(const std::vector<const GTensor*>& parts, int64_t axis, GType type, GTensor* out) {
  std::vector<const std::vector<int64_t>*> shapes;
  for (const GTensor* p : parts) shapes.push_back(&p->shape);
  std::vector<int64_t> shape;
  LLMC_RETURN_IF_ERROR(concatShape(shapes, axis, &shape));
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= shape[k];
  GTensor res = GTensor::make(type, shape);
  int64_t at = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (const GTensor* p : parts) {
      const int64_t inner = outer ? p->numel() / outer : 0;
      for (int64_t j = 0; j < inner; ++j, ++at) {
        if (res.isFloat()) res.f[at] = p->at(o * inner + j);
        else res.i[at] = p->atInt(o * inner + j);
      }
    }
  }
  roundToType(res);
  *out = std::move(res);
  return Status::Ok();
}

Status gatherK(const GTensor& data, const GTensor& indices, int64_t axis, GTensor* out) {
  const int64_t r = static_cast<int64_t>(data.shape.size());
  if (!normAxis(axis, r)) return InvalidArgument("gather: axis out of range");
  std::vector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= data.shape[k];
  for (int64_t k = axis + 1; k < r; ++k) inner *= data.shape[k];
  const int64_t dim = data.shape[axis], ni = indices.numel();
  std::vector<int64_t> src;
  src.reserve(outer * ni * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ni; ++j) {
      int64_t ix = indices.atInt(j);
      if (ix < 0) ix += dim;
      if (ix < 0 || ix >= dim)
        return InvalidArgument("gather: index " + std::to_string(indices.atInt(j)) + " out of range [0, " +
                               std::to_string(dim) + ")");
      for (int64_t k = 0; k < inner; ++k) src.push_back((o * dim + ix) * inner + k);
    }
  *out = take(data, shape, src);
  return Status::Ok();
}

Status gatherNDK(const GTensor& data, const GTensor& indices, int64_t b, GTensor* out) {
  GatherNdPlan g;
  LLMC_RETURN_IF_ERROR(planGatherNd(data.shape, indices.shape, b, &g));
  std::vector<int64_t> src;
  for (int64_t t = 0; t < g.tuples; ++t) {
    int64_t flat = (g.tuplesPerBatch ? t / g.tuplesPerBatch : 0) * g.perBatch;
    for (int64_t k = 0; k < g.last; ++k) {
      int64_t ix = indices.atInt(t * g.last + k);
      const int64_t dim = data.shape[b + k];
      if (ix < 0) ix += dim;
      if (ix < 0 || ix >= dim) return InvalidArgument("gather_nd: index out of range");
      flat += ix * g.strides[b + k];
    }
    for (int64_t k = 0; k < g.inner; ++k) src.push_back(flat + k);
  }
  *out = take(data, g.shape, src);
  return Status::Ok();
}

Status rangeK(const GTensor& start, const GTensor& limit, const GTensor& delta, GType type, GTensor* out) {
  if (start.numel() != 1 || limit.numel() != 1 || delta.numel() != 1)
    return InvalidArgument("range: operands must be scalars");
  const double s = start.at(0), l = limit.at(0), d = delta.at(0);
  if (d == 0) return InvalidArgument("range: delta 0");
  const int64_t n = std::max<int64_t>(static_cast<int64_t>(std::ceil((l - s) / d)), 0);
  GTensor r = GTensor::make(type, {n});
  for (int64_t j = 0; j < n; ++j) {
    if (r.isFloat()) r.f[j] = s + static_cast<double>(j) * d;
    else r.i[j] = start.atInt(0) + j * delta.atInt(0);
  }
  roundToType(r);
  *out = std::move(r);
  return Status::Ok();
}

Status triluK(const GTensor& a, int64_t k, bool upper, GTensor* out) {
  if (a.shape.size() < 2) return InvalidArgument("trilu: needs rank >= 2");
  *out = a;
  const int64_t rows = a.shape[a.shape.size() - 2], cols = a.shape.back(), n = a.numel();
  for (int64_t j = 0; j < n; ++j) {
    const int64_t c = j % cols, r = (j / cols) % rows;
    if (upper ? (c - r >= k) : (c - r <= k)) continue;
    if (out->isFloat()) out->f[j] = 0;
    else out->i[j] = 0;
  }
  return Status::Ok();
}

}  // namespace llmc::cpu::graph
