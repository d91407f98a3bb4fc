// JsonUtil.h - typed, non-throwing reads from nlohmann::json for the engine parsers (internal).
//
// Every getter checks presence and type and returns a Status naming the JSON path ("program.steps[3]
// .attrs.eps: expected a number"). Optional getters leave *out untouched when the key is absent.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmc/runtime/Status.h"

namespace llmc::json_util {

using nlohmann::json;

inline Status typeError(const std::string& where, const char* expected) {
  return InvalidArgument(where + ": expected " + expected);
}

inline bool isInteger(const json& v) {
  if (v.is_number_integer()) return true;
  // Integral floats (1.0) are accepted: some JSON writers do not distinguish.
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15;
  }
  return false;
}

inline int64_t asInt(const json& v) {
  return v.is_number_integer() ? v.get<int64_t>() : static_cast<int64_t>(v.get<double>());
}

inline Status readInt(const json& v, const std::string& where, int64_t* out) {
  if (!isInteger(v)) return typeError(where, "an integer");
  *out = asInt(v);
  return Status::Ok();
}

inline Status readFloat(const json& v, const std::string& where, double* out) {
  if (!v.is_number()) return typeError(where, "a number");
  *out = v.get<double>();
  return Status::Ok();
}

inline Status readBool(const json& v, const std::string& where, bool* out) {
  if (!v.is_boolean()) return typeError(where, "true or false");
  *out = v.get<bool>();
  return Status::Ok();
}

inline Status readString(const json& v, const std::string& where, std::string* out) {
  if (!v.is_string()) return typeError(where, "a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

inline Status readIntArray(const json& v, const std::string& where, std::vector<int64_t>* out) {
  if (!v.is_array()) return typeError(where, "an array of integers");
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!isInteger(v[i])) return typeError(where + "[" + std::to_string(i) + "]", "an integer");
    out->push_back(asInt(v[i]));
  }
  return Status::Ok();
}

inline Status readFloatArray(const json& v, const std::string& where, std::vector<float>* out) {
  if (!v.is_array()) return typeError(where, "an array of numbers");
  out->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number()) return typeError(where + "[" + std::to_string(i) + "]", "a number");
    out->push_back(static_cast<float>(v[i].get<double>()));
  }
  return Status::Ok();
}

// Member access on an object: `obj` must be an object (checked by the caller).
inline const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

inline Status requireObject(const json& v, const std::string& where) {
  if (!v.is_object()) return typeError(where, "an object");
  return Status::Ok();
}

inline Status missing(const std::string& where) { return InvalidArgument(where + ": missing"); }

}  // namespace llmc::json_util
