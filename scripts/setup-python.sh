#!/usr/bin/env bash
# Makes (or reuses) the Python venv with the test oracles: $LLMC_VENV, default ~/.cache/llmc-venv.
# Reused across clones and keyed by scripts/requirements.txt, so CI installs it once per machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${LLMC_VENV:-$HOME/.cache/llmc-venv}
stamp="$venv/.llmc-requirements"
if [ -x "$venv/bin/python3" ] && cmp -s "$here/requirements.txt" "$stamp"; then
  echo "python venv up to date: $venv"; exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r "$here/requirements.txt"
cp "$here/requirements.txt" "$stamp"
echo "python venv ready: $venv"
