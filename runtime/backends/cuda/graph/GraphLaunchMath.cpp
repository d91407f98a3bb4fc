// GraphLaunchMath.cpp - matmul, reductions, softmax, cumsum and sdpa on graph_ops.cuh.
#include <cmath>

#include "../../cpu/graph/GTensor.h"
#include "../../cpu/graph/GraphShapes.h"
#include "GraphLaunch.h"

namespace llmc::cuda::graph {

using cpu::graph::broadcast;
using cpu::graph::normAxis;
using cpu::graph::numelOf;
using cpu::graph::shapeStr;
using cpu::graph::stridesOf;

namespace {

Status spaceOf(const std::vector<int64_t>& dims, Space* sp, const char* what) {
  if (dims.size() > static_cast<size_t>(kMaxRank))
    return Unsupported(std::string(what) + ": the CUDA backend's generic ops take at most " +
                       std::to_string(kMaxRank) + " dimensions");
  sp->rank = static_cast<int>(dims.size());
  for (size_t k = 0; k < dims.size(); ++k) sp->dims[k] = dims[k];
  return Status::Ok();
}

Strides stridesFrom(const std::vector<int64_t>& s) {
  Strides r;
  for (size_t k = 0; k < s.size() && k < static_cast<size_t>(kMaxRank); ++k) r.s[k] = s[k];
  return r;
}

// outer * dim * inner around `axis`.
void around(const std::vector<int64_t>& shape, int64_t axis, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t k = 0; k < axis; ++k) *outer *= shape[k];
  for (size_t k = axis + 1; k < shape.size(); ++k) *inner *= shape[k];
}

}  // namespace

StatusOr<DTensor> matmulG(const LaunchCtx& c, const DTensor& a, const DTensor& b, GType type) {
  cpu::graph::MatMulPlan p;
  LLMC_RETURN_IF_ERROR(cpu::graph::planMatMul(a.shape, b.shape, &p));
  const int64_t m = p.m, k = p.k, n = p.n;
  const std::vector<int64_t>&ab = p.aBatch, &bb = p.bBatch, &batch = p.batch, &shape = p.shape;
  // Each operand's matrix stride over the broadcast batch (0 where it broadcasts).
  auto batchStrides = [&](const std::vector<int64_t>& own, int64_t matrix) {
    std::vector<int64_t> s(batch.size(), 0);
    int64_t step = matrix;
    for (int64_t q = static_cast<int64_t>(own.size()) - 1; q >= 0; --q) {
      const size_t at = q + (batch.size() - own.size());
      s[at] = own[q] == 1 ? 0 : step;
      step *= own[q];
    }
    return s;
  };
  Space sp;
  LLMC_RETURN_IF_ERROR(spaceOf(batch, &sp, "matmul"));
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, shape));
  const int64_t nb = numelOf(batch);
  if (nb == 0 || m == 0 || n == 0) return r;
  const dim3 grid(static_cast<unsigned>((n + 15) / 16), static_cast<unsigned>((m + 15) / 16),
                  static_cast<unsigned>(std::min<int64_t>(nb, 65535)));
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_matmul", grid, dim3(16, 16), static_cast<long long>(nb), sp,
                                stridesFrom(batchStrides(ab, m * k)), stridesFrom(batchStrides(bb, k * n)),
                                static_cast<long long>(m), static_cast<long long>(n), static_cast<long long>(k),
                                a.data(), a.cls(), b.data(), b.cls(), r.data(), typeCode(type)));
  return r;
}

StatusOr<DTensor> reduceG(const LaunchCtx& c, const std::string& fn, const DTensor& a,
                          const std::vector<int64_t>& axesIn, bool keepdims, GType type) {
  const int code = reduceCode(fn);
  if (code < 0) return InvalidArgument("unknown reduce function '" + fn + "'");
  const int64_t rank = static_cast<int64_t>(a.shape.size());
  std::vector<bool> red(rank, axesIn.empty());
  for (int64_t ax : axesIn) {
    if (!normAxis(ax, rank)) return InvalidArgument("reduce: axis out of range");
    red[ax] = true;
  }
  const std::vector<int64_t> str = stridesOf(a.shape);
  std::vector<int64_t> shape, keptDims, keptStr, redDims, redStr;
  for (int64_t k = 0; k < rank; ++k) {
    if (!red[k]) {
      shape.push_back(a.shape[k]);
      keptDims.push_back(a.shape[k]);
      keptStr.push_back(str[k]);
    } else {
      if (keepdims) shape.push_back(1);
      redDims.push_back(a.shape[k]);
      redStr.push_back(str[k]);
    }
  }
  const double init = cpu::graph::reduceInit(fn, type);
  Space kept, rs;
  LLMC_RETURN_IF_ERROR(spaceOf(keptDims, &kept, "reduce"));
  LLMC_RETURN_IF_ERROR(spaceOf(redDims, &rs, "reduce"));
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, shape));
  const int64_t n = numelOf(keptDims);
  if (n == 0) return r;
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_reduce", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n), kept,
                                stridesFrom(keptStr), rs, stridesFrom(redStr),
                                static_cast<long long>(numelOf(redDims)), code, init, a.data(), a.cls(), r.data(),
                                typeCode(type)));
  return r;
}

