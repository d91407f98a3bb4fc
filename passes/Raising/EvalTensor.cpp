//===- EvalTensor.cpp - small dense tensors and reference kernels ---------===//
//
// Owner: onnx. Straightforward index arithmetic; clarity over speed (inputs are a few thousand
// elements: shape vectors, [T, T] masks, [T, D] position tables for small probe T).
//
//===----------------------------------------------------------------------===//
#include "llmc/Passes/Raising/EvalTensor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmc::eval {

Tensor Tensor::floats(std::vector<int64_t> shape, std::vector<double> v) {
  Tensor t;
  t.kind = Kind::kFloat;
  t.shape = std::move(shape);
  t.f = std::move(v);
  return t;
}

Tensor Tensor::ints(std::vector<int64_t> shape, std::vector<int64_t> v, Kind k) {
  Tensor t;
  t.kind = k;
  t.shape = std::move(shape);
  t.i = std::move(v);
  return t;
}

int64_t numelOf(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t Tensor::numel() const { return numelOf(shape); }

std::vector<int64_t> Tensor::toInts() const {
  if (!isFloat())
    return i;
  std::vector<int64_t> out(f.size());
  for (size_t j = 0; j < f.size(); ++j)
    out[j] = static_cast<int64_t>(f[j]);
  return out;
}

bool Tensor::sameValues(const Tensor &o) const {
  if (shape != o.shape || isFloat() != o.isFloat())
    return false;
  if (!isFloat())
    return i == o.i;
  for (size_t j = 0; j < f.size(); ++j)
    if (!(f[j] == o.f[j] || (std::isnan(f[j]) && std::isnan(o.f[j]))))
      return false;
  return true;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k)
    s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t k = static_cast<int64_t>(shape.size()) - 2; k >= 0; --k)
    s[k] = s[k + 1] * shape[k + 1];
  return s;
}

bool normAxis(int64_t &axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  return axis >= 0 && axis < rank;
}

bool broadcastShapes(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                     std::vector<int64_t> &out, std::string &err) {
  size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (size_t k = 0; k < r; ++k) {
    int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1) {
      err = "shapes " + shapeString(a) + " and " + shapeString(b) + " do not broadcast";
      return false;
    }
    out[k] = da == 1 ? db : da;
  }
  return true;
}

namespace {

// Flat index into a tensor of shape `in` (right-aligned, broadcast) for each flat index of `out`.
std::vector<int64_t> broadcastIndex(const std::vector<int64_t> &in, const std::vector<int64_t> &out) {
  const int64_t n = numelOf(out);
  std::vector<int64_t> idx(n);
  std::vector<int64_t> inStr = stridesOf(in);
  const size_t off = out.size() - in.size();
  std::vector<int64_t> coord(out.size(), 0);
  for (int64_t j = 0; j < n; ++j) {
    int64_t flat = 0;
    for (size_t k = 0; k < in.size(); ++k)
      flat += (in[k] == 1 ? 0 : coord[k + off]) * inStr[k];
    idx[j] = flat;
    for (int64_t k = static_cast<int64_t>(out.size()) - 1; k >= 0; --k) {
      if (++coord[k] < out[k])
        break;
      coord[k] = 0;
    }
  }
  return idx;
}

bool isComparison(const std::string &fn) {
  return fn == "eq" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge";
}
bool isLogical(const std::string &fn) { return fn == "and" || fn == "or" || fn == "xor"; }

double applyF(const std::string &fn, double x, double y) {
  if (fn == "add") return x + y;
  if (fn == "sub") return x - y;
  if (fn == "mul") return x * y;
  if (fn == "div") return x / y;
  if (fn == "pow") return std::pow(x, y);
  if (fn == "max") return std::max(x, y);
  if (fn == "min") return std::min(x, y);
  if (fn == "mod") return std::fmod(x, y);
  if (fn == "eq") return x == y;
  if (fn == "lt") return x < y;
  if (fn == "le") return x <= y;
  if (fn == "gt") return x > y;
  return x >= y;  // ge
}

bool applyI(const std::string &fn, int64_t x, int64_t y, int64_t &r, std::string &err) {
  if (fn == "add") r = x + y;
  else if (fn == "sub") r = x - y;
  else if (fn == "mul") r = x * y;
  else if (fn == "div") {
    if (y == 0) { err = "integer division by zero"; return false; }
    // ONNX integer Div truncates (C semantics).
    r = x / y;
  } else if (fn == "pow") {
    r = static_cast<int64_t>(std::pow(static_cast<double>(x), static_cast<double>(y)));
  } else if (fn == "max") r = std::max(x, y);
  else if (fn == "min") r = std::min(x, y);
  else if (fn == "mod") {
    if (y == 0) { err = "integer modulo by zero"; return false; }
    r = x % y;
    if (r != 0 && ((r < 0) != (y < 0)))  // fmod=0: the sign follows the divisor
      r += y;
  } else if (fn == "and") r = (x && y);
  else if (fn == "or") r = (x || y);
  else if (fn == "xor") r = (!x != !y);
  else if (fn == "eq") r = x == y;
  else if (fn == "lt") r = x < y;
  else if (fn == "le") r = x <= y;
  else if (fn == "gt") r = x > y;
  else r = x >= y;
  return true;
}

}  // namespace

