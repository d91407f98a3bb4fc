// GraphMath.cpp - matmul (OpenBLAS dgemm per batch), reductions, softmax, cumsum, sdpa.
#include <cblas.h>

#include <algorithm>
#include <cmath>

#include "GraphKernels.h"
#include "GraphShapes.h"

namespace llmc::cpu::graph {

Status matmulK(const GTensor& aIn, const GTensor& bIn, GType type, GTensor* out) {
  MatMulPlan p;
  LLMC_RETURN_IF_ERROR(planMatMul(aIn.shape, bIn.shape, &p));
  const int64_t m = p.m, k = p.k, n = p.n;
  const std::vector<int64_t>&ab = p.aBatch, &bb = p.bBatch, &batch = p.batch, &shape = p.shape;
  const GTensor a = aIn.isFloat() ? aIn : castTo(aIn, GType::kF64);
  const GTensor b = bIn.isFloat() ? bIn : castTo(bIn, GType::kF64);
  const std::vector<int64_t> ia = broadcastIndex(ab, batch), ib = broadcastIndex(bb, batch);
  const int64_t nb = numelOf(batch);
  GTensor r = GTensor::make(GType::kF64, shape);
  for (int64_t bi = 0; bi < nb && m * n > 0; ++bi) {
    double* c = r.f.data() + bi * m * n;
    if (k == 0) continue;  // zeros
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0, a.f.data() + ia[bi] * m * k, static_cast<int>(k),
                b.f.data() + ib[bi] * k * n, static_cast<int>(n), 0.0, c, static_cast<int>(n));
  }
  *out = r.type == type ? std::move(r) : castTo(r, type);
  roundToType(*out);
  return Status::Ok();
}

Status reduceK(const std::string& fn, const GTensor& a, const std::vector<int64_t>& axesIn, bool keepdims,
               GType type, GTensor* out) {
  const int64_t r = static_cast<int64_t>(a.shape.size());
  std::vector<bool> red(r, axesIn.empty());
  for (int64_t ax : axesIn) {
    if (!normAxis(ax, r)) return InvalidArgument("reduce: axis out of range");
    red[ax] = true;
  }
  std::vector<int64_t> kept(r), shape;
  for (int64_t k = 0; k < r; ++k) {
    kept[k] = red[k] ? 1 : a.shape[k];
    if (!red[k]) shape.push_back(a.shape[k]);
    else if (keepdims) shape.push_back(1);
  }
  const int64_t n = numelOf(kept);
  const double init = reduceInit(fn, type);
  std::vector<double> acc(n, init);
  std::vector<int64_t> cnt(n, 0);
  const std::vector<int64_t> kStr = stridesOf(kept);
  std::vector<int64_t> c(r, 0);
  const int64_t total = a.numel();
  for (int64_t j = 0; j < total; ++j) {
    int64_t o = 0;
    for (int64_t k = 0; k < r; ++k) o += (red[k] ? 0 : c[k]) * kStr[k];
    const double x = a.at(j);
    if (fn == "sum" || fn == "mean") acc[o] += x;
    else if (fn == "prod") acc[o] *= x;
    else if (fn == "max") acc[o] = (std::isnan(x) || x > acc[o]) ? x : acc[o];
    else acc[o] = (std::isnan(x) || x < acc[o]) ? x : acc[o];
    ++cnt[o];
    for (int64_t k = r - 1; k >= 0; --k) {
      if (++c[k] < a.shape[k]) break;
      c[k] = 0;
    }
  }
  if (fn == "mean")
    for (int64_t o = 0; o < n; ++o) acc[o] /= static_cast<double>(cnt[o]);
  GTensor res = GTensor::make(GType::kF64, shape);
  res.f = std::move(acc);
  *out = castTo(res, type);
  return Status::Ok();
}

