// GraphLaunchElementwise.cpp - device tensors, kernel launches, and the element-wise launchers
// (unary, binary, where, cast, strided copy), all on graph_ops.cuh's llmc_g_map.
#include <algorithm>

#include "../../cpu/graph/GTensor.h"
#include "GraphLaunch.h"

namespace llmc::cuda::graph {

using cpu::graph::broadcast;
using cpu::graph::numelOf;
using cpu::graph::shapeStr;
using cpu::graph::stridesOf;

int64_t DTensor::numel() const { return numelOf(shape); }

StatusOr<DTensor> LaunchCtx::alloc(GType type, std::vector<int64_t> shape) const {
  DTensor t;
  t.type = type;
  t.shape = std::move(shape);
  void* p = nullptr;
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(t.numel(), 1)) * 8;
  const cudaError_t e = cudaMallocAsync(&p, bytes, stream);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return Unavailable(std::string("cuda backend: graph tensor of ") + std::to_string(bytes) + " bytes: " +
                       cudaGetErrorString(e));
  }
  cudaStream_t s = stream;
  t.buf = std::shared_ptr<void>(p, [s](void* q) { cudaFreeAsync(q, s); });
  return t;
}

dim3 LaunchCtx::gridFor(int64_t n) {
  const int64_t blocks = std::clamp<int64_t>((n + 255) / 256, 1, 1 << 16);
  return dim3(static_cast<unsigned>(blocks));
}

Status launchKernel(const LaunchCtx& c, const char* name, dim3 grid, dim3 block, void** argv) {
  auto it = c.kernels->find(name);
  if (it == c.kernels->end())
    return InvalidArgument(std::string("the engine's kernels have no ") + name + " (rebuild it with this llmc)");
  const cudaError_t e = cudaLaunchKernel(reinterpret_cast<const void*>(it->second), grid, block, argv, 0, c.stream);
  if (e != cudaSuccess) return Internal(std::string("cuda backend: launching ") + name + ": " + cudaGetErrorString(e));
  return Status::Ok();
}

namespace {

// One operand of llmc_g_map: its data and its strides over the iteration shape.
struct Operand {
  const void* data = nullptr;
  int cls = 0;
  std::vector<int64_t> strides;
  int64_t off = 0;
};

// Strides of a tensor of shape `in` read over the broadcast shape `out` (right-aligned; 0 where it
// broadcasts).
std::vector<int64_t> broadcastStrides(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  std::vector<int64_t> s(out.size(), 0);
  const std::vector<int64_t> str = stridesOf(in);
  const size_t off = out.size() - in.size();
  for (size_t k = 0; k < in.size(); ++k) s[k + off] = in[k] == 1 ? 0 : str[k];
  return s;
}

Strides toStrides(const std::vector<int64_t>& s, int64_t off) {
  Strides r;
  r.off = off;
  for (size_t k = 0; k < s.size(); ++k) r.s[k] = s[k];
  return r;
}

// Runs llmc_g_map over `shape`. Dimensions of size 1 are dropped and neighbours that every operand
// walks contiguously are merged first, so most launches are one- or two-dimensional.
Status mapLaunch(const LaunchCtx& c, int op, int fn, std::vector<int64_t> shape, std::vector<Operand> ins,
                 const DTensor& out, Operand o) {
  const int64_t n = numelOf(shape);
  if (n == 0) return Status::Ok();
  while (ins.size() < 3) ins.push_back(Operand{ins[0].data, ins[0].cls, std::vector<int64_t>(shape.size(), 0), 0});
  std::vector<Operand*> all = {&ins[0], &ins[1], &ins[2], &o};
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> str(all.size());
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 1) continue;
    bool merge = !dims.empty();
    for (size_t q = 0; q < all.size() && merge; ++q) merge = str[q].back() == all[q]->strides[k] * shape[k];
    if (merge) {
      dims.back() *= shape[k];
      for (size_t q = 0; q < all.size(); ++q) str[q].back() = all[q]->strides[k];
    } else {
      dims.push_back(shape[k]);
      for (size_t q = 0; q < all.size(); ++q) str[q].push_back(all[q]->strides[k]);
    }
  }
  if (dims.size() > static_cast<size_t>(kMaxRank))
    return Unsupported("the CUDA backend's generic ops take at most " + std::to_string(kMaxRank) +
                       " non-trivial dimensions, not " + shapeStr(shape));
  Space sp;
  sp.rank = static_cast<int>(dims.size());
  for (size_t k = 0; k < dims.size(); ++k) sp.dims[k] = dims[k];
  return c.launch("llmc_g_map", LaunchCtx::gridFor(n), dim3(256), static_cast<long long>(n), sp, op, fn,
                  ins[0].data, ins[0].cls, toStrides(str[0], ins[0].off), ins[1].data, ins[1].cls,
                  toStrides(str[1], ins[1].off), ins[2].data, ins[2].cls, toStrides(str[2], ins[2].off), out.data(),
                  typeCode(out.type), toStrides(str[3], o.off), c.err);
}

