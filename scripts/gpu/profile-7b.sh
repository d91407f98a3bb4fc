#!/usr/bin/env bash
# profile-7b.sh - on the GPU machine: where a 7B decode step's time goes. Builds a random-weight
# checkpoint in the named shape, then benches it plain, without CUDA graphs, without programmatic
# dependent launch, and (when nsys is installed) under nsys with per-kernel totals.
#
#   SHAPE=llama2-7b bash scripts/gpu/profile-7b.sh      # results under $OUT
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}  # carried libonnx_proto/libprotobuf
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}
shape=${SHAPE:-llama2-7b}
ck=/tmp/ck-$shape
engine=/tmp/$shape.engine
[[ -f $ck/config.json ]] || python3 "$ROOT/scripts/gpu/make-checkpoint.py" "$shape" "$ck" 2>&1 | tail -1
[[ -f $engine ]] || "$G/bin/llmc" build "$ck" -o "$engine" --gpu-arch sm_90 2>&1 | tail -1
bench() {  # bench LABEL [ENV=VALUE...]: decode tok/s and % SOL of one configuration
  local label=$1; shift
  env "$@" "$G/bin/llmc" bench "$engine" --device cuda --no-verify --prompt-len 128 --gen ${GEN:-128} --json \
    > "$OUT/prof-$label.json" 2>&1
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{sys.argv[2]:<12} decode {d['decode_tokens_per_s']:.1f} tok/s, {d['ms_per_token']:.3f} ms/token, {d['pct_of_sol']:.1f}% of SOL; ttft {d['ttft_ms']:.1f} ms\")" "$OUT/prof-$label.json" "$label" || cat "$OUT/prof-$label.json"
}
bench default
bench no-graphs LLMC_CUDA_GRAPHS=0
bench no-pdl LLMC_CUDA_PDL=0
NSYS=$(command -v nsys || ls /usr/local/cuda/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1)
if [[ -n "$NSYS" ]]; then
  "$NSYS" profile -o /tmp/prof --force-overwrite true --cuda-graph-trace=node "$G/bin/llmc" bench "$engine" \
    --device cuda --no-verify --prompt-len 128 --gen 64 --warmup 0 > /dev/null 2>&1
  "$NSYS" stats --report cuda_gpu_kern_sum,cuda_api_sum --format csv /tmp/prof.nsys-rep > "$OUT/nsys-$shape.csv" 2>&1
  head -40 "$OUT/nsys-$shape.csv"
else
  echo "no nsys on this machine"
fi