bool isBinaryFn(const std::string &fn) {
  static const char *fns[] = {"add", "sub", "mul", "div", "pow", "max", "min", "mod",
                              "and", "or",  "xor", "eq",  "lt",  "le",  "gt",  "ge"};
  return std::find(std::begin(fns), std::end(fns), fn) != std::end(fns);
}

bool isUnaryFn(const std::string &fn) {
  static const char *fns[] = {"neg", "sqrt", "reciprocal", "exp",   "log",   "sigmoid", "tanh",
                              "erf", "cos",  "sin",        "abs",   "relu",  "not",     "isnan",
                              "isinf", "floor", "ceil",    "identity"};
  return std::find(std::begin(fns), std::end(fns), fn) != std::end(fns);
}

bool binary(const std::string &fn, const Tensor &a, const Tensor &b, Tensor &out, std::string &err) {
  if (!isBinaryFn(fn)) {
    err = "unknown binary function '" + fn + "'";
    return false;
  }
  std::vector<int64_t> shape;
  if (!broadcastShapes(a.shape, b.shape, shape, err))
    return false;
  std::vector<int64_t> ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
  const int64_t n = numelOf(shape);
  const bool floatMath = a.isFloat() || b.isFloat();
  if (isLogical(fn) && floatMath) {
    err = "'" + fn + "' needs boolean operands";
    return false;
  }
  if (floatMath) {
    std::vector<double> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = applyF(fn, a.at(ia[j]), b.at(ib[j]));
    if (isComparison(fn)) {
      std::vector<int64_t> bi(n);
      for (int64_t j = 0; j < n; ++j)
        bi[j] = r[j] != 0.0;
      out = Tensor::ints(shape, std::move(bi), Kind::kBool);
    } else {
      out = Tensor::floats(shape, std::move(r));
    }
    return true;
  }
  std::vector<int64_t> r(n);
  for (int64_t j = 0; j < n; ++j)
    if (!applyI(fn, a.i[ia[j]], b.i[ib[j]], r[j], err))
      return false;
  Kind k = (isComparison(fn) || isLogical(fn) ||
            (a.kind == Kind::kBool && b.kind == Kind::kBool && (fn == "max" || fn == "min")))
               ? Kind::kBool
               : Kind::kInt;
  out = Tensor::ints(shape, std::move(r), k);
  return true;
}