StatusOr<DTensor> softmaxG(const LaunchCtx& c, const DTensor& a, int64_t axis) {
  if (!normAxis(axis, static_cast<int64_t>(a.shape.size())) || !a.isFloat())
    return InvalidArgument("softmax: bad axis or non-float input");
  int64_t outer, inner;
  around(a.shape, axis, &outer, &inner);
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(a.type, a.shape));
  if (outer * inner == 0) return r;
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_softmax", LaunchCtx::gridFor(outer * inner), dim3(256),
                                static_cast<long long>(outer), static_cast<long long>(a.shape[axis]),
                                static_cast<long long>(inner), static_cast<const double*>(a.data()), r.data(),
                                typeCode(a.type)));
  return r;
}

StatusOr<DTensor> cumsumG(const LaunchCtx& c, const DTensor& a, int64_t axis, bool exclusive, bool reverse,
                          GType type) {
  if (!normAxis(axis, static_cast<int64_t>(a.shape.size()))) return InvalidArgument("cumsum: axis out of range");
  int64_t outer, inner;
  around(a.shape, axis, &outer, &inner);
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, a.shape));
  if (outer * inner == 0) return r;
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_cumsum", LaunchCtx::gridFor(outer * inner), dim3(256),
                                static_cast<long long>(outer), static_cast<long long>(a.shape[axis]),
                                static_cast<long long>(inner), exclusive ? 1 : 0, reverse ? 1 : 0, a.data(), a.cls(),
                                r.data(), typeCode(type)));
  return r;
}

StatusOr<DTensor> sdpaG(const LaunchCtx& c, const DTensor& q, const DTensor& k, const DTensor& v, const DTensor* mask,
                        double scale, bool causal, GType type) {
  cpu::graph::SdpaDims dims;
  LLMC_RETURN_IF_ERROR(cpu::graph::planSdpa(q.shape, k.shape, v.shape, mask ? &mask->shape : nullptr, &dims));
  const int64_t B = dims.B, H = dims.H, S = dims.S, D = dims.D, Bk = dims.Bk, Hk = dims.Hk, S2 = dims.S2, Dv = dims.Dv;
  if (!gtypeIsFloat(type)) return InvalidArgument("sdpa: the result must be a float type");
  Strides ms;
  if (mask) {
    const std::vector<int64_t> str = stridesOf(mask->shape);
    const size_t off = 4 - mask->shape.size();
    for (size_t d = 0; d < mask->shape.size(); ++d) ms.s[d + off] = mask->shape[d] == 1 ? 0 : str[d];
  }
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, {B, H, S, Dv}));
  if (B * H * S == 0) return r;
  // One thread per query row: small blocks spread short sequences over more SMs.
  const int64_t rows = B * H * S;
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>((rows + 63) / 64, 1 << 16)));
  LLMC_RETURN_IF_ERROR(c.launch("llmc_g_sdpa", grid, dim3(64), static_cast<long long>(B), static_cast<long long>(H),
                                static_cast<long long>(S), static_cast<long long>(D), static_cast<long long>(Hk),
                                static_cast<long long>(S2), static_cast<long long>(Dv), Bk == 1 && B != 1 ? 1 : 0,
                                q.data(), q.cls(), k.data(), k.cls(), v.data(), v.cls(),
                                static_cast<const void*>(mask ? mask->data() : nullptr), mask ? mask->cls() : 0,
                                mask && !mask->isFloat() ? 1 : 0, ms, scale, causal ? 1 : 0,
                                static_cast<double*>(r.data()), typeCode(type)));
  return r;
}

}  // namespace llmc::cuda::graph