Operand readOver(const DTensor& t, const std::vector<int64_t>& shape) {
  return Operand{t.data(), t.cls(), broadcastStrides(t.shape, shape), 0};
}
Operand writeDense(const DTensor& t) { return Operand{t.data(), t.cls(), stridesOf(t.shape), 0}; }

bool isLogical(const std::string& fn) { return fn == "and" || fn == "or" || fn == "xor"; }

}  // namespace

Status stridedCopy(const LaunchCtx& c, const DTensor& src, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& srcStrides, int64_t srcOff, const DTensor& dst,
                   const std::vector<int64_t>& dstStrides, int64_t dstOff) {
  return mapLaunch(c, kCopy, 0, shape, {Operand{src.data(), src.cls(), srcStrides, srcOff}}, dst,
                   Operand{dst.data(), dst.cls(), dstStrides, dstOff});
}

StatusOr<DTensor> castG(const LaunchCtx& c, const DTensor& a, GType to) {
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(to, a.shape));
  LLMC_RETURN_IF_ERROR(mapLaunch(c, kCopy, 0, a.shape, {readOver(a, a.shape)}, r, writeDense(r)));
  return r;
}

StatusOr<DTensor> unaryG(const LaunchCtx& c, const std::string& fn, const DTensor& a, GType type) {
  const int code = unaryCode(fn);
  if (code < 0) return InvalidArgument("unknown unary function '" + fn + "'");
  if (fn == "not" && a.isFloat()) return InvalidArgument("'not' needs a boolean operand");
  const bool intOk = fn == "identity" || fn == "not" || fn == "isnan" || fn == "isinf" || fn == "neg" || fn == "abs" ||
                     fn == "relu" || fn == "floor" || fn == "ceil";
  if (!a.isFloat() && !intOk) return InvalidArgument("'" + fn + "' needs a floating-point operand");
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, a.shape));
  LLMC_RETURN_IF_ERROR(mapLaunch(c, kUnaryOp, code, a.shape, {readOver(a, a.shape)}, r, writeDense(r)));
  return r;
}

StatusOr<DTensor> binaryG(const LaunchCtx& c, const std::string& fn, const DTensor& a, const DTensor& b, GType type) {
  const int code = binaryCode(fn);
  if (code < 0) return InvalidArgument("unknown binary function '" + fn + "'");
  std::vector<int64_t> shape;
  if (!broadcast(a.shape, b.shape, &shape))
    return InvalidArgument("shapes " + shapeStr(a.shape) + " and " + shapeStr(b.shape) + " do not broadcast");
  if (isLogical(fn) && (a.isFloat() || b.isFloat())) return InvalidArgument("'" + fn + "' needs boolean operands");
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, shape));
  LLMC_RETURN_IF_ERROR(
      mapLaunch(c, kBinaryOp, code, shape, {readOver(a, shape), readOver(b, shape)}, r, writeDense(r)));
  return r;
}

StatusOr<DTensor> whereG(const LaunchCtx& c, const DTensor& cond, const DTensor& a, const DTensor& b, GType type) {
  std::vector<int64_t> s1, shape;
  if (!broadcast(cond.shape, a.shape, &s1) || !broadcast(s1, b.shape, &shape))
    return InvalidArgument("where: shapes " + shapeStr(cond.shape) + ", " + shapeStr(a.shape) + ", " +
                           shapeStr(b.shape) + " do not broadcast");
  LLMC_ASSIGN_OR_RETURN(DTensor r, c.alloc(type, shape));
  LLMC_RETURN_IF_ERROR(mapLaunch(c, kWhereOp, 0, shape, {readOver(cond, shape), readOver(a, shape), readOver(b, shape)},
                                 r, writeDense(r)));
  return r;
}

}  // namespace llmc::cuda::graph