Status softmaxK(const GTensor& a, int64_t axis, GTensor* out) {
  if (!normAxis(axis, static_cast<int64_t>(a.shape.size())) || !a.isFloat())
    return InvalidArgument("softmax: bad axis or non-float input");
  *out = a;
  int64_t outer = 1, inner = 1;
  const int64_t dim = a.shape[axis];
  for (int64_t k = 0; k < axis; ++k) outer *= a.shape[k];
  for (size_t k = axis + 1; k < a.shape.size(); ++k) inner *= a.shape[k];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t d) { return (o * dim + d) * inner + in; };
      double m = -INFINITY, s = 0;
      for (int64_t d = 0; d < dim; ++d) m = std::max(m, a.f[at(d)]);
      for (int64_t d = 0; d < dim; ++d) s += std::exp(a.f[at(d)] - m);
      for (int64_t d = 0; d < dim; ++d) out->f[at(d)] = std::exp(a.f[at(d)] - m) / s;
    }
  roundToType(*out);
  return Status::Ok();
}

Status cumsumK(const GTensor& a, int64_t axis, bool exclusive, bool reverse, GType type, GTensor* out) {
  if (!normAxis(axis, static_cast<int64_t>(a.shape.size()))) return InvalidArgument("cumsum: axis out of range");
  GTensor r = a.type == type ? a : castTo(a, type);
  int64_t outer = 1, inner = 1;
  const int64_t dim = a.shape[axis];
  for (int64_t k = 0; k < axis; ++k) outer *= a.shape[k];
  for (size_t k = axis + 1; k < a.shape.size(); ++k) inner *= a.shape[k];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double accF = 0;
      int64_t accI = 0;
      for (int64_t s = 0; s < dim; ++s) {
        const int64_t d = reverse ? dim - 1 - s : s, j = (o * dim + d) * inner + in;
        if (r.isFloat()) {
          const double x = r.f[j];
          r.f[j] = exclusive ? accF : accF + x;
          accF += x;
        } else {
          const int64_t x = r.i[j];
          r.i[j] = exclusive ? accI : accI + x;
          accI += x;
        }
      }
    }
  roundToType(r);
  *out = std::move(r);
  return Status::Ok();
}

Status sdpaK(const GTensor& q, const GTensor& k, const GTensor& v, const GTensor* mask, double scale,
             bool causal, GType type, GTensor* out) {
  SdpaDims dims;
  LLMC_RETURN_IF_ERROR(planSdpa(q.shape, k.shape, v.shape, mask ? &mask->shape : nullptr, &dims));
  const int64_t B = dims.B, H = dims.H, S = dims.S, D = dims.D, Bk = dims.Bk, Hk = dims.Hk, S2 = dims.S2, Dv = dims.Dv;
  std::vector<int64_t> mi;
  if (mask) mi = broadcastIndex(mask->shape, {B, H, S, S2});
  const bool boolMask = mask && !mask->isFloat();
  GTensor r = GTensor::make(GType::kF64, {B, H, S, Dv});
  std::vector<double> p(S2);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t kb = Bk == 1 ? 0 : b, kh = h / (H / Hk);
      for (int64_t i = 0; i < S; ++i) {
        const int64_t qo = ((b * H + h) * S + i) * D;
        double m = -INFINITY;
        for (int64_t j = 0; j < S2; ++j) {
          const int64_t ko = ((kb * Hk + kh) * S2 + j) * D;
          double s = 0;
          for (int64_t d = 0; d < D; ++d) s += q.at(qo + d) * k.at(ko + d);
          s *= scale;
          if (mask) {
            const int64_t mo = mi[((b * H + h) * S + i) * S2 + j];
            if (boolMask) s = mask->i[mo] ? s : -INFINITY;
            else s += mask->f[mo];
          }
          if (causal && j > i) s = -INFINITY;
          p[j] = s;
          m = std::max(m, s);
        }
        double* o = r.f.data() + ((b * H + h) * S + i) * Dv;
        if (m == -INFINITY) continue;  // a fully masked row gives zeros (ONNX Attention), not NaN
        double sum = 0;
        for (int64_t j = 0; j < S2; ++j) sum += (p[j] = std::exp(p[j] - m));
        for (int64_t j = 0; j < S2; ++j) {
          const double w = p[j] / sum;
          const int64_t vo = ((kb * Hk + kh) * S2 + j) * Dv;
          for (int64_t d = 0; d < Dv; ++d) o[d] += w * v.at(vo + d);
        }
      }
    }
  *out = r.type == type ? std::move(r) : castTo(r, type);
  roundToType(*out);
  return Status::Ok();
}

}  // namespace llmc::cpu::graph
