// Report.h - how the llmc tool reports a failed Status: one line on stderr, exit 2 (input) or 1 (ours).
#pragma once

#include <cstdio>
#include <string>

#include "llmc/runtime/Status.h"

namespace llmc::cli {

inline int fail(const Status& status) {
  std::fprintf(stderr, "llmc: error: %s\n", status.message().c_str());
  return status.exitCode();
}

// Prints `usage` and the flags' help, for --help.
inline int printHelp(const std::string& usage, const std::string& flagsHelp) {
  std::printf("%s\n\nOptions:\n%s", usage.c_str(), flagsHelp.c_str());
  return 0;
}

}  // namespace llmc::cli