bool unary(const std::string &fn, const Tensor &a, Tensor &out, std::string &err) {
  if (!isUnaryFn(fn)) {
    err = "unknown unary function '" + fn + "'";
    return false;
  }
  const int64_t n = a.numel();
  if (fn == "not") {
    if (a.isFloat()) {
      err = "'not' needs a boolean operand";
      return false;
    }
    std::vector<int64_t> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = !a.i[j];
    out = Tensor::ints(a.shape, std::move(r), Kind::kBool);
    return true;
  }
  if (fn == "identity") {
    out = a;
    return true;
  }
  if (fn == "isnan" || fn == "isinf") {
    std::vector<int64_t> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = a.isFloat() && (fn == "isnan" ? std::isnan(a.f[j]) : std::isinf(a.f[j]));
    out = Tensor::ints(a.shape, std::move(r), Kind::kBool);
    return true;
  }
  if (!a.isFloat() && (fn == "neg" || fn == "abs" || fn == "relu")) {
    std::vector<int64_t> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = fn == "neg" ? -a.i[j] : fn == "abs" ? std::llabs(a.i[j]) : std::max<int64_t>(a.i[j], 0);
    out = Tensor::ints(a.shape, std::move(r), Kind::kInt);
    return true;
  }
  if (!a.isFloat() && (fn == "floor" || fn == "ceil")) {
    out = a;
    return true;
  }
  if (!a.isFloat()) {
    err = "'" + fn + "' needs a floating-point operand";
    return false;
  }
  std::vector<double> r(n);
  for (int64_t j = 0; j < n; ++j) {
    double x = a.f[j];
    if (fn == "neg") r[j] = -x;
    else if (fn == "sqrt") r[j] = std::sqrt(x);
    else if (fn == "reciprocal") r[j] = 1.0 / x;
    else if (fn == "exp") r[j] = std::exp(x);
    else if (fn == "log") r[j] = std::log(x);
    else if (fn == "sigmoid") r[j] = 1.0 / (1.0 + std::exp(-x));
    else if (fn == "tanh") r[j] = std::tanh(x);
    else if (fn == "erf") r[j] = std::erf(x);
    else if (fn == "cos") r[j] = std::cos(x);
    else if (fn == "sin") r[j] = std::sin(x);
    else if (fn == "abs") r[j] = std::fabs(x);
    else if (fn == "relu") r[j] = std::max(x, 0.0);
    else if (fn == "floor") r[j] = std::floor(x);
    else r[j] = std::ceil(x);  // ceil
  }
  out = Tensor::floats(a.shape, std::move(r));
  return true;
}

bool where(const Tensor &c, const Tensor &a, const Tensor &b, Tensor &out, std::string &err) {
  std::vector<int64_t> s1, shape;
  if (!broadcastShapes(c.shape, a.shape, s1, err) || !broadcastShapes(s1, b.shape, shape, err))
    return false;
  std::vector<int64_t> ic = broadcastIndex(c.shape, shape), ia = broadcastIndex(a.shape, shape),
                       ib = broadcastIndex(b.shape, shape);
  const int64_t n = numelOf(shape);
  if (a.isFloat() || b.isFloat()) {
    std::vector<double> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = c.atInt(ic[j]) ? a.at(ia[j]) : b.at(ib[j]);
    out = Tensor::floats(shape, std::move(r));
  } else {
    std::vector<int64_t> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = c.atInt(ic[j]) ? a.i[ia[j]] : b.i[ib[j]];
    out = Tensor::ints(shape, std::move(r), a.kind == Kind::kBool && b.kind == Kind::kBool ? Kind::kBool : Kind::kInt);
  }
  return true;
}

Tensor cast(const Tensor &a, Kind to) {
  const int64_t n = a.numel();
  if (to == Kind::kFloat) {
    std::vector<double> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = a.at(j);
    return Tensor::floats(a.shape, std::move(r));
  }
  std::vector<int64_t> r(n);
  for (int64_t j = 0; j < n; ++j) {
    if (to == Kind::kBool)
      r[j] = a.at(j) != 0.0;
    else if (a.isFloat()) {
      double x = std::trunc(a.f[j]);  // float -> int truncates toward zero
      r[j] = std::isfinite(x) ? static_cast<int64_t>(std::clamp(x, -9.2e18, 9.2e18)) : 0;
    } else {
      r[j] = a.i[j];
    }
  }
  return Tensor::ints(a.shape, std::move(r), to);
}

