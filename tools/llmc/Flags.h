// Flags.h - strict command-line flag parsing for the llmc tool.
//
// Every flag is declared with its type before parsing; an unknown flag, a missing value or a value
// that does not parse (or is out of its range) is one clear error naming the flag. Positional
// arguments are collected in order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "llmc/runtime/Status.h"

namespace llmc::cli {

class Flags {
 public:
  // Declarations. `names` is "--long" or "--long,-s". Booleans take no value.
  void addBool(const std::string& names, bool* out, const std::string& help);
  void addString(const std::string& names, std::string* out, const std::string& help);
  void addStrings(const std::string& names, std::vector<std::string>* out, const std::string& help);
  void addInt(const std::string& names, int64_t* out, int64_t min, int64_t max, const std::string& help);
  void addDouble(const std::string& names, double* out, double min, double max, const std::string& help);

  // Parses args (without the program and subcommand names). Positionals go to positionals().
  Status parse(const std::vector<std::string>& args);
  const std::vector<std::string>& positionals() const { return positionals_; }
  // True when the flag was given on the command line.
  bool given(const std::string& longName) const;
  // "  --flag VALUE   help" lines for usage text.
  std::string help() const;

 private:
  enum class Kind { kBool, kString, kStrings, kInt, kDouble };
  struct Spec {
    Kind kind;
    std::string names;
    std::string help;
    void* out;
    double min = 0, max = 0;
  };
  void add(const std::string& names, Kind kind, void* out, const std::string& help, double min, double max);
  Status assign(Spec& spec, const std::string& flag, const std::string& value);

  std::vector<Spec> specs_;
  std::map<std::string, size_t> byName_;  // every alias -> index into specs_
  std::vector<std::string> given_;
  std::vector<std::string> positionals_;
};

// Parses "1,403,407" into ids; an empty or malformed list is an error naming `flag`.
Status parseIdList(const std::string& flag, const std::string& text, std::vector<int32_t>* ids);

}  // namespace llmc::cli
