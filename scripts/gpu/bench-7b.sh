#!/usr/bin/env bash
# bench-7b.sh - on the GPU machine: random-weight checkpoints in real shapes, built into engines
# there with the carried llmc, then `llmc bench` (batch-1 decode, and a 2048-token prefill).
#
#   SHAPES="llama2-7b llama3-8b" bash scripts/gpu/bench-7b.sh     # results under $OUT
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}  # carried libonnx_proto/libprotobuf
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}
for shape in ${SHAPES:-llama2-7b}; do
  ck=/tmp/ck-$shape
  engine=/tmp/$shape.engine
  echo "=== $shape"
  [[ -f $ck/config.json ]] || python3 "$ROOT/scripts/gpu/make-checkpoint.py" "$shape" "$ck" 2>&1 | tail -2
  start=$SECONDS
  "$G/bin/llmc" build "$ck" -o "$engine" --gpu-arch sm_90 -v 2>&1 | tail -3
  echo "build of $shape took $((SECONDS - start)) s on $(nproc) cores"
  "$G/bin/llmc" bench "$engine" --device cuda --prompt-len 128 --gen 256 --json > "$OUT/bench-$shape.json" 2>&1
  cat "$OUT/bench-$shape.json"
  "$G/bin/llmc" bench "$engine" --device cuda --prompt-len 2048 --gen 8 --warmup 1 --json > "$OUT/prefill-$shape.json" 2>&1
  grep -E "ttft|prefill|error" "$OUT/prefill-$shape.json"
  rm -rf "$ck" "$engine"   # disk: the next shape needs the space
done