bool reshape(const Tensor &a, const std::vector<int64_t> &shape, Tensor &out, std::string &err) {
  if (numelOf(shape) != a.numel()) {
    err = "cannot reshape " + shapeString(a.shape) + " to " + shapeString(shape);
    return false;
  }
  out = a;
  out.shape = shape;
  return true;
}

namespace {
// Gathers elements of `a` at the flat indices `src` into a tensor of shape `shape`.
Tensor take(const Tensor &a, const std::vector<int64_t> &shape, const std::vector<int64_t> &src) {
  if (a.isFloat()) {
    std::vector<double> r(src.size());
    for (size_t j = 0; j < src.size(); ++j)
      r[j] = a.f[src[j]];
    return Tensor::floats(shape, std::move(r));
  }
  std::vector<int64_t> r(src.size());
  for (size_t j = 0; j < src.size(); ++j)
    r[j] = a.i[src[j]];
  return Tensor::ints(shape, std::move(r), a.kind);
}

// Calls fn(coord) for each coordinate of `shape` in row-major order.
template <typename Fn>
void forEachCoord(const std::vector<int64_t> &shape, Fn fn) {
  const int64_t n = numelOf(shape);
  std::vector<int64_t> c(shape.size(), 0);
  for (int64_t j = 0; j < n; ++j) {
    fn(c);
    for (int64_t k = static_cast<int64_t>(shape.size()) - 1; k >= 0; --k) {
      if (++c[k] < shape[k])
        break;
      c[k] = 0;
    }
  }
}
}  // namespace

bool transpose(const Tensor &a, const std::vector<int64_t> &permIn, Tensor &out, std::string &err) {
  std::vector<int64_t> perm = permIn;
  if (perm.empty())
    for (int64_t k = a.rank() - 1; k >= 0; --k)
      perm.push_back(k);
  if (static_cast<int64_t>(perm.size()) != a.rank()) {
    err = "transpose permutation has " + std::to_string(perm.size()) + " entries for rank " +
          std::to_string(a.rank());
    return false;
  }
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= a.rank() || seen[p]) {
      err = "invalid transpose permutation";
      return false;
    }
    seen[p] = true;
  }
  std::vector<int64_t> shape(perm.size());
  for (size_t k = 0; k < perm.size(); ++k)
    shape[k] = a.shape[perm[k]];
  std::vector<int64_t> inStr = stridesOf(a.shape), src;
  src.reserve(numelOf(shape));
  forEachCoord(shape, [&](const std::vector<int64_t> &c) {
    int64_t flat = 0;
    for (size_t k = 0; k < perm.size(); ++k)
      flat += c[k] * inStr[perm[k]];
    src.push_back(flat);
  });
  out = take(a, shape, src);
  return true;
}

bool expand(const Tensor &a, const std::vector<int64_t> &target, Tensor &out, std::string &err) {
  // ONNX Expand: bidirectional broadcast of the input shape with the target.
  std::vector<int64_t> shape;
  if (!broadcastShapes(a.shape, target, shape, err))
    return false;
  out = take(a, shape, broadcastIndex(a.shape, shape));
  return true;
}

namespace {
struct SliceAxis {
  int64_t start, step, count;
};
bool sliceAxes(const std::vector<int64_t> &in, const std::vector<int64_t> &starts,
               const std::vector<int64_t> &ends, const std::vector<int64_t> &axesIn,
               const std::vector<int64_t> &stepsIn, std::vector<SliceAxis> &ax, std::string &err) {
  const int64_t r = static_cast<int64_t>(in.size());
  if (starts.size() != ends.size()) {
    err = "slice starts and ends differ in length";
    return false;
  }
  std::vector<int64_t> axes = axesIn;
  if (axes.empty())
    for (size_t k = 0; k < starts.size(); ++k)
      axes.push_back(static_cast<int64_t>(k));
  std::vector<int64_t> steps = stepsIn.empty() ? std::vector<int64_t>(starts.size(), 1) : stepsIn;
  if (axes.size() != starts.size() || steps.size() != starts.size()) {
    err = "slice axes/steps do not match starts";
    return false;
  }
  ax.assign(r, SliceAxis{0, 1, 0});
  for (int64_t k = 0; k < r; ++k)
    ax[k] = {0, 1, in[k]};
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k];
    if (!normAxis(a, r)) {
      err = "slice axis " + std::to_string(axes[k]) + " out of range";
      return false;
    }
    const int64_t dim = in[a], step = steps[k];
    if (step == 0) {
      err = "slice step 0";
      return false;
    }
    int64_t s = starts[k], e = ends[k];
    if (s < 0) s += dim;
    if (e < 0 && e > std::numeric_limits<int64_t>::min() / 2) e += dim;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      ax[a] = {s, step, e > s ? (e - s + step - 1) / step : 0};
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      ax[a] = {s, step, s > e ? (s - e + (-step) - 1) / (-step) : 0};
    }
  }
  return true;
}
}  // namespace

