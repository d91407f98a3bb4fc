#!/usr/bin/env bash
# build-carry.sh - builds HERE (no GPU needed) everything scripts/gpu/device-batch.sh runs on the GPU
# machine, and stages it in .gpu/ (git-ignored; the lead carries it with the device call).
#
#   scripts/gpu/build-carry.sh            # runtime-only build (no MLIR): the GPU tests and llmc-gpu-check
#   LLMC_BUILD_COMPILER=ON scripts/gpu/build-carry.sh   # also `llmc` with the compiler, when it links statically
#
# The binaries link libstdc++/libgcc and third-party libraries statically (-DLLMC_STATIC_RUNTIME=ON);
# only glibc, libnvrtc and libcublasLt may stay dynamic (the GPU machine has CUDA 13 but none of
# MLIR/absl/protobuf/openblas/xxhash/pcre2). The CUDA runtime is cudart_static, which loads
# libcuda.so.1 itself. The script fails when ldd shows anything else.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-gpu}
STAGE=$ROOT/.gpu
JOBS=${JOBS:-2}

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLMC_STATIC_RUNTIME=ON -DLLMC_ENABLE_CUDA=ON \
  -DLLMC_BUILD_COMPILER="${LLMC_BUILD_COMPILER:-OFF}" >/dev/null
TARGETS=(llmc_gpu_kernel_tests llmc_gpu_backend_tests llmc_cuda_codegen_test llmc-gpu-check)
# llmc itself when it is part of this build (runtime-only or with the compiler).
ALL_TARGETS=$(ninja -C "$BUILD" -t targets all 2>/dev/null || true)
if grep -q '^llmc:' <<<"$ALL_TARGETS"; then TARGETS+=(llmc); fi
# llmc-import-onnx --list-ops: the claimed ops of the GPU conformance run (tests/conformance).
if grep -q '^llmc-import-onnx:' <<<"$ALL_TARGETS"; then TARGETS+=(llmc-import-onnx); fi
ninja -C "$BUILD" -j"$JOBS" "${TARGETS[@]}"

rm -rf "$STAGE/bin"
mkdir -p "$STAGE/bin"
for t in "${TARGETS[@]}"; do
  cp "$BUILD/bin/$t" "$STAGE/bin/$t"
  strip --strip-unneeded "$STAGE/bin/$t"
done

# Only these may be direct dynamic dependencies (ELF NEEDED): glibc's parts, the loader, NVRTC and
# cuBLASLt (CUDA 13 is installed on the GPU machine; what they need themselves comes with them).
ALLOWED='^(libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so|ld-linux-x86-64\.so|libnvrtc\.so|libcublasLt\.so|libonnx_proto\.so|libprotobuf\.so)'
# Debian ships ONNX's protobuf classes only as a shared library: llmc (with the compiler) carries
# libonnx_proto and libprotobuf in .gpu/lib, found through LD_LIBRARY_PATH on the GPU machine.
mkdir -p "$STAGE/lib"
for lib in libonnx_proto.so.1 libprotobuf.so.32; do
  cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$STAGE/lib/$lib"
done
bad=0
{
  echo "llmc GPU carry, built $(date -u +%FT%TZ) from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "CUDA toolkit: $(/usr/local/cuda/bin/nvcc --version | tail -1)"
  for t in "${TARGETS[@]}"; do
    echo "== $t ($(du -h "$STAGE/bin/$t" | cut -f1)); NEEDED:"
    readelf -d "$STAGE/bin/$t" | awk '/NEEDED/ {print "  " $NF}'
  done
} > "$STAGE/MANIFEST"
for t in "${TARGETS[@]}"; do
  for lib in $(readelf -d "$STAGE/bin/$t" | awk '/NEEDED/ {gsub(/[][]/, "", $NF); print $NF}'); do
    if ! [[ "$lib" =~ $ALLOWED ]]; then
      echo "build-carry: $t needs $lib dynamically (not on the GPU machine)" >&2
      bad=1
    fi
  done
done
cp "$ROOT/scripts/gpu/device-batch.sh" "$STAGE/" 2>/dev/null || true
du -sh "$STAGE"
if [[ $bad -ne 0 ]]; then
  echo "build-carry: FAILED the dynamic-library check (see $STAGE/MANIFEST)" >&2
  exit 1
fi
echo "build-carry: staged ${TARGETS[*]} in $STAGE (carry '.gpu'; run scripts/gpu/device-batch.sh there)"
