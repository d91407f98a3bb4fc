#!/usr/bin/env bash
# The test command: installs every dependency, builds, and runs every test (ctest: GoogleTest units,
# lit/FileCheck, Python oracle tests; GPU tests skip visibly where there is no device).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "${LLMC_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "${LLMC_JOBS:-$(nproc)}" --timeout 1800