bool sliceShape(const std::vector<int64_t> &in, const std::vector<int64_t> &starts,
                const std::vector<int64_t> &ends, const std::vector<int64_t> &axes,
                const std::vector<int64_t> &steps, std::vector<int64_t> &out, std::string &err) {
  std::vector<SliceAxis> ax;
  if (!sliceAxes(in, starts, ends, axes, steps, ax, err))
    return false;
  out.clear();
  for (const SliceAxis &s : ax)
    out.push_back(s.count);
  return true;
}

bool slice(const Tensor &a, const std::vector<int64_t> &starts, const std::vector<int64_t> &ends,
           const std::vector<int64_t> &axes, const std::vector<int64_t> &steps, Tensor &out,
           std::string &err) {
  std::vector<SliceAxis> ax;
  if (!sliceAxes(a.shape, starts, ends, axes, steps, ax, err))
    return false;
  std::vector<int64_t> shape;
  for (const SliceAxis &s : ax)
    shape.push_back(s.count);
  std::vector<int64_t> str = stridesOf(a.shape), src;
  forEachCoord(shape, [&](const std::vector<int64_t> &c) {
    int64_t flat = 0;
    for (size_t k = 0; k < c.size(); ++k)
      flat += (ax[k].start + c[k] * ax[k].step) * str[k];
    src.push_back(flat);
  });
  out = take(a, shape, src);
  return true;
}

bool concat(const std::vector<const Tensor *> &parts, int64_t axis, Tensor &out, std::string &err) {
  if (parts.empty()) {
    err = "concat of nothing";
    return false;
  }
  const Tensor &p0 = *parts[0];
  if (!normAxis(axis, p0.rank())) {
    err = "concat axis out of range";
    return false;
  }
  std::vector<int64_t> shape = p0.shape;
  shape[axis] = 0;
  bool anyFloat = false;
  for (const Tensor *p : parts) {
    if (p->rank() != p0.rank()) {
      err = "concat of tensors of different ranks";
      return false;
    }
    for (int64_t k = 0; k < p0.rank(); ++k)
      if (k != axis && p->shape[k] != p0.shape[k]) {
        err = "concat of " + shapeString(p0.shape) + " and " + shapeString(p->shape) +
              " along axis " + std::to_string(axis);
        return false;
      }
    shape[axis] += p->shape[axis];
    anyFloat |= p->isFloat();
  }
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k)
    outer *= shape[k];
  Tensor r;
  r.shape = shape;
  r.kind = anyFloat ? Kind::kFloat : p0.kind;
  for (int64_t o = 0; o < outer; ++o)
    for (const Tensor *p : parts) {
      int64_t inner = p->numel() / std::max<int64_t>(outer, 1);
      if (outer == 0)
        break;
      for (int64_t j = 0; j < inner; ++j) {
        if (anyFloat)
          r.f.push_back(p->at(o * inner + j));
        else
          r.i.push_back(p->i[o * inner + j]);
      }
    }
  out = std::move(r);
  return true;
}

