// GTensor.cpp - storage, rounding, casts and byte conversion of interpreter tensors.
#include "GTensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "llmc/runtime/HalfFloat.h"

namespace llmc::cpu::graph {

int64_t numelOf(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t GTensor::numel() const { return numelOf(shape); }

GTensor GTensor::make(GType type, std::vector<int64_t> shape) {
  GTensor t;
  t.type = type;
  t.shape = std::move(shape);
  if (t.isFloat()) t.f.assign(t.numel(), 0.0);
  else t.i.assign(t.numel(), 0);
  return t;
}

std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t k = static_cast<int64_t>(shape.size()) - 2; k >= 0; --k) s[k] = s[k + 1] * shape[k + 1];
  return s;
}

std::string shapeStr(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) s += (k ? ", " : "") + std::to_string(shape[k]);
  return s + "]";
}

bool normAxis(int64_t& axis, int64_t rank) {
  if (axis < 0) axis += rank;
  return axis >= 0 && axis < rank;
}

bool broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out) {
  const size_t r = std::max(a.size(), b.size());
  out->assign(r, 1);
  for (size_t k = 0; k < r; ++k) {
    const int64_t da = k < r - a.size() ? 1 : a[k - (r - a.size())];
    const int64_t db = k < r - b.size() ? 1 : b[k - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[k] = da == 1 ? db : da;
  }
  return true;
}

std::vector<int64_t> broadcastIndex(const std::vector<int64_t>& in, const std::vector<int64_t>& out) {
  const int64_t n = numelOf(out);
  std::vector<int64_t> idx(n);
  const std::vector<int64_t> inStr = stridesOf(in);
  const size_t off = out.size() - in.size();
  std::vector<int64_t> coord(out.size(), 0);
  for (int64_t j = 0; j < n; ++j) {
    int64_t flat = 0;
    for (size_t k = 0; k < in.size(); ++k) flat += (in[k] == 1 ? 0 : coord[k + off]) * inStr[k];
    idx[j] = flat;
    for (int64_t k = static_cast<int64_t>(out.size()) - 1; k >= 0; --k) {
      if (++coord[k] < out[k]) break;
      coord[k] = 0;
    }
  }
  return idx;
}

void roundToType(GTensor& t) {
  switch (t.type) {
    case GType::kF32: for (double& x : t.f) x = static_cast<float>(x); break;
    case GType::kF16: for (double& x : t.f) x = f16ToFloat(floatToF16(static_cast<float>(x))); break;
    case GType::kBF16: for (double& x : t.f) x = bf16ToFloat(floatToBf16(static_cast<float>(x))); break;
    case GType::kF64: break;
    case GType::kI8: for (int64_t& x : t.i) x = static_cast<int8_t>(x); break;
    case GType::kI16: for (int64_t& x : t.i) x = static_cast<int16_t>(x); break;
    case GType::kI32: for (int64_t& x : t.i) x = static_cast<int32_t>(x); break;
    case GType::kU8: for (int64_t& x : t.i) x = static_cast<uint8_t>(x); break;
    case GType::kU16: for (int64_t& x : t.i) x = static_cast<uint16_t>(x); break;
    case GType::kU32: for (int64_t& x : t.i) x = static_cast<uint32_t>(x); break;
    case GType::kBool: for (int64_t& x : t.i) x = x != 0; break;
    default: break;  // i64, u64 (held as its bit pattern)
  }
}

GTensor castTo(const GTensor& a, GType to) {
  GTensor r = GTensor::make(to, a.shape);
  const int64_t n = a.numel();
  if (r.isFloat()) {
    for (int64_t j = 0; j < n; ++j) r.f[j] = a.at(j);
  } else if (to == GType::kBool) {
    for (int64_t j = 0; j < n; ++j) r.i[j] = a.at(j) != 0.0;
  } else if (a.isFloat()) {
    for (int64_t j = 0; j < n; ++j) {
      const double x = std::trunc(a.f[j]);
      r.i[j] = std::isfinite(x) ? static_cast<int64_t>(std::clamp(x, -9.2e18, 9.2e18)) : 0;
    }
  } else {
    r.i = a.i;
  }
  roundToType(r);
  return r;
}

GTensor fromBytes(GType type, std::vector<int64_t> shape, const uint8_t* p) {
  GTensor t = GTensor::make(type, std::move(shape));
  const int64_t n = t.numel();
  for (int64_t j = 0; j < n; ++j) {
    const uint8_t* e = p + j * gtypeBytes(type);
    auto rd = [&](auto v) {
      std::memcpy(&v, e, sizeof(v));
      return v;
    };
    switch (type) {
      case GType::kF32: t.f[j] = rd(float()); break;
      case GType::kF64: t.f[j] = rd(double()); break;
      case GType::kF16: t.f[j] = f16ToFloat(rd(uint16_t())); break;
      case GType::kBF16: t.f[j] = bf16ToFloat(rd(uint16_t())); break;
      case GType::kI8: t.i[j] = rd(int8_t()); break;
      case GType::kI16: t.i[j] = rd(int16_t()); break;
      case GType::kI32: t.i[j] = rd(int32_t()); break;
      case GType::kI64: t.i[j] = rd(int64_t()); break;
      case GType::kU8: t.i[j] = rd(uint8_t()); break;
      case GType::kU16: t.i[j] = rd(uint16_t()); break;
      case GType::kU32: t.i[j] = rd(uint32_t()); break;
      case GType::kU64: t.i[j] = static_cast<int64_t>(rd(uint64_t())); break;
      case GType::kBool: t.i[j] = rd(uint8_t()) != 0; break;
    }
  }
  return t;
}

void toBytes(const GTensor& t, std::vector<uint8_t>* out) {
  const size_t eb = gtypeBytes(t.type);
  const int64_t n = t.numel();
  out->assign(static_cast<size_t>(n) * eb, 0);
  for (int64_t j = 0; j < n; ++j) {
    uint8_t* e = out->data() + j * eb;
    auto wr = [&](auto v) { std::memcpy(e, &v, sizeof(v)); };
    switch (t.type) {
      case GType::kF32: wr(static_cast<float>(t.f[j])); break;
      case GType::kF64: wr(t.f[j]); break;
      case GType::kF16: wr(floatToF16(static_cast<float>(t.f[j]))); break;
      case GType::kBF16: wr(floatToBf16(static_cast<float>(t.f[j]))); break;
      case GType::kI8: case GType::kU8: case GType::kBool: wr(static_cast<uint8_t>(t.i[j])); break;
      case GType::kI16: case GType::kU16: wr(static_cast<uint16_t>(t.i[j])); break;
      case GType::kI32: case GType::kU32: wr(static_cast<uint32_t>(t.i[j])); break;
      default: wr(t.i[j]); break;
    }
  }
}

}  // namespace llmc::cpu::graph
