// graph_ops.cuh - the generic N-d tensor ops of a graph program (docs/graph-program.md) on the GPU.
//
// Owned by the CUDA codegen; run by the CUDA backend's graph runner (runtime/backends/cuda/graph).
// An engine whose model did not raise to the per-token program carries these kernels instead of
// the specialised ones. Their semantics are the CPU interpreter's (runtime/backends/cpu/graph,
// GraphKernels.h), which the ONNX node tests check against ONNX:
//   * value classes as the interpreter's: every float type is held in a double, every integer
//     type and bool in an i64, so every tensor is 8 bytes an element whatever its type;
//   * each op computes in its inputs' class and stores through castTo semantics (round to
//     f32/f16/bf16 precision, truncate float -> int, wrap integers, bool = != 0);
//   * shapes and strides are worked out on the host; a kernel walks a row-major iteration space
//     (Space) and finds each operand's element through that operand's Strides over it (0 where it
//     broadcasts), so transpose, expand, slice, concat and cast are all one copy kernel.
// Errors that depend on the data (an integer division by zero, an index out of range, a Range of
// another length than declared) set *err to a GraphError code; the host checks it after the run.
// Launch: 256 threads, grid-stride loops (any grid size is correct); matmul: 16 x 16 threads.
// The host mirror of Space / Strides / the codes is runtime/backends/cuda/graph/GraphKernelAbi.h.
#pragma once

#include "common.cuh"

