#!/usr/bin/env bash
# ab-quick.sh - the shortest useful device call: Llama-2-7B bf16 decode A/B of launch knobs, then the
# GPU tests that check those knobs. For when device time is nearly spent; results stream to $OUT/ab.txt.
#   VARIANTS="LLMC_CUDA_GEMV_STAGE=1,LLMC_CUDA_EARLY_TRIGGER=1 LLMC_CUDA_EARLY_TRIGGER=1" bash scripts/gpu/ab-quick.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
[[ -f $G/carry.tgz && ! -x $G/bin/llmc ]] && tar -C "$G" -xzf "$G/carry.tgz"
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
R=$OUT/ab.txt
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}
nvidia-smi --query-gpu=name --format=csv,noheader >> "$R"
python3 "$ROOT/scripts/gpu/make-checkpoint.py" llama2-7b /tmp/ck-7b >> "$R" 2>&1
"$G/bin/llmc" build /tmp/ck-7b -o /tmp/7b.engine --gpu-arch sm_90 2>&1 | tail -1 >> "$R"
rm -rf /tmp/ck-7b
bench() { env "$@" "$G/bin/llmc" bench /tmp/7b.engine --device cuda --no-verify --prompt-len 128 --gen 256 2>&1 | grep -E "^decode|step timing"; }
for v in "LLMC_CUDA_STEP_TIMING=1" ${VARIANTS:-} "LLMC_CUDA_GEMV_STAGE=0"; do
  echo "-- $v" >> "$R"; bench ${v//,/ } >> "$R"
done
"$G/bin/llmc_gpu_backend_tests" --gtest_filter='*Pdl*' 2>&1 | grep -E "FAILED|PASSED|Failure|tests ran" >> "$R"
"$G/bin/llmc_gpu_kernel_tests" --gtest_filter='Shapes/Gemv*' 2>&1 | grep -E "FAILED|PASSED|tests ran" >> "$R"
cat "$R"
