// GraphElementwise.cpp - unary, binary (numpy broadcasting) and where kernels.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "GraphKernels.h"

namespace llmc::cpu::graph {

namespace {

bool isComparison(const std::string& fn) {
  return fn == "eq" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge";
}
bool isLogical(const std::string& fn) { return fn == "and" || fn == "or" || fn == "xor"; }

double floatOp(const std::string& fn, double x, double y) {
  if (fn == "add") return x + y;
  if (fn == "sub") return x - y;
  if (fn == "mul") return x * y;
  if (fn == "div") return x / y;
  if (fn == "pow") return std::pow(x, y);
  if (fn == "max") return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y);
  if (fn == "min") return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y);
  if (fn == "mod") return std::fmod(x, y);
  if (fn == "eq") return x == y;
  if (fn == "lt") return x < y;
  if (fn == "le") return x <= y;
  if (fn == "gt") return x > y;
  return x >= y;  // ge
}

Status intOp(const std::string& fn, int64_t x, int64_t y, int64_t* r) {
  if (fn == "add") *r = static_cast<int64_t>(static_cast<uint64_t>(x) + static_cast<uint64_t>(y));
  else if (fn == "sub") *r = static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y));
  else if (fn == "mul") *r = static_cast<int64_t>(static_cast<uint64_t>(x) * static_cast<uint64_t>(y));
  else if (fn == "div") {
    if (y == 0) return InvalidArgument("integer division by zero");
    *r = x / y;  // truncates, as ONNX integer Div
  } else if (fn == "pow") {
    *r = static_cast<int64_t>(std::pow(static_cast<double>(x), static_cast<double>(y)));
  } else if (fn == "max") *r = std::max(x, y);
  else if (fn == "min") *r = std::min(x, y);
  else if (fn == "mod") {
    if (y == 0) return InvalidArgument("integer modulo by zero");
    *r = x % y;
    if (*r != 0 && ((*r < 0) != (y < 0))) *r += y;  // fmod=0: the sign follows the divisor
  } else if (fn == "and") *r = x && y;
  else if (fn == "or") *r = x || y;
  else if (fn == "xor") *r = !x != !y;
  else if (fn == "eq") *r = x == y;
  else if (fn == "lt") *r = x < y;
  else if (fn == "le") *r = x <= y;
  else if (fn == "gt") *r = x > y;
  else *r = x >= y;
  return Status::Ok();
}

// Finishes a result computed in its value class: converts to the declared type and rounds.
void finish(GTensor&& r, GType type, GTensor* out) {
  *out = r.type == type ? std::move(r) : castTo(r, type);
  roundToType(*out);
}

}  // namespace

Status binaryK(const std::string& fn, const GTensor& a, const GTensor& b, GType type, GTensor* out) {
  std::vector<int64_t> shape;
  if (!broadcast(a.shape, b.shape, &shape))
    return InvalidArgument("shapes " + shapeStr(a.shape) + " and " + shapeStr(b.shape) + " do not broadcast");
  const std::vector<int64_t> ia = broadcastIndex(a.shape, shape), ib = broadcastIndex(b.shape, shape);
  const int64_t n = numelOf(shape);
  const bool floatMath = a.isFloat() || b.isFloat();
  if (isLogical(fn) && floatMath) return InvalidArgument("'" + fn + "' needs boolean operands");
  if (floatMath) {
    if (isComparison(fn)) {
      GTensor r = GTensor::make(GType::kBool, shape);
      for (int64_t j = 0; j < n; ++j) r.i[j] = floatOp(fn, a.at(ia[j]), b.at(ib[j])) != 0.0;
      finish(std::move(r), type, out);
    } else {
      GTensor r = GTensor::make(GType::kF64, shape);
      for (int64_t j = 0; j < n; ++j) r.f[j] = floatOp(fn, a.at(ia[j]), b.at(ib[j]));
      finish(std::move(r), type, out);
    }
    return Status::Ok();
  }
  GTensor r = GTensor::make(GType::kI64, shape);
  for (int64_t j = 0; j < n; ++j) LLMC_RETURN_IF_ERROR(intOp(fn, a.i[ia[j]], b.i[ib[j]], &r.i[j]));
  finish(std::move(r), type, out);
  return Status::Ok();
}

