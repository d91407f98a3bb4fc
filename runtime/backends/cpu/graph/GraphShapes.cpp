// GraphShapes.cpp - see GraphShapes.h.
#include "GraphShapes.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmc::cpu::graph {

Status checkGraphInput(const GraphIO& io, const GraphValue& v, int64_t T, const std::vector<int64_t>& shape,
                       GType type) {
  std::vector<int64_t> want = v.shape;
  for (int64_t& d : want)
    if (d < 0) d = T;
  if (shape != want)
    return InvalidArgument("input '" + io.name + "': shape " + shapeStr(shape) + ", the engine takes " + shapeStr(want));
  if (type != v.type)
    return InvalidArgument("input '" + io.name + "': element type " + gtypeName(type) + ", the engine takes " +
                           gtypeName(v.type));
  return Status::Ok();
}

Status planSlice(const std::vector<int64_t>& in, const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                 const std::vector<int64_t>& axes, const std::vector<int64_t>& steps, SlicePlan* plan) {
  const int64_t r = static_cast<int64_t>(in.size());
  plan->first.assign(r, 0);
  plan->step.assign(r, 1);
  plan->shape = in;
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t ax = axes[k];
    if (!normAxis(ax, r)) return InvalidArgument("slice: axis " + std::to_string(axes[k]) + " out of range");
    const int64_t dim = in[ax], st = steps[k];
    if (st == 0) return InvalidArgument("slice: step 0");
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += dim;
    if (e < 0 && e > std::numeric_limits<int64_t>::min() / 2) e += dim;
    int64_t count;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e - st - 1) / -st : 0;
    }
    plan->first[ax] = s;
    plan->step[ax] = st;
    plan->shape[ax] = count;
  }
  return Status::Ok();
}

Status planMatMul(const std::vector<int64_t>& a, const std::vector<int64_t>& b, MatMulPlan* plan) {
  if (a.empty() || b.empty()) return InvalidArgument("matmul of a scalar");
  std::vector<int64_t> as = a, bs = b;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  plan->m = as[as.size() - 2];
  plan->k = as.back();
  plan->n = bs.back();
  if (bs[bs.size() - 2] != plan->k)
    return InvalidArgument("matmul of " + shapeStr(a) + " and " + shapeStr(b) + ": inner dimensions differ");
  plan->aBatch.assign(as.begin(), as.end() - 2);
  plan->bBatch.assign(bs.begin(), bs.end() - 2);
  if (!broadcast(plan->aBatch, plan->bBatch, &plan->batch))
    return InvalidArgument("matmul: batch dimensions do not broadcast");
  plan->shape = plan->batch;
  if (a.size() > 1) plan->shape.push_back(plan->m);
  if (b.size() > 1) plan->shape.push_back(plan->n);
  return Status::Ok();
}

double reduceInit(const std::string& fn, GType type) {
  double lo = -INFINITY, hi = INFINITY;
  if (!gtypeIsFloat(type)) {
    if (type == GType::kBool || type == GType::kI64 || type == GType::kU64) {
      lo = type == GType::kBool ? 0.0 : -9.2e18;
      hi = type == GType::kBool ? 1.0 : 9.2e18;
    } else {
      const int bits = static_cast<int>(gtypeBytes(type)) * 8;
      const bool isUnsigned = type == GType::kU8 || type == GType::kU16 || type == GType::kU32;
      lo = isUnsigned ? 0.0 : -std::ldexp(1.0, bits - 1);
      hi = isUnsigned ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
    }
  }
  return fn == "prod" ? 1.0 : fn == "max" ? lo : fn == "min" ? hi : 0.0;
}

Status planSdpa(const std::vector<int64_t>& q, const std::vector<int64_t>& k, const std::vector<int64_t>& v,
                const std::vector<int64_t>* mask, SdpaDims* d) {
  if (q.size() != 4 || k.size() != 4 || v.size() != 4) return InvalidArgument("sdpa: q, k, v must be [B, H, S, D]");
  *d = SdpaDims{q[0], q[1], q[2], q[3], k[0], k[1], k[2], v[3]};
  if (k[3] != d->D || v[2] != d->S2 || v[1] != d->Hk || v[0] != d->Bk || d->Hk == 0 || d->H % d->Hk != 0 ||
      (d->Bk != d->B && d->Bk != 1))
    return InvalidArgument("sdpa: q " + shapeStr(q) + ", k " + shapeStr(k) + ", v " + shapeStr(v) + " do not fit");
  if (mask) {
    const std::vector<int64_t> full = {d->B, d->H, d->S, d->S2};
    std::vector<int64_t> bs;
    if (mask->size() > 4 || !broadcast(*mask, full, &bs) || bs != full)
      return InvalidArgument("sdpa: mask " + shapeStr(*mask) + " does not broadcast to " + shapeStr(full));
  }
  return Status::Ok();
}

Status planGatherNd(const std::vector<int64_t>& data, const std::vector<int64_t>& indices, int64_t b,
                    GatherNdPlan* plan) {
  const int64_t dr = static_cast<int64_t>(data.size()), ir = static_cast<int64_t>(indices.size());
  if (ir < 1 || b < 0 || b >= std::min(dr, ir)) return InvalidArgument("gather_nd: bad ranks or batch_dims");
  const int64_t last = indices.back();
  if (b + last > dr) return InvalidArgument("gather_nd: index depth too large");
  GatherNdPlan p;
  p.last = last;
  p.shape.assign(indices.begin(), indices.end() - 1);
  p.shape.insert(p.shape.end(), data.begin() + b + last, data.end());
  int64_t batch = 1;
  for (int64_t k = 0; k < b; ++k) batch *= data[k];
  for (int64_t k = b + last; k < dr; ++k) p.inner *= data[k];
  p.strides = stridesOf(data);
  p.perBatch = batch ? numelOf(data) / batch : 0;
  p.tuples = last ? numelOf(indices) / last : numelOf(p.shape) / std::max<int64_t>(p.inner, 1);
  p.tuplesPerBatch = batch ? p.tuples / batch : 0;
  *plan = std::move(p);
  return Status::Ok();
}

Status concatShape(const std::vector<const std::vector<int64_t>*>& parts, int64_t& axis, std::vector<int64_t>* shape) {
  const std::vector<int64_t>& p0 = *parts[0];
  const int64_t r = static_cast<int64_t>(p0.size());
  if (!normAxis(axis, r)) return InvalidArgument("concat: axis out of range");
  *shape = p0;
  (*shape)[axis] = 0;
  for (const std::vector<int64_t>* p : parts) {
    if (static_cast<int64_t>(p->size()) != r) return InvalidArgument("concat: ranks differ");
    for (int64_t k = 0; k < r; ++k)
      if (k != axis && (*p)[k] != p0[k]) return InvalidArgument("concat of " + shapeStr(p0) + " and " + shapeStr(*p));
    (*shape)[axis] += (*p)[axis];
  }
  return Status::Ok();
}

}  // namespace llmc::cpu::graph