namespace llmc {
namespace graph {

constexpr int kMaxRank = 8;
struct Space { int rank; i64 dims[kMaxRank]; };
struct Strides { i64 off; i64 s[kMaxRank]; };

// Element types: GType's order (runtime/include/llmc/runtime/GraphProgram.h).
enum Type { kF32, kF16, kBF16, kF64, kI8, kI16, kI32, kI64, kU8, kU16, kU32, kU64, kBool };
enum Op { kCopy = 0, kUnaryOp = 1, kBinaryOp = 2, kWhereOp = 3 };
enum Unary { uIdentity, uNeg, uSqrt, uReciprocal, uExp, uLog, uSigmoid, uTanh, uErf, uCos, uSin, uAbs, uRelu,
             uFloor, uCeil, uNot, uIsNan, uIsInf };
enum Binary { bAdd, bSub, bMul, bDiv, bPow, bMax, bMin, bMod, bAnd, bOr, bXor, bEq, bLt, bLe, bGt, bGe };
enum Reduce { rSum, rMean, rProd, rMax, rMin };
enum Error { eNone, eDivZero, eModZero, eGatherIndex, eGatherNdIndex, eRange };

__device__ __forceinline__ bool isFloatType(int t) { return t <= kF64; }
__device__ __forceinline__ bool isNan(double x) { return x != x; }
__device__ __forceinline__ bool isInf(double x) { return fabs(x) == __longlong_as_double(0x7ff0000000000000LL); }
__device__ __forceinline__ double nanValue() { return __longlong_as_double(0x7ff8000000000000LL); }

// Reads element i of an operand of class `isF` (1: doubles, 0: i64s).
__device__ __forceinline__ double ldF(const void* p, int isF, i64 i) {
  return isF ? static_cast<const double*>(p)[i] : (double)static_cast<const i64*>(p)[i];
}
__device__ __forceinline__ i64 ldI(const void* p, int isF, i64 i) {
  return isF ? (i64)static_cast<const double*>(p)[i] : static_cast<const i64*>(p)[i];
}

__device__ __forceinline__ double roundFloat(int type, double x) {
  switch (type) {
    case kF32: return (double)(float)x;
    case kF16: return (double)toFloat(fromFloat<f16>((float)x));
    case kBF16: return (double)toFloat(fromFloat<bf16>((float)x));
    default: return x;
  }
}
__device__ __forceinline__ i64 wrapInt(int type, i64 x) {
  switch (type) {
    case kI8: return (signed char)x;
    case kI16: return (short)x;
    case kI32: return (int)x;
    case kU8: return (unsigned char)x;
    case kU16: return (unsigned short)x;
    case kU32: return (unsigned int)x;
    case kBool: return x != 0;
    default: return x;  // i64, u64 (held as its bit pattern)
  }
}

// Stores a float-class value as element j of `type` (the interpreter's castTo).
__device__ __forceinline__ void storeF(void* out, int type, i64 j, double x) {
  if (isFloatType(type)) {
    static_cast<double*>(out)[j] = roundFloat(type, x);
  } else if (type == kBool) {
    static_cast<i64*>(out)[j] = x != 0.0;
  } else {
    const double t = trunc(x);
    const i64 v = isNan(t) || isInf(t) ? 0 : (i64)fmin(fmax(t, -9.2e18), 9.2e18);
    static_cast<i64*>(out)[j] = wrapInt(type, v);
  }
}
__device__ __forceinline__ void storeI(void* out, int type, i64 j, i64 x) {
  if (isFloatType(type)) static_cast<double*>(out)[j] = roundFloat(type, (double)x);
  else static_cast<i64*>(out)[j] = wrapInt(type, x);
}

__device__ __forceinline__ void setError(int* err, int code) { atomicCAS(err, 0, code); }

__device__ __forceinline__ i64 gridThreads() { return (i64)gridDim.x * blockDim.x; }
__device__ __forceinline__ i64 firstIndex() { return (i64)blockIdx.x * blockDim.x + threadIdx.x; }

__device__ double unaryFloat(int fn, double x) {
  switch (fn) {
    case uNeg: return -x;
    case uSqrt: return sqrt(x);
    case uReciprocal: return 1.0 / x;
    case uExp: return exp(x);
    case uLog: return log(x);
    case uSigmoid: return 1.0 / (1.0 + exp(-x));
    case uTanh: return tanh(x);
    case uErf: return erf(x);
    case uCos: return cos(x);
    case uSin: return sin(x);
    case uAbs: return fabs(x);
    case uRelu: return isNan(x) ? x : fmax(x, 0.0);
    case uFloor: return floor(x);
    case uCeil: return ceil(x);
    default: return x;
  }
}

__device__ i64 unaryInt(int fn, i64 x) {
  switch (fn) {
    case uNeg: return (i64)(0ull - (u64)x);
    case uAbs: return x < 0 ? (i64)(0ull - (u64)x) : x;
    case uRelu: return x > 0 ? x : 0;
    default: return x;  // floor, ceil of an integer
  }
}

__device__ double binaryFloat(int fn, double x, double y) {
  switch (fn) {
    case bAdd: return x + y;
    case bSub: return x - y;
    case bMul: return x * y;
    case bDiv: return x / y;
    case bPow: return pow(x, y);
    case bMax: return isNan(x) || isNan(y) ? nanValue() : fmax(x, y);
    case bMin: return isNan(x) || isNan(y) ? nanValue() : fmin(x, y);
    case bMod: return fmod(x, y);
    case bEq: return x == y;
    case bLt: return x < y;
    case bLe: return x <= y;
    case bGt: return x > y;
    default: return x >= y;
  }
}

__device__ i64 binaryInt(int fn, i64 x, i64 y, int* err) {
  switch (fn) {
    case bAdd: return (i64)((u64)x + (u64)y);
    case bSub: return (i64)((u64)x - (u64)y);
    case bMul: return (i64)((u64)x * (u64)y);
    case bDiv:
      if (y == 0) { setError(err, eDivZero); return 0; }
      return x / y;  // truncates, as ONNX integer Div
    case bPow: return (i64)pow((double)x, (double)y);
    case bMax: return x > y ? x : y;
    case bMin: return x < y ? x : y;
    case bMod: {
      if (y == 0) { setError(err, eModZero); return 0; }
      i64 r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;  // fmod=0: the sign follows the divisor
      return r;
    }
    case bAnd: return x && y;
    case bOr: return x || y;
    case bXor: return !x != !y;
    case bEq: return x == y;
    case bLt: return x < y;
    case bLe: return x <= y;
    case bGt: return x > y;
    default: return x >= y;
  }
}

__device__ __forceinline__ bool isComparison(int fn) { return fn >= bEq; }

// Element-wise ops over a broadcast iteration space: copy/cast (a), unary fn (a), binary fn (a, b),
// where (a = condition, b, c). Every operand, the output included, is addressed through its Strides.
extern "C" __global__ void llmc_g_map(i64 n, Space sp, int op, int fn, const void* a, int ca, Strides sa,
                                      const void* b, int cb, Strides sb, const void* c, int cc, Strides sc,
                                      void* out, int outType, Strides so, int* err) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    i64 rest = j, oa = sa.off, ob = sb.off, oc = sc.off, oo = so.off;
    for (int k = sp.rank - 1; k >= 0; --k) {
      const i64 x = rest % sp.dims[k];
      rest /= sp.dims[k];
      oa += x * sa.s[k];
      ob += x * sb.s[k];
      oc += x * sc.s[k];
      oo += x * so.s[k];
    }
    if (op == kCopy) {
      if (ca) storeF(out, outType, oo, ldF(a, 1, oa));
      else storeI(out, outType, oo, ldI(a, 0, oa));
    } else if (op == kUnaryOp) {
      if (fn == uNot) storeI(out, outType, oo, !ldI(a, ca, oa));
      else if (fn == uIsNan || fn == uIsInf)
        storeI(out, outType, oo, ca && (fn == uIsNan ? isNan(ldF(a, 1, oa)) : isInf(ldF(a, 1, oa))));
      else if (fn == uIdentity) {
        if (ca) storeF(out, outType, oo, ldF(a, 1, oa));
        else storeI(out, outType, oo, ldI(a, 0, oa));
      } else if (ca) storeF(out, outType, oo, unaryFloat(fn, ldF(a, 1, oa)));
      else storeI(out, outType, oo, unaryInt(fn, ldI(a, 0, oa)));
    } else if (op == kBinaryOp) {
      if (ca || cb) {
        const double r = binaryFloat(fn, ldF(a, ca, oa), ldF(b, cb, ob));
        if (isComparison(fn)) storeI(out, outType, oo, r != 0.0);
        else storeF(out, outType, oo, r);
      } else {
        storeI(out, outType, oo, binaryInt(fn, ldI(a, 0, oa), ldI(b, 0, ob), err));
      }
    } else {  // where
      const bool take = ldF(a, ca, oa) != 0.0;
      if (cb || cc) storeF(out, outType, oo, take ? ldF(b, cb, ob) : ldF(c, cc, oc));
      else storeI(out, outType, oo, take ? ldI(b, 0, ob) : ldI(c, 0, oc));
    }
  }
}