bool gather(const Tensor &data, const Tensor &indices, int64_t axis, Tensor &out, std::string &err) {
  if (!normAxis(axis, data.rank())) {
    err = "gather axis out of range";
    return false;
  }
  std::vector<int64_t> shape(data.shape.begin(), data.shape.begin() + axis);
  shape.insert(shape.end(), indices.shape.begin(), indices.shape.end());
  shape.insert(shape.end(), data.shape.begin() + axis + 1, data.shape.end());
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < axis; ++k)
    outer *= data.shape[k];
  for (int64_t k = axis + 1; k < data.rank(); ++k)
    inner *= data.shape[k];
  const int64_t dim = data.shape[axis], ni = indices.numel();
  std::vector<int64_t> src;
  src.reserve(outer * ni * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ni; ++j) {
      int64_t ix = indices.atInt(j);
      if (ix < 0)
        ix += dim;
      if (ix < 0 || ix >= dim) {
        err = "gather index " + std::to_string(indices.atInt(j)) + " out of range [0, " +
              std::to_string(dim) + ")";
        return false;
      }
      for (int64_t k = 0; k < inner; ++k)
        src.push_back((o * dim + ix) * inner + k);
    }
  out = take(data, shape, src);
  return true;
}

bool gatherND(const Tensor &data, const Tensor &indices, int64_t b, Tensor &out, std::string &err) {
  if (indices.rank() < 1 || b < 0 || b >= std::min(data.rank(), indices.rank())) {
    err = "gather_nd: bad ranks or batch_dims";
    return false;
  }
  const int64_t last = indices.shape.back();
  if (b + last > data.rank()) {
    err = "gather_nd: index depth too large";
    return false;
  }
  std::vector<int64_t> shape(indices.shape.begin(), indices.shape.end() - 1);
  shape.insert(shape.end(), data.shape.begin() + b + last, data.shape.end());
  int64_t batch = 1, inner = 1;
  for (int64_t k = 0; k < b; ++k)
    batch *= data.shape[k];
  for (int64_t k = b + last; k < data.rank(); ++k)
    inner *= data.shape[k];
  std::vector<int64_t> str = stridesOf(data.shape);
  const int64_t perBatchData = batch ? data.numel() / batch : 0;
  const int64_t tuples = last ? indices.numel() / last : 0;
  const int64_t tuplesPerBatch = batch ? tuples / batch : 0;
  std::vector<int64_t> src;
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t bi = tuplesPerBatch ? t / tuplesPerBatch : 0;
    int64_t flat = bi * perBatchData;
    for (int64_t k = 0; k < last; ++k) {
      int64_t ix = indices.atInt(t * last + k), dim = data.shape[b + k];
      if (ix < 0)
        ix += dim;
      if (ix < 0 || ix >= dim) {
        err = "gather_nd index out of range";
        return false;
      }
      flat += ix * str[b + k];
    }
    for (int64_t k = 0; k < inner; ++k)
      src.push_back(flat + k);
  }
  out = take(data, shape, src);
  return true;
}

bool reduceShape(const std::vector<int64_t> &in, std::vector<int64_t> axes, bool keepdims,
                 std::vector<int64_t> &out, std::string &err) {
  const int64_t r = static_cast<int64_t>(in.size());
  std::vector<bool> red(r, axes.empty());
  for (int64_t a : axes) {
    if (!normAxis(a, r)) {
      err = "reduce axis out of range";
      return false;
    }
    red[a] = true;
  }
  out.clear();
  for (int64_t k = 0; k < r; ++k) {
    if (!red[k])
      out.push_back(in[k]);
    else if (keepdims)
      out.push_back(1);
  }
  return true;
}

