// BuildUnavailable.cpp - `llmc build` in a runtime-only build (LLMC_BUILD_COMPILER=OFF).
#include "Commands.h"
#include "Report.h"

namespace llmc::cli {

int runBuild(const Args&) {
  return fail(Unsupported("this llmc is a runtime-only build (LLMC_BUILD_COMPILER=OFF): it can run, bench and "
                          "inspect engines but not build them"));
}

}  // namespace llmc::cli