// Batched matmul: out[z, M, N] = a[z] · b[z], the batch index z walking `batch` with each operand's
// batch Strides (0 where it broadcasts). Integer operands are multiplied as doubles (the
// interpreter does the same). Block 16 x 16, grid (ceil(N / 16), ceil(M / 16), any).
extern "C" __global__ void llmc_g_matmul(i64 nb, Space batch, Strides ba, Strides bb, i64 M, i64 N, i64 K,
                                         const void* a, int ca, const void* b, int cb, void* out, int outType) {
  __shared__ double As[16][17];
  __shared__ double Bs[16][17];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const i64 row = (i64)blockIdx.y * 16 + ty, col = (i64)blockIdx.x * 16 + tx;
  for (i64 z = blockIdx.z; z < nb; z += gridDim.z) {
    i64 rest = z, oa = ba.off, ob = bb.off;
    for (int k = batch.rank - 1; k >= 0; --k) {
      const i64 x = rest % batch.dims[k];
      rest /= batch.dims[k];
      oa += x * ba.s[k];
      ob += x * bb.s[k];
    }
    double acc = 0.0;
    for (i64 k0 = 0; k0 < K; k0 += 16) {
      As[ty][tx] = row < M && k0 + tx < K ? ldF(a, ca, oa + row * K + k0 + tx) : 0.0;
      Bs[ty][tx] = k0 + ty < K && col < N ? ldF(b, cb, ob + (k0 + ty) * N + col) : 0.0;
      __syncthreads();
#pragma unroll
      for (int kk = 0; kk < 16; ++kk) acc = fma(As[ty][kk], Bs[kk][tx], acc);
      __syncthreads();
    }
    if (row < M && col < N) storeF(out, outType, z * M * N + row * N + col, acc);
  }
}

