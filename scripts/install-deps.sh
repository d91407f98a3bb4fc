#!/usr/bin/env bash
# Installs everything llmc needs to build and test on Debian bookworm (run as root), then the Python
# oracle venv. Idempotent: a second run installs nothing new.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=(
  build-essential cmake ninja-build ccache git python3 python3-venv pkg-config
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools        # MLIR 19, FileCheck, lit
  libonnx-dev libprotobuf-dev protobuf-compiler libabsl-dev     # ONNX import
  libgtest-dev libgmock-dev                                     # unit tests
  libopenblas-dev nlohmann-json3-dev libxxhash-dev              # runtime: CPU BLAS, JSON, checksums
  libpcre2-dev libutf8proc-dev                                  # tokenizer: regex, NFC
  zlib1g-dev libzstd-dev libedit-dev libcurl4-openssl-dev libxml2-dev  # link deps of Debian's LLVM
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The CUDA toolkit is optional: with /usr/local/cuda present the CUDA backend and codegen are built.
"$here/setup-python.sh"
