#!/usr/bin/env bash
# Configures and builds llmc into build/ (binaries in build/bin). Extra arguments go to cmake.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LLMC_BUILD_DIR:-$root/build}
jobs=${LLMC_JOBS:-$(nproc)}
# Relative paths in ccache keys: a fresh clone elsewhere (CI) reuses the objects compiled here.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build" -j "$jobs"