// Reduction of the `red` dimensions: output j is the kept coordinate j of `kept`; its inputs are
// the elements of `red` from that base, in row-major order (the interpreter's order).
extern "C" __global__ void llmc_g_reduce(i64 n, Space kept, Strides ks, Space red, Strides rs, i64 count, int fn,
                                         double init, const void* a, int ca, void* out, int outType) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    i64 rest = j, base = ks.off;
    for (int k = kept.rank - 1; k >= 0; --k) {
      base += (rest % kept.dims[k]) * ks.s[k];
      rest /= kept.dims[k];
    }
    double acc = init;
    for (i64 r = 0; r < count; ++r) {
      i64 rr = r, o = base;
      for (int k = red.rank - 1; k >= 0; --k) {
        o += (rr % red.dims[k]) * rs.s[k];
        rr /= red.dims[k];
      }
      const double x = ldF(a, ca, o);
      if (fn == rSum || fn == rMean) acc += x;
      else if (fn == rProd) acc *= x;
      else if (fn == rMax) acc = isNan(x) || x > acc ? x : acc;
      else acc = isNan(x) || x < acc ? x : acc;
    }
    if (fn == rMean) acc /= (double)count;
    storeF(out, outType, j, acc);
  }
}

// Softmax over the middle dimension of [outer, dim, inner] (float class); a thread per line.
extern "C" __global__ void llmc_g_softmax(i64 outer, i64 dim, i64 inner, const double* a, void* out, int outType) {
  for (i64 j = firstIndex(); j < outer * inner; j += gridThreads()) {
    const i64 o = j / inner, in = j % inner;
    const double* x = a + o * dim * inner + in;
    double m = -__longlong_as_double(0x7ff0000000000000LL), s = 0.0;
    for (i64 d = 0; d < dim; ++d) m = fmax(m, x[d * inner]);
    for (i64 d = 0; d < dim; ++d) s += exp(x[d * inner] - m);
    for (i64 d = 0; d < dim; ++d) storeF(out, outType, o * dim * inner + in + d * inner, exp(x[d * inner] - m) / s);
  }
}

// Cumulative sum over the middle dimension of [outer, dim, inner]: each element is first cast to
// the output type, then summed in the output's class (the interpreter's order of operations).
extern "C" __global__ void llmc_g_cumsum(i64 outer, i64 dim, i64 inner, int exclusive, int reverse, const void* a,
                                         int ca, void* out, int outType) {
  const bool outF = isFloatType(outType);
  for (i64 j = firstIndex(); j < outer * inner; j += gridThreads()) {
    const i64 o = j / inner, in = j % inner;
    double accF = 0.0;
    i64 accI = 0;
    for (i64 s = 0; s < dim; ++s) {
      const i64 d = reverse ? dim - 1 - s : s, at = (o * dim + d) * inner + in;
      if (ca) storeF(out, outType, at, ldF(a, 1, at));  // the cast element, read back below
      else storeI(out, outType, at, ldI(a, 0, at));
      if (outF) {
        const double x = static_cast<double*>(out)[at];
        storeF(out, outType, at, exclusive ? accF : accF + x);
        accF += x;
      } else {
        const i64 x = static_cast<i64*>(out)[at];
        storeI(out, outType, at, exclusive ? accI : accI + x);
        accI += x;
      }
    }
  }
}

