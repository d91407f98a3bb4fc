// JsonFields.cpp - typed access to tokenizer.json fields with errors naming the component.
#include "Components.h"

namespace llmc::tok {

Status getString(const json& j, const char* key, const std::string& where, std::string* out,
                 bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (!required) return Status::Ok();
    return InvalidArgument(where + ": missing field '" + key + "'");
  }
  if (!it->is_string()) return InvalidArgument(where + ": field '" + key + "' must be a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

Status getComponentType(const json& j, const std::string& where, std::string* type, std::string* at) {
  if (!j.is_object()) return InvalidArgument(where + ": must be an object");
  LLMC_RETURN_IF_ERROR(getString(j, "type", where, type));
  *at = where + " (" + *type + ")";
  return Status::Ok();
}

Status getBool(const json& j, const char* key, const std::string& where, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();  // keep the default
  if (!it->is_boolean()) return InvalidArgument(where + ": field '" + key + "' must be a boolean");
  *out = it->get<bool>();
  return Status::Ok();
}

Status getInt(const json& j, const char* key, const std::string& where, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) {
    return InvalidArgument(where + ": field '" + key + "' must be an integer");
  }
  *out = it->get<int64_t>();
  return Status::Ok();
}

Status getPattern(const json& j, const std::string& where, Pattern* out) {
  auto it = j.find("pattern");
  if (it == j.end() || !it->is_object()) {
    return InvalidArgument(where + ": field 'pattern' must be an object {\"String\"|\"Regex\": ...}");
  }
  if (auto s = it->find("String"); s != it->end() && s->is_string()) {
    out->isRegex = false;
    out->text = s->get<std::string>();
    return Status::Ok();
  }
  if (auto r = it->find("Regex"); r != it->end() && r->is_string()) {
    out->isRegex = true;
    out->text = r->get<std::string>();
    return Status::Ok();
  }
  return InvalidArgument(where + ": field 'pattern' must hold a string 'String' or 'Regex'");
}

}  // namespace llmc::tok