bool reduce(const std::string &fn, const Tensor &a, std::vector<int64_t> axes, bool keepdims,
            Tensor &out, std::string &err) {
  if (!(fn == "mean" || fn == "sum" || fn == "prod" || fn == "max" || fn == "min")) {
    err = "unknown reduction '" + fn + "'";
    return false;
  }
  const int64_t r = a.rank();
  std::vector<bool> red(r, axes.empty());
  for (int64_t ax : axes) {
    if (!normAxis(ax, r)) {
      err = "reduce axis out of range";
      return false;
    }
    red[ax] = true;
  }
  std::vector<int64_t> kept(r);
  for (int64_t k = 0; k < r; ++k)
    kept[k] = red[k] ? 1 : a.shape[k];
  std::vector<int64_t> shape;
  if (!reduceShape(a.shape, axes, keepdims, shape, err))
    return false;
  const int64_t n = numelOf(kept);
  std::vector<double> acc(n, fn == "prod" ? 1.0 : fn == "max" ? -INFINITY : fn == "min" ? INFINITY : 0.0);
  std::vector<int64_t> cnt(n, 0), kStr = stridesOf(kept);
  int64_t j = 0;
  forEachCoord(a.shape, [&](const std::vector<int64_t> &c) {
    int64_t o = 0;
    for (int64_t k = 0; k < r; ++k)
      o += (red[k] ? 0 : c[k]) * kStr[k];
    double x = a.at(j++);
    if (fn == "sum" || fn == "mean") acc[o] += x;
    else if (fn == "prod") acc[o] *= x;
    else if (fn == "max") acc[o] = std::max(acc[o], x);
    else acc[o] = std::min(acc[o], x);
    ++cnt[o];
  });
  if (fn == "mean")
    for (int64_t o = 0; o < n; ++o)
      acc[o] /= static_cast<double>(std::max<int64_t>(cnt[o], 1));
  out = Tensor::floats(shape, std::move(acc));
  if (!a.isFloat() && fn != "mean")
    out = cast(out, a.kind);
  return true;
}

bool softmax(const Tensor &a, int64_t axis, Tensor &out, std::string &err) {
  if (!normAxis(axis, a.rank()) || !a.isFloat()) {
    err = "softmax: bad axis or non-float input";
    return false;
  }
  out = a;
  int64_t outer = 1, inner = 1, dim = a.shape[axis];
  for (int64_t k = 0; k < axis; ++k)
    outer *= a.shape[k];
  for (int64_t k = axis + 1; k < a.rank(); ++k)
    inner *= a.shape[k];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double m = -INFINITY, s = 0;
      for (int64_t d = 0; d < dim; ++d)
        m = std::max(m, a.f[(o * dim + d) * inner + in]);
      for (int64_t d = 0; d < dim; ++d)
        s += std::exp(a.f[(o * dim + d) * inner + in] - m);
      for (int64_t d = 0; d < dim; ++d)
        out.f[(o * dim + d) * inner + in] = std::exp(a.f[(o * dim + d) * inner + in] - m) / s;
    }
  return true;
}

bool cumsum(const Tensor &a, int64_t axis, bool exclusive, bool reverse, Tensor &out,
            std::string &err) {
  if (!normAxis(axis, a.rank())) {
    err = "cumsum axis out of range";
    return false;
  }
  out = a;
  int64_t outer = 1, inner = 1, dim = a.shape[axis];
  for (int64_t k = 0; k < axis; ++k)
    outer *= a.shape[k];
  for (int64_t k = axis + 1; k < a.rank(); ++k)
    inner *= a.shape[k];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double accF = 0;
      int64_t accI = 0;
      for (int64_t s = 0; s < dim; ++s) {
        int64_t d = reverse ? dim - 1 - s : s;
        int64_t j = (o * dim + d) * inner + in;
        if (a.isFloat()) {
          double x = a.f[j];
          out.f[j] = exclusive ? accF : accF + x;
          accF += x;
        } else {
          int64_t x = a.i[j];
          out.i[j] = exclusive ? accI : accI + x;
          accI += x;
        }
      }
    }
  if (out.kind == Kind::kBool)
    out.kind = Kind::kInt;
  return true;
}

bool range(const Tensor &start, const Tensor &limit, const Tensor &delta, Tensor &out,
           std::string &err) {
  if (start.numel() != 1 || limit.numel() != 1 || delta.numel() != 1) {
    err = "range operands must be scalars";
    return false;
  }
  const bool fl = start.isFloat() || limit.isFloat() || delta.isFloat();
  double s = start.at(0), l = limit.at(0), d = delta.at(0);
  if (d == 0) {
    err = "range delta 0";
    return false;
  }
  int64_t n = std::max<int64_t>(static_cast<int64_t>(std::ceil((l - s) / d)), 0);
  if (n > (int64_t{1} << 26)) {
    err = "range too long to evaluate";
    return false;
  }
  if (fl) {
    std::vector<double> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = s + j * d;
    out = Tensor::floats({n}, std::move(r));
  } else {
    std::vector<int64_t> r(n);
    for (int64_t j = 0; j < n; ++j)
      r[j] = start.i[0] + j * delta.i[0];
    out = Tensor::ints({n}, std::move(r));
  }
  return true;
}

