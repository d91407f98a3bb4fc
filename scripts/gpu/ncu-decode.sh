#!/usr/bin/env bash
# ncu-decode.sh - on the GPU machine: per-kernel device time of decode steps (Nsight Compute, one
# metric: duration), summed by kernel name, next to the bytes each kernel class must read.
#
#   SHAPE=llama2-7b bash scripts/gpu/ncu-decode.sh       # needs profile-7b.sh's engine or builds it
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}
shape=${SHAPE:-llama2-7b}
ck=/tmp/ck-$shape
engine=/tmp/$shape.engine
[[ -f $ck/config.json ]] || python3 "$ROOT/scripts/gpu/make-checkpoint.py" "$shape" "$ck" 2>&1 | tail -1
[[ -f $engine ]] || "$G/bin/llmc" build "$ck" -o "$engine" --gpu-arch sm_90 2>&1 | tail -1
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
# Skip the load, the limits measurement and the prefill; then profile a few whole decode steps.
LLMC_CUDA_GRAPHS=0 "$NCU" --clock-control none --cache-control none --metrics gpu__time_duration.sum --launch-skip ${SKIP:-1500} --launch-count ${COUNT:-600} \
  --csv "$G/bin/llmc" bench "$engine" --device cuda --no-verify --prompt-len 128 --gen 32 --warmup 0 \
  > "$OUT/ncu-$shape.csv" 2> "$OUT/ncu-$shape.err"
python3 "$ROOT/scripts/gpu/ncu-summary.py" "$OUT/ncu-$shape.csv"
