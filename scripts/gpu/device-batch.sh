#!/usr/bin/env bash
# device-batch.sh - the ONE command to run on the GPU machine (from the repository root), with the
# binaries built here by scripts/gpu/build-carry.sh carried in .gpu/:
#
#   bash scripts/gpu/device-batch.sh            # logs and JSON under $OUT (or ./gpu-out)
#   QUICK=1 bash scripts/gpu/device-batch.sh    # smaller bandwidth buffers, fewer repetitions
#
# Steps (each logged to $OUT; a failing step does not stop the later ones; the exit code is the
# number of failed steps):
#   1. environment: nvidia-smi, driver, the carry's MANIFEST, ldd of every binary;
#   2. `ctest -L gpu` over the carried test binaries (kernels vs float64, CudaBackend end to end),
#      plus the `cuda` label (NVRTC codegen);
#   3. llmc-gpu-check: read bandwidth, cuBLASLt bf16 GEMM rate, GEMV at 7B shapes (% of bandwidth);
#   3b. compute-sanitizer memcheck/racecheck on small cases (SANITIZE=0 skips);
#   4. when .gpu/engines/*.engine exist (built here with `llmc build --gpu-arch ...`) and .gpu/bin/llmc
#      does: `llmc bench --device cuda` on each, and `llmc run` on stories260K.engine;
#   5. a summary table, printed last.
# It never changes the GPU's settings (clocks, power, MIG, persistence): METHOD.md.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}  # carried libonnx_proto/libprotobuf
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}   # NVRTC kernel cache of the tests
export PATH=/usr/local/cuda/bin:$PATH
QUICK_FLAG=()
[[ "${QUICK:-0}" != 0 ]] && QUICK_FLAG=(--quick)
failed=0
declare -a SUMMARY

step() {  # step NAME CMD...: runs CMD, logs to $OUT/NAME.log, records the outcome
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name: $*"
  "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 40 "$OUT/$name.log"
  SUMMARY+=("$(printf '%-16s rc=%-3d %4ds  %s' "$name" "$rc" $((SECONDS - t0)) "$OUT/$name.log")")
  [[ $rc -ne 0 ]] && failed=$((failed + 1))
  return 0
}

if [[ ! -x "$G/bin/llmc_gpu_kernel_tests" ]]; then
  echo "device-batch: $G/bin is missing: run scripts/gpu/build-carry.sh on the build machine and carry .gpu" >&2
  exit 100
fi

# The binaries find libnvrtc/libcublasLt through their rpath (/usr/local/cuda/lib64); where CUDA
# lives elsewhere, add the directories that hold them.
if ldd "$G"/bin/* 2>/dev/null | grep -q "not found"; then
  for lib in libnvrtc.so.13 libcublasLt.so.13; do
    d=$(find /usr/local /usr/lib /opt -name "$lib" 2>/dev/null | head -1)
    [[ -n "$d" ]] && export LD_LIBRARY_PATH="$(dirname "$d")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi

env_info() {
  nvidia-smi || true
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,clocks.max.sm,power.limit --format=csv || true
  uname -a
  echo "--- carry"
  cat "$G/MANIFEST"
  echo "--- ldd"
  for b in "$G"/bin/*; do echo "$b"; ldd "$b"; done
  ! ldd "$G"/bin/* | grep -q "not found"
}
step env env_info

# ctest over the carried binaries: a CTestTestfile written for this machine's paths.
cat > "$G/CTestTestfile.cmake" <<CT
add_test(gpu_kernels "$G/bin/llmc_gpu_kernel_tests" "--gtest_output=xml:$OUT/gpu_kernels.xml")
set_tests_properties(gpu_kernels PROPERTIES LABELS gpu TIMEOUT 1200)
add_test(gpu_backend "$G/bin/llmc_gpu_backend_tests" "--gtest_output=xml:$OUT/gpu_backend.xml")
set_tests_properties(gpu_backend PROPERTIES LABELS gpu TIMEOUT 1200)
add_test(cuda_codegen "$G/bin/llmc_cuda_codegen_test" "--gtest_output=xml:$OUT/cuda_codegen.xml")
set_tests_properties(cuda_codegen PROPERTIES LABELS cuda TIMEOUT 600)
CT
if command -v ctest >/dev/null; then
  step ctest-gpu ctest --test-dir "$G" -L gpu --output-on-failure
  step ctest-cuda ctest --test-dir "$G" -L cuda --output-on-failure
else
  step gpu-kernels "$G/bin/llmc_gpu_kernel_tests" "--gtest_output=xml:$OUT/gpu_kernels.xml"
  step gpu-backend "$G/bin/llmc_gpu_backend_tests" "--gtest_output=xml:$OUT/gpu_backend.xml"
  step cuda-codegen "$G/bin/llmc_cuda_codegen_test"
fi
# The per-test lines (skips would show here: on a GPU machine nothing may skip).
for x in gpu_kernels gpu_backend; do
  if [[ -f "$OUT/$x.xml" ]]; then
    echo "$x: $(grep -c '<testcase' "$OUT/$x.xml") tests, $(grep -c '<failure' "$OUT/$x.xml") failures, $(grep -c 'result="skipped"' "$OUT/$x.xml") skipped"
  fi
done

step gpu-check "$G/bin/llmc-gpu-check" --json "$OUT/gpu-check.json" "${QUICK_FLAG[@]}"

# compute-sanitizer (memcheck, then racecheck) on small cases: out-of-bounds accesses and shared-
# memory races that a numeric check can miss. SANITIZE=0 skips it (it is slow: ~10-100x).
if [[ "${SANITIZE:-1}" != 0 ]] && command -v compute-sanitizer >/dev/null; then
  SMALL='*GpuKernels.*:*DecodeTest*/2:*PrefillTest*/2:*PrefillTest*/4:*GpuAttention.RopeKvWrite*:*GemvTest*/7'
  step memcheck timeout 600 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$G/bin/llmc_gpu_kernel_tests" "--gtest_filter=$SMALL"
  step memcheck-backend timeout 600 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$G/bin/llmc_gpu_backend_tests" "--gtest_filter=*f32_fused_aliasing*:*CopyBlock*"
  step racecheck timeout 600 compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$G/bin/llmc_gpu_kernel_tests" "--gtest_filter=*DecodeTest*/2:*PrefillTest*/2:*NormTest*/1"
fi

if [[ -x "$G/bin/llmc" ]] && compgen -G "$G/engines/*.engine" >/dev/null; then
  for e in "$G"/engines/*.engine; do
    n=$(basename "$e" .engine)
    step "bench-$n" "$G/bin/llmc" bench "$e" --device cuda --prompt-len 128 --gen 256 --json
  done
  if [[ -f "$G/engines/stories260K.engine" ]]; then
    step run-stories "$G/bin/llmc" run "$G/engines/stories260K.engine" --device cuda -p "Once upon a time" \
      --temperature 0 -n 64 --json
  fi
fi

echo
echo "=== summary ($failed failed step(s)); logs in $OUT"
printf '%s\n' "${SUMMARY[@]}"
[[ -f "$OUT/gpu-check.log" ]] && grep -E "read bandwidth|8192\^3|4096x4096 +1 |11008 +1 |32000x4096 +1 |token, GEMVs" "$OUT/gpu-check.log"
exit "$failed"
