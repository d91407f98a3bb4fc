//===- ConfigReader.cpp - typed, non-throwing access to a config JSON -----===//
//
// Owned by the compiler (cc).
//
//===----------------------------------------------------------------------===//
#include "llmc/Models/ConfigReader.h"

#include <cmath>

namespace llmc::models {

using nlohmann::json;

static const char *typeName(const json &v) { return v.type_name(); }

const json *ConfigReader::find(const std::string &key) const {
  if (!root_.is_object())
    return nullptr;
  auto it = root_.find(key);
  if (it == root_.end() || it->is_null())
    return nullptr;
  return &*it;
}

Status ConfigReader::error(const std::string &message) const {
  return InvalidArgument(fileName_ + ": " + message);
}

Status ConfigReader::asInt(const json &v, const std::string &what, int64_t *out) const {
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return Status::Ok();
  }
  // Some exporters write integral values as floats (64.0); accept those, nothing else.
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      *out = static_cast<int64_t>(d);
      return Status::Ok();
    }
  }
  return error(what + " must be an integer, got " + typeName(v) + " " + v.dump());
}

Status ConfigReader::asDouble(const json &v, const std::string &what, double *out) const {
  if (v.is_number()) {
    *out = v.get<double>();
    return Status::Ok();
  }
  return error(what + " must be a number, got " + typeName(v) + " " + v.dump());
}

Status ConfigReader::requireInt(const std::string &key, int64_t *out) const {
  const json *v = find(key);
  if (!v)
    return error("missing required key '" + key + "'");
  return asInt(*v, "key '" + key + "'", out);
}

Status ConfigReader::optionalInt(const std::string &key, int64_t *out) const {
  const json *v = find(key);
  return v ? asInt(*v, "key '" + key + "'", out) : Status::Ok();
}

Status ConfigReader::optionalDouble(const std::string &key, double *out) const {
  const json *v = find(key);
  return v ? asDouble(*v, "key '" + key + "'", out) : Status::Ok();
}

Status ConfigReader::optionalBool(const std::string &key, bool *out) const {
  const json *v = find(key);
  if (!v)
    return Status::Ok();
  if (!v->is_boolean())
    return error("key '" + key + "' must be true or false, got " + typeName(*v) + " " + v->dump());
  *out = v->get<bool>();
  return Status::Ok();
}

Status ConfigReader::optionalString(const std::string &key, std::string *out) const {
  const json *v = find(key);
  if (!v)
    return Status::Ok();
  if (!v->is_string())
    return error("key '" + key + "' must be a string, got " + typeName(*v) + " " + v->dump());
  *out = v->get<std::string>();
  return Status::Ok();
}

Status ConfigReader::optionalStringList(const std::string &key,
                                        std::vector<std::string> *out) const {
  const json *v = find(key);
  if (!v)
    return Status::Ok();
  if (!v->is_array())
    return error("key '" + key + "' must be a list of strings, got " + typeName(*v));
  std::vector<std::string> items;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string())
      return error("key '" + key + "'[" + std::to_string(i) + "] must be a string");
    items.push_back((*v)[i].get<std::string>());
  }
  *out = std::move(items);
  return Status::Ok();
}

Status ConfigReader::optionalIntOrList(const std::string &key, std::vector<int64_t> *out) const {
  const json *v = find(key);
  if (!v)
    return Status::Ok();
  std::vector<int64_t> ids;
  if (v->is_array()) {
    for (size_t i = 0; i < v->size(); ++i) {
      int64_t id;
      LLMC_RETURN_IF_ERROR(asInt((*v)[i], "key '" + key + "'[" + std::to_string(i) + "]", &id));
      ids.push_back(id);
    }
  } else {
    int64_t id;
    LLMC_RETURN_IF_ERROR(asInt(*v, "key '" + key + "'", &id));
    ids.push_back(id);
  }
  *out = std::move(ids);
  return Status::Ok();
}

}  // namespace llmc::models
