// GTensor.h - an N-d tensor of the graph interpreter and the index helpers its kernels share.
//
// Value classes as the compiler's evaluator (passes/Raising/EvalTensor.h), so both give the same
// results: every float type is held in double, every integer type and bool in int64. After each
// op the result is rounded to its element type (f32/f16/bf16 precision, integer wrap-around,
// bool 0/1), which is what a kernel working in that type would store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llmc/runtime/GraphProgram.h"
#include "llmc/runtime/Status.h"

namespace llmc::cpu::graph {

struct GTensor {
  GType type = GType::kF32;
  std::vector<int64_t> shape;
  std::vector<double> f;   // float types
  std::vector<int64_t> i;  // integer types, bool

  bool isFloat() const { return gtypeIsFloat(type); }
  int64_t numel() const;
  double at(int64_t j) const { return isFloat() ? f[j] : static_cast<double>(i[j]); }
  int64_t atInt(int64_t j) const { return isFloat() ? static_cast<int64_t>(f[j]) : i[j]; }
  // Allocates storage for `shape` in the class of `type`.
  static GTensor make(GType type, std::vector<int64_t> shape);
};

int64_t numelOf(const std::vector<int64_t>& shape);
std::vector<int64_t> stridesOf(const std::vector<int64_t>& shape);
std::string shapeStr(const std::vector<int64_t>& shape);
bool normAxis(int64_t& axis, int64_t rank);
// numpy broadcasting; false when the shapes do not broadcast.
bool broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b, std::vector<int64_t>* out);
// For each flat index of `out`, the flat index into the (right-aligned, broadcast) shape `in`.
std::vector<int64_t> broadcastIndex(const std::vector<int64_t>& in, const std::vector<int64_t>& out);

// Rounds / wraps every element to t.type's precision.
void roundToType(GTensor& t);
// Converts to another element type (float -> int truncates toward zero; -> bool is != 0).
GTensor castTo(const GTensor& a, GType to);
// Decodes little-endian element bytes of `type` / encodes them (constants, .npy, weights).
GTensor fromBytes(GType type, std::vector<int64_t> shape, const uint8_t* data);
void toBytes(const GTensor& t, std::vector<uint8_t>* out);

}  // namespace llmc::cpu::graph
