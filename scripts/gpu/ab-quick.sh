#!/usr/bin/env bash
# ab-quick.sh - the shortest useful device call: Llama-2-7B bf16 decode A/B of launch knobs, then the
# GPU tests that check those knobs. For when device time is nearly spent; results stream to $OUT/ab.txt.
#   VARIANTS="LLMC_CUDA_ATTN_CLUSTER=1+LLMC_CUDA_EARLY_TRIGGER=1 LLMC_CUDA_EARLY_TRIGGER=1" bash scripts/gpu/ab-quick.sh
# A/B of two builds: put the baseline's llmc at .gpu/old/llmc (kernels are compiled into the engine,
# so each binary builds its own engine); it is benchmarked first and last, the new one in between.
# Further builds to compare: .gpu/extra/NAME/llmc, each benchmarked once after the variants.
# scripts/gpu/pack-carry.sh (OLD=..., EXTRA="NAME=...") puts them there.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
[[ -f $G/carry.tgz && ! -x $G/bin/llmc ]] && tar -C "$G" -xzf "$G/carry.tgz"
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
R=$OUT/ab.txt
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}
MODEL=${MODEL:-llama2-7b}
nvidia-smi --query-gpu=name --format=csv,noheader >> "$R"
python3 "$ROOT/scripts/gpu/make-checkpoint.py" "$MODEL" /tmp/ck >> "$R" 2>&1
"$G/bin/llmc" build /tmp/ck -o /tmp/new.engine --gpu-arch sm_90 2>&1 | tail -1 >> "$R"
OLD=$G/old/llmc
[[ -x $OLD ]] && "$OLD" build /tmp/ck -o /tmp/old.engine --gpu-arch sm_90 2>&1 | tail -1 >> "$R"
for x in "$G"/extra/*/llmc; do
  [[ -x $x ]] && "$x" build /tmp/ck -o "/tmp/extra-$(basename "$(dirname "$x")").engine" --gpu-arch sm_90 2>&1 | tail -1 >> "$R"
done
# TRACE_STEP=N [TRACE_VARIANTS="..."]: also a trace engine (kernels/trace.cuh) and the block timeline of its step N
# (DecodeTrace.h) in $OUT/trace.txt.
[[ -n ${TRACE_STEP:-} ]] && LLMC_KERNEL_TRACE=1 "$G/bin/llmc" build /tmp/ck -o /tmp/trace.engine --gpu-arch sm_90 2>&1 | tail -1 >> "$R"
rm -rf /tmp/ck
bench() {  # bench BINARY ENGINE [VAR=VALUE ...]
  local bin=$1 eng=$2; shift 2
  env "$@" "$bin" bench "$eng" --device cuda --no-verify --prompt-len 128 --gen 256 2>&1 | grep -E "^decode|step timing"
}
[[ -x $OLD ]] && { echo "-- old build" >> "$R"; bench "$OLD" /tmp/old.engine >> "$R"; }
for v in "LLMC_CUDA_STEP_TIMING=1" ${VARIANTS:-} "LLMC_CUDA_STEP_TIMING=0"; do
  echo "-- $v" >> "$R"; bench "$G/bin/llmc" /tmp/new.engine ${v//+/ } >> "$R"
done
for x in "$G"/extra/*/llmc; do
  [[ -x $x ]] || continue
  name=$(basename "$(dirname "$x")")
  echo "-- build $name" >> "$R"; bench "$x" "/tmp/extra-$name.engine" >> "$R"
done
[[ -x $OLD ]] && { echo "-- old build again" >> "$R"; bench "$OLD" /tmp/old.engine >> "$R"; }
# The timeline with the defaults (trace.txt), then under each of TRACE_VARIANTS (trace-1.txt, ...;
# the same VAR=VALUE+VAR=VALUE syntax as VARIANTS; "+" joins the settings of one variant, since a
# value may itself be a comma-separated list such as LLMC_CUDA_TRIGGER_AT_EXIT=down,o_proj).
if [[ -n ${TRACE_STEP:-} ]]; then
  n=0
  for v in "" ${TRACE_VARIANTS:-}; do
    f=$OUT/trace${v:+-$((++n))}.txt
    echo "-- trace engine, LLMC_CUDA_TRACE=$TRACE_STEP ${v:-(defaults)} (timeline in $(basename "$f"))" >> "$R"
    env LLMC_CUDA_TRACE="$TRACE_STEP" ${v//+/ } "$G/bin/llmc" bench /tmp/trace.engine --device cuda --no-verify \
      --prompt-len 128 --gen 256 > "$f" 2>&1
    grep -E "^decode|per kind|phases|^  (gemv|attention)|step:" "$f" >> "$R"
  done
fi
# AB_TESTS=0: the call runs the GPU tests itself.
if [[ ${AB_TESTS:-1} != 0 ]]; then
  "$G/bin/llmc_gpu_backend_tests" --gtest_filter='*Pdl*' 2>&1 | grep -E "FAILED|PASSED|Failure|tests ran" >> "$R"
  "$G/bin/llmc_gpu_kernel_tests" --gtest_filter='Shapes/Gemv*' 2>&1 | grep -E "FAILED|PASSED|tests ran" >> "$R"
fi
cat "$R"
