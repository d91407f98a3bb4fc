#!/usr/bin/env bash
# ncu-prefill.sh - on the GPU machine: per-kernel device time of one 2048-token prefill (Nsight
# Compute, one metric: duration), summed by kernel name. The bench runs with --gen 1 --warmup 0,
# so the prefill is the launches from the last embedding kernel on (the limits measurement before
# it is left out).
#
#   SHAPE=llama2-7b bash scripts/gpu/ncu-prefill.sh     # builds the engine when /tmp has none
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
[[ -f $engine || -f $ck/config.json ]] || python3 "$ROOT/scripts/gpu/make-checkpoint.py" "$shape" "$ck" 2>&1 | tail -1
[[ -f $engine ]] || "$G/bin/llmc" build "$ck" -o "$engine" --gpu-arch sm_90 2>&1 | tail -1
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
"$NCU" --clock-control none --cache-control none --metrics gpu__time_duration.sum --csv \
  "$G/bin/llmc" bench "$engine" --device cuda --no-verify --prompt-len ${PROMPT:-2048} --gen 1 --warmup 0 \
  > "$OUT/ncu-prefill-$shape.csv" 2> "$OUT/ncu-prefill-$shape.err"
python3 "$ROOT/scripts/gpu/ncu-summary.py" "$OUT/ncu-prefill-$shape.csv" --from-last embedding --label "prefill: "