// Scaled dot-product attention, a thread per query row (b, h, i): q [B, H, S, D],
// k [Bk, Hk, S2, D], v [Bk, Hk, S2, Dv] (Bk = B or 1), mask (may be null) addressed through
// ms over [B, H, S, S2], bool (true = attend) or additive. A fully masked row gives zeros.
// out (float class) accumulates the weighted values in place, then is rounded to outType.
extern "C" __global__ void llmc_g_sdpa(i64 B, i64 H, i64 S, i64 D, i64 Hk, i64 S2, i64 Dv, int kvOneBatch,
                                       const void* q, int cq, const void* k, int ck, const void* v, int cv,
                                       const void* mask, int cm, int maskBool, Strides ms, double scale, int causal,
                                       double* out, int outType) {
  const double negInf = -__longlong_as_double(0x7ff0000000000000LL);
  for (i64 row = firstIndex(); row < B * H * S; row += gridThreads()) {
    const i64 i = row % S, h = (row / S) % H, b = row / (S * H);
    const i64 kb = kvOneBatch ? 0 : b, kh = h / (H / Hk);
    const i64 qo = row * D;
    double* o = out + row * Dv;
    for (i64 d = 0; d < Dv; ++d) o[d] = 0.0;
    double m = negInf, sum = 0.0;
    for (int pass = 0; pass < 3; ++pass) {
      for (i64 j = 0; j < S2; ++j) {
        const i64 ko = ((kb * Hk + kh) * S2 + j) * D;
        double s = 0.0;
        for (i64 d = 0; d < D; ++d) s += ldF(q, cq, qo + d) * ldF(k, ck, ko + d);
        s *= scale;
        if (mask) {
          const i64 mo = ms.off + b * ms.s[0] + h * ms.s[1] + i * ms.s[2] + j * ms.s[3];
          if (maskBool) s = ldI(mask, cm, mo) ? s : negInf;
          else s += ldF(mask, cm, mo);
        }
        if (causal && j > i) s = negInf;
        if (pass == 0) {
          m = fmax(m, s);
        } else if (pass == 1) {
          sum += exp(s - m);
        } else {
          const double w = exp(s - m) / sum;
          const i64 vo = ((kb * Hk + kh) * S2 + j) * Dv;
          for (i64 d = 0; d < Dv; ++d) o[d] += w * ldF(v, cv, vo + d);
        }
      }
      if (pass == 0 && m == negInf) break;  // fully masked: zeros (ONNX Attention), not NaN
    }
    for (i64 d = 0; d < Dv; ++d) o[d] = roundFloat(outType, o[d]);
  }
}

// Gather along an axis: data [outer, dim, inner], indices (ni of them, negative counts from the end).
extern "C" __global__ void llmc_g_gather(i64 n, i64 ni, i64 dim, i64 inner, const void* data, int cd,
                                         const void* idx, int ci, void* out, int outType, int* err) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    const i64 k = j % inner, t = (j / inner) % ni, o = j / (inner * ni);
    i64 ix = ldI(idx, ci, t);
    if (ix < 0) ix += dim;
    if (ix < 0 || ix >= dim) {
      setError(err, eGatherIndex);
      storeI(out, outType, j, 0);
      continue;
    }
    const i64 src = (o * dim + ix) * inner + k;
    if (cd) storeF(out, outType, j, ldF(data, 1, src));
    else storeI(out, outType, j, ldI(data, 0, src));
  }
}

// GatherND: output j is element k (of `inner`) after index tuple t; a tuple's `last` indices
// address the data dimensions dd (strides ds) after the batch's first element.
extern "C" __global__ void llmc_g_gather_nd(i64 n, i64 inner, i64 last, i64 tuplesPerBatch, i64 perBatch, Space dd,
                                            Strides ds, const void* data, int cd, const void* idx, int ci, void* out,
                                            int outType, int* err) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    const i64 t = j / inner, k = j % inner;
    i64 flat = (tuplesPerBatch ? t / tuplesPerBatch : 0) * perBatch;
    bool ok = true;
    for (i64 q = 0; q < last; ++q) {
      i64 ix = ldI(idx, ci, t * last + q);
      if (ix < 0) ix += dd.dims[q];
      if (ix < 0 || ix >= dd.dims[q]) ok = false;
      flat += ix * ds.s[q];
    }
    if (!ok) {
      setError(err, eGatherNdIndex);
      storeI(out, outType, j, 0);
      continue;
    }
    if (cd) storeF(out, outType, j, ldF(data, 1, flat + k));
    else storeI(out, outType, j, ldI(data, 0, flat + k));
  }
}

