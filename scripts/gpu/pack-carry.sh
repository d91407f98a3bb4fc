#!/usr/bin/env bash
# pack-carry.sh - turns what build-carry.sh staged in .gpu/ into the one file a device call carries
# (.gpu/carry.tgz, which the scripts there unpack), adding the other builds an A/B compares against:
#
#   OLD=/path/to/llmc EXTRA="pipe=/path/to/llmc wide=/path/to/llmc" scripts/gpu/pack-carry.sh
#
# OLD becomes .gpu/old/llmc (ab-quick.sh benchmarks it first and last); each EXTRA NAME=PATH becomes
# .gpu/extra/NAME/llmc (benchmarked once after the variants). Every binary builds its own engine
# there, since the kernels are compiled into the engine. Fails, leaving .gpu as it was, when a path
# is missing or the packed file is over the device tool's 64 MiB carry limit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
G=$ROOT/.gpu
LIMIT=$((64 * 1024 * 1024))
[[ -x $G/bin/llmc || -x $G/bin/llmc_gpu_kernel_tests ]] || { echo "pack-carry: $G/bin is empty: run scripts/gpu/build-carry.sh first" >&2; exit 1; }
[[ -z ${OLD:-} || -x $OLD ]] || { echo "pack-carry: OLD=$OLD is not an executable" >&2; exit 1; }
for e in ${EXTRA:-}; do
  [[ $e == *=* && -x ${e#*=} ]] || { echo "pack-carry: EXTRA entry '$e' is not NAME=EXECUTABLE" >&2; exit 1; }
done
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -a "$G"/. "$STAGE"/
rm -f "$STAGE/carry.tgz"
rm -rf "$STAGE/old" "$STAGE/extra"
if [[ -n ${OLD:-} ]]; then
  mkdir -p "$STAGE/old"
  cp "$OLD" "$STAGE/old/llmc"
fi
for e in ${EXTRA:-}; do
  mkdir -p "$STAGE/extra/${e%%=*}"
  cp "${e#*=}" "$STAGE/extra/${e%%=*}/llmc"
done
tar -C "$STAGE" -czf "$STAGE.tgz" .
size=$(stat -c %s "$STAGE.tgz")
if (( size > LIMIT )); then
  rm -f "$STAGE.tgz"
  echo "pack-carry: $((size / 1048576)) MiB packed, over the 64 MiB carry limit (drop an EXTRA build)" >&2
  exit 1
fi
rm -rf "${G:?}"/*
mv "$STAGE.tgz" "$G/carry.tgz"
echo "pack-carry: $G/carry.tgz, $((size / 1048576)) MiB (carry '.gpu')"