bool trilu(const Tensor &a, int64_t k, bool upper, Tensor &out, std::string &err) {
  if (a.rank() < 2) {
    err = "trilu needs rank >= 2";
    return false;
  }
  out = a;
  const int64_t rows = a.shape[a.rank() - 2], cols = a.shape[a.rank() - 1];
  const int64_t n = a.numel();
  for (int64_t j = 0; j < n; ++j) {
    int64_t c = j % cols, r = (j / cols) % rows;
    bool keep = upper ? (c - r >= k) : (c - r <= k);
    if (!keep) {
      if (a.isFloat())
        out.f[j] = 0;
      else
        out.i[j] = 0;
    }
  }
  return true;
}

bool matmulShape(const std::vector<int64_t> &aIn, const std::vector<int64_t> &bIn,
                 std::vector<int64_t> &out, std::string &err) {
  if (aIn.empty() || bIn.empty()) {
    err = "matmul of a scalar";
    return false;
  }
  std::vector<int64_t> a = aIn, b = bIn;
  if (a.size() == 1)
    a.insert(a.begin(), 1);
  if (b.size() == 1)
    b.push_back(1);
  if (a.back() != b[b.size() - 2]) {
    err = "matmul of " + shapeString(aIn) + " and " + shapeString(bIn) + ": inner dimensions differ";
    return false;
  }
  std::vector<int64_t> batch;
  if (!broadcastShapes(std::vector<int64_t>(a.begin(), a.end() - 2),
                       std::vector<int64_t>(b.begin(), b.end() - 2), batch, err))
    return false;
  out = batch;
  if (aIn.size() > 1)
    out.push_back(a[a.size() - 2]);
  if (bIn.size() > 1)
    out.push_back(b.back());
  return true;
}

bool matmul(const Tensor &aIn, const Tensor &bIn, Tensor &out, std::string &err) {
  std::vector<int64_t> shape;
  if (!matmulShape(aIn.shape, bIn.shape, shape, err))
    return false;
  Tensor a = cast(aIn, Kind::kFloat), b = cast(bIn, Kind::kFloat);
  if (a.rank() == 1)
    a.shape.insert(a.shape.begin(), 1);
  if (b.rank() == 1)
    b.shape.push_back(1);
  const int64_t m = a.shape[a.rank() - 2], k = a.shape.back(), n = b.shape.back();
  std::vector<int64_t> batch;
  broadcastShapes(std::vector<int64_t>(a.shape.begin(), a.shape.end() - 2),
                  std::vector<int64_t>(b.shape.begin(), b.shape.end() - 2), batch, err);
  std::vector<int64_t> ia = broadcastIndex(std::vector<int64_t>(a.shape.begin(), a.shape.end() - 2), batch);
  std::vector<int64_t> ib = broadcastIndex(std::vector<int64_t>(b.shape.begin(), b.shape.end() - 2), batch);
  const int64_t nb = numelOf(batch);
  std::vector<double> r(nb * m * n, 0.0);
  for (int64_t bi = 0; bi < nb; ++bi)
    for (int64_t x = 0; x < m; ++x)
      for (int64_t y = 0; y < n; ++y) {
        double s = 0;
        for (int64_t z = 0; z < k; ++z)
          s += a.f[ia[bi] * m * k + x * k + z] * b.f[ib[bi] * k * n + z * n + y];
        r[(bi * m + x) * n + y] = s;
      }
  out = Tensor::floats(shape, std::move(r));
  if (!aIn.isFloat() && !bIn.isFloat())
    out = cast(out, Kind::kInt);
  return true;
}

}  // namespace llmc::eval