// Range of n elements from the scalars start, limit, delta; a length other than n is an error.
extern "C" __global__ void llmc_g_range(i64 n, const void* s, int cs, const void* l, int cl, const void* d, int cdl,
                                        void* out, int outType, int* err) {
  const double sf = ldF(s, cs, 0), lf = ldF(l, cl, 0), df = ldF(d, cdl, 0);
  if (firstIndex() == 0) {
    const double len = df == 0.0 ? -1.0 : fmax(ceil((lf - sf) / df), 0.0);
    if (len != (double)n) setError(err, eRange);
  }
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    if (isFloatType(outType)) storeF(out, outType, j, sf + (double)j * df);
    else storeI(out, outType, j, ldI(s, cs, 0) + j * ldI(d, cdl, 0));
  }
}

// Trilu: keeps the elements on one side of diagonal k of each trailing [rows, cols] matrix.
extern "C" __global__ void llmc_g_trilu(i64 n, i64 rows, i64 cols, i64 k, int upper, const void* a, int ca, void* out,
                                        int outType) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    const i64 c = j % cols, r = (j / cols) % rows;
    const bool keep = upper ? (c - r >= k) : (c - r <= k);
    if (!keep) storeI(out, outType, j, 0);
    else if (ca) storeF(out, outType, j, ldF(a, 1, j));
    else storeI(out, outType, j, ldI(a, 0, j));
  }
}

// The causal mask [..., rows, cols] of a token LM: allowed when c <= i (and i - c < window when
// window > 0); a float mask holds 0 / `masked`, a bool one 1 / 0.
extern "C" __global__ void llmc_g_causal_mask(i64 n, i64 rows, i64 cols, i64 window, double masked, void* out,
                                              int outType) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    const i64 c = j % cols, i = (j / cols) % rows;
    const bool allow = c <= i && (window == 0 || i - c < window);
    if (isFloatType(outType)) static_cast<double*>(out)[j] = allow ? 0.0 : masked;
    else static_cast<i64*>(out)[j] = allow;
  }
}

// Decodes n little-endian elements of srcType (a weight, a constant) into the value class and
// stores them as outType.
extern "C" __global__ void llmc_g_from_bytes(i64 n, int srcType, const unsigned char* raw, void* out, int outType) {
  for (i64 j = firstIndex(); j < n; j += gridThreads()) {
    switch (srcType) {
      case kF32: storeF(out, outType, j, (double)reinterpret_cast<const float*>(raw)[j]); break;
      case kF64: storeF(out, outType, j, reinterpret_cast<const double*>(raw)[j]); break;
      case kF16: { f16 h; h.bits = reinterpret_cast<const u16*>(raw)[j]; storeF(out, outType, j, (double)toFloat(h)); break; }
      case kBF16: { bf16 h; h.bits = reinterpret_cast<const u16*>(raw)[j]; storeF(out, outType, j, (double)toFloat(h)); break; }
      case kI8: storeI(out, outType, j, reinterpret_cast<const signed char*>(raw)[j]); break;
      case kI16: storeI(out, outType, j, reinterpret_cast<const short*>(raw)[j]); break;
      case kI32: storeI(out, outType, j, reinterpret_cast<const int*>(raw)[j]); break;
      case kI64: case kU64: storeI(out, outType, j, reinterpret_cast<const i64*>(raw)[j]); break;
      case kU8: storeI(out, outType, j, raw[j]); break;
      case kU16: storeI(out, outType, j, reinterpret_cast<const u16*>(raw)[j]); break;
      case kU32: storeI(out, outType, j, reinterpret_cast<const u32*>(raw)[j]); break;
      default: storeI(out, outType, j, raw[j] != 0); break;  // bool
    }
  }
}

}  // namespace graph
}  // namespace llmc