Status unaryK(const std::string& fn, const GTensor& a, GType type, GTensor* out) {
  const int64_t n = a.numel();
  if (fn == "identity") {
    GTensor r = a;
    finish(std::move(r), type, out);
    return Status::Ok();
  }
  if (fn == "not" || fn == "isnan" || fn == "isinf") {
    if (fn == "not" && a.isFloat()) return InvalidArgument("'not' needs a boolean operand");
    GTensor r = GTensor::make(GType::kBool, a.shape);
    for (int64_t j = 0; j < n; ++j) {
      if (fn == "not") r.i[j] = !a.i[j];
      else r.i[j] = a.isFloat() && (fn == "isnan" ? std::isnan(a.f[j]) : std::isinf(a.f[j]));
    }
    finish(std::move(r), type, out);
    return Status::Ok();
  }
  if (!a.isFloat()) {
    GTensor r = GTensor::make(GType::kI64, a.shape);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t x = a.i[j];
      if (fn == "neg") r.i[j] = -x;
      else if (fn == "abs") r.i[j] = x < 0 ? -x : x;
      else if (fn == "relu") r.i[j] = std::max<int64_t>(x, 0);
      else if (fn == "floor" || fn == "ceil") r.i[j] = x;
      else return InvalidArgument("'" + fn + "' needs a floating-point operand");
    }
    finish(std::move(r), type, out);
    return Status::Ok();
  }
  GTensor r = GTensor::make(GType::kF64, a.shape);
  for (int64_t j = 0; j < n; ++j) {
    const double x = a.f[j];
    double y;
    if (fn == "neg") y = -x;
    else if (fn == "sqrt") y = std::sqrt(x);
    else if (fn == "reciprocal") y = 1.0 / x;
    else if (fn == "exp") y = std::exp(x);
    else if (fn == "log") y = std::log(x);
    else if (fn == "sigmoid") y = 1.0 / (1.0 + std::exp(-x));
    else if (fn == "tanh") y = std::tanh(x);
    else if (fn == "erf") y = std::erf(x);
    else if (fn == "cos") y = std::cos(x);
    else if (fn == "sin") y = std::sin(x);
    else if (fn == "abs") y = std::fabs(x);
    else if (fn == "relu") y = std::isnan(x) ? x : std::max(x, 0.0);
    else if (fn == "floor") y = std::floor(x);
    else if (fn == "ceil") y = std::ceil(x);
    else return InvalidArgument("unknown unary function '" + fn + "'");
    r.f[j] = y;
  }
  finish(std::move(r), type, out);
  return Status::Ok();
}

Status whereK(const GTensor& c, const GTensor& a, const GTensor& b, GType type, GTensor* out) {
  std::vector<int64_t> s1, shape;
  if (!broadcast(c.shape, a.shape, &s1) || !broadcast(s1, b.shape, &shape))
    return InvalidArgument("where: shapes " + shapeStr(c.shape) + ", " + shapeStr(a.shape) + ", " +
                           shapeStr(b.shape) + " do not broadcast");
  const std::vector<int64_t> ic = broadcastIndex(c.shape, shape), ia = broadcastIndex(a.shape, shape),
                             ib = broadcastIndex(b.shape, shape);
  const int64_t n = numelOf(shape);
  if (a.isFloat() || b.isFloat()) {
    GTensor r = GTensor::make(GType::kF64, shape);
    for (int64_t j = 0; j < n; ++j) r.f[j] = c.at(ic[j]) != 0.0 ? a.at(ia[j]) : b.at(ib[j]);
    finish(std::move(r), type, out);
  } else {
    GTensor r = GTensor::make(GType::kI64, shape);
    for (int64_t j = 0; j < n; ++j) r.i[j] = c.at(ic[j]) != 0.0 ? a.i[ia[j]] : b.i[ib[j]];
    finish(std::move(r), type, out);
  }
  return Status::Ok();
}

}  // namespace llmc::cpu::graph
