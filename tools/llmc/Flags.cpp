// Flags.cpp - strict command-line flag parsing (see Flags.h).
#include "Flags.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace llmc::cli {
namespace {

std::vector<std::string> splitNames(const std::string& names) {
  std::vector<std::string> out;
  std::stringstream ss(names);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

bool parseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool parseDouble(const std::string& s, double* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string formatNumber(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

}  // namespace

void Flags::add(const std::string& names, Kind kind, void* out, const std::string& help, double min,
                double max) {
  specs_.push_back(Spec{kind, names, help, out, min, max});
  for (const auto& n : splitNames(names)) byName_[n] = specs_.size() - 1;
}

void Flags::addBool(const std::string& names, bool* out, const std::string& help) {
  add(names, Kind::kBool, out, help, 0, 0);
}
void Flags::addString(const std::string& names, std::string* out, const std::string& help) {
  add(names, Kind::kString, out, help, 0, 0);
}
void Flags::addStrings(const std::string& names, std::vector<std::string>* out, const std::string& help) {
  add(names, Kind::kStrings, out, help, 0, 0);
}
void Flags::addInt(const std::string& names, int64_t* out, int64_t min, int64_t max, const std::string& help) {
  add(names, Kind::kInt, out, help, static_cast<double>(min), static_cast<double>(max));
}
void Flags::addDouble(const std::string& names, double* out, double min, double max, const std::string& help) {
  add(names, Kind::kDouble, out, help, min, max);
}

Status Flags::assign(Spec& spec, const std::string& flag, const std::string& value) {
  switch (spec.kind) {
    case Kind::kBool:
      *static_cast<bool*>(spec.out) = true;
      return Status::Ok();
    case Kind::kString:
      *static_cast<std::string*>(spec.out) = value;
      return Status::Ok();
    case Kind::kStrings:
      static_cast<std::vector<std::string>*>(spec.out)->push_back(value);
      return Status::Ok();
    case Kind::kInt: {
      int64_t v = 0;
      if (!parseInt(value, &v))
        return InvalidArgument(flag + ": expected an integer, got '" + value + "'");
      if (v < spec.min || v > spec.max)
        return InvalidArgument(flag + ": " + value + " is out of range [" + formatNumber(spec.min) + ", " +
                               formatNumber(spec.max) + "]");
      *static_cast<int64_t*>(spec.out) = v;
      return Status::Ok();
    }
    case Kind::kDouble: {
      double v = 0;
      if (!parseDouble(value, &v))
        return InvalidArgument(flag + ": expected a number, got '" + value + "'");
      if (v < spec.min || v > spec.max)
        return InvalidArgument(flag + ": " + value + " is out of range [" + formatNumber(spec.min) + ", " +
                               formatNumber(spec.max) + "]");
      *static_cast<double*>(spec.out) = v;
      return Status::Ok();
    }
  }
  return Internal("unreachable flag kind");
}

Status Flags::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positionals_.insert(positionals_.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positionals_.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    bool hasInlineValue = false;
    if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasInlineValue = true;
    }
    auto it = byName_.find(name);
    if (it == byName_.end()) return InvalidArgument("unknown flag '" + name + "' (see --help)");
    Spec& spec = specs_[it->second];
    if (spec.kind == Kind::kBool) {
      if (hasInlineValue) return InvalidArgument(name + " takes no value");
    } else if (!hasInlineValue) {
      if (i + 1 >= args.size()) return InvalidArgument(name + " needs a value");
      value = args[++i];
    }
    LLMC_RETURN_IF_ERROR(assign(spec, name, value));
    given_.push_back(splitNames(spec.names).front());
  }
  return Status::Ok();
}

bool Flags::given(const std::string& longName) const {
  for (const auto& g : given_)
    if (g == longName) return true;
  return false;
}

std::string Flags::help() const {
  std::ostringstream os;
  for (const auto& s : specs_) {
    std::string left = "  " + s.names;
    if (s.kind != Kind::kBool) left += s.kind == Kind::kInt ? " N" : (s.kind == Kind::kDouble ? " X" : " VALUE");
    if (left.size() < 30) left.resize(30, ' ');
    else left += "  ";
    os << left << s.help << "\n";
  }
  return os.str();
}

Status parseIdList(const std::string& flag, const std::string& text, std::vector<int32_t>* ids) {
  ids->clear();
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int64_t v = 0;
    if (!parseInt(item, &v) || v < 0 || v > INT32_MAX)
      return InvalidArgument(flag + ": '" + item + "' is not a token id (expected e.g. 1,403,407)");
    ids->push_back(static_cast<int32_t>(v));
  }
  if (ids->empty()) return InvalidArgument(flag + ": empty id list");
  return Status::Ok();
}

}  // namespace llmc::cli
