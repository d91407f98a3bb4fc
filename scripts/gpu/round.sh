#!/usr/bin/env bash
# round.sh - one device call's worth of checks and measurements (what the lead runs each round):
# GPU tests, CUDA-vs-CPU backend comparison, then Llama-2-7B and Llama-3-8B benches with the
# prefill variants. Results under $OUT; a short table last. A carry packed as .gpu/carry.tgz (the
# binaries stay under the carry limit compressed) is unpacked first.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
[[ -f $G/carry.tgz && ! -x $G/bin/llmc ]] && tar -C "$G" -xzf "$G/carry.tgz"
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$G/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-/tmp/llmc-cache}
if [[ "${TESTS:-1}" != 0 ]]; then
  SANITIZE=0 QUICK=1 bash "$ROOT/scripts/gpu/device-batch.sh" > "$OUT/batch.log" 2>&1
  grep -E "^(env|ctest|gpu-check|run-stories)" "$OUT/batch.log" | grep -E "rc=" 
  grep -E "tests, .* failures" "$OUT/batch.log"
  python3 "$ROOT/scripts/gpu/compare-backends.py" "$G/bin/llmc" "$G/engines" --golden "$G/golden_greedy.json" > "$OUT/compare.log" 2>&1
  cat "$OUT/compare.log"
fi
summary() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{sys.argv[2]:<28} decode {d['decode_tokens_per_s']:6.1f} tok/s {d['pct_of_sol']:5.1f}% SOL | prefill {d['prompt_len']} tok: ttft {d['ttft_ms']:7.1f} ms {d['prefill_TFLOPs']:6.1f} TFLOP/s {d['prefill_pct_of_gemm']:5.1f}% of GEMM\")" "$1" "$2" 2>/dev/null || tail -3 "$1"; }
for shape in ${SHAPES:-llama2-7b llama3-8b}; do
  ck=/tmp/ck-$shape; engine=/tmp/$shape.engine
  python3 "$ROOT/scripts/gpu/make-checkpoint.py" "$shape" "$ck" 2>&1 | tail -1
  start=$SECONDS
  "$G/bin/llmc" build "$ck" -o "$engine" --gpu-arch sm_90 2>&1 | tail -1
  echo "build $shape: $((SECONDS - start)) s"
  rm -rf "$ck"
  B=("$G/bin/llmc" bench "$engine" --device cuda --no-verify --json)
  "${B[@]}" --prompt-len 128 --gen 256 > "$OUT/bench-$shape.json" 2>&1; summary "$OUT/bench-$shape.json" "$shape"
  "${B[@]}" --prompt-len 2048 --gen 8 > "$OUT/prefill-$shape.json" 2>&1; summary "$OUT/prefill-$shape.json" "$shape 2048"
  if [[ "${VARIANTS:-1}" != 0 && $shape == llama2-7b ]]; then
    LLMC_CUDA_PREFILL_TC=0 "${B[@]}" --prompt-len 2048 --gen 8 > "$OUT/prefill-notc.json" 2>&1; summary "$OUT/prefill-notc.json" "$shape 2048 PREFILL_TC=0"
    LLMC_CUDA_HANDOFF=0 "${B[@]}" --prompt-len 2048 --gen 8 > "$OUT/prefill-nohandoff.json" 2>&1; summary "$OUT/prefill-nohandoff.json" "$shape 2048 HANDOFF=0"
  fi
  if [[ -n "${DECODE_AB:-}" ]]; then  # e.g. DECODE_AB="LLMC_CUDA_DECODE_BLOCKS_PER_SM=4 A=1+B=2" (plus signs: one variant; a value may hold commas)
    for v in $DECODE_AB; do
      env ${v//+/ } "${B[@]}" --prompt-len 128 --gen 256 > "$OUT/ab.json" 2>&1; summary "$OUT/ab.json" "$shape $v"
    done
  fi
  if [[ -n "${PREFILL_AB:-}" ]]; then  # e.g. PREFILL_AB="LLMC_CUDA_GEMM_AUTOTUNE=0"
    for v in $PREFILL_AB; do
      env "$v" "${B[@]}" --prompt-len 2048 --gen 8 > "$OUT/ab.json" 2>&1; summary "$OUT/ab.json" "$shape 2048 $v"
    done
  fi
  [[ "${KEEP:-0}" != 0 ]] || rm -f "$engine"  # KEEP=1: left for ncu-decode.sh / ncu-prefill.sh
done
