#!/usr/bin/env bash
# The main job: install, build, make a small random-weight Llama (with a tokenizer trained on a
# built-in corpus) using the project's own recipe, build an engine from it and run it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
work=${LLMC_WORK_DIR:-$root/build/quickstart}
mkdir -p "$work"
py=${LLMC_VENV:-$HOME/.cache/llmc-venv}/bin/python3
"$py" "$root/scripts/make_tiny_model.py" --arch llama --tokenizer train --out "$work/tiny-llama"
"$root/build/bin/llmc" build "$work/tiny-llama" -o "$work/tiny-llama.engine"
"$root/build/bin/llmc" inspect "$work/tiny-llama.engine"
"$root/build/bin/llmc" run "$work/tiny-llama.engine" -p "Once upon a time" -n 24 --temperature 0 --stats
