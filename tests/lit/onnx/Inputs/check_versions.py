#!/usr/bin/env python3
"""Checks `llmc-import-onnx --list-ops` against the `onnx` package's operator schemas.

For every supported op, the since_versions llmc lists must be exactly ONNX's up to the newest
opset llmc knows (a missed version bump would silently convert a changed operator with the old
semantics), and the oldest converted version must be one of them. Prints OK and the count.
Owner: onnx.
"""
import sys

import onnx.defs

MAX_OPSET = int(sys.argv[2])
bad = []
n = 0
for line in open(sys.argv[1]):
    domain, op, minv, *versions = line.split()
    versions = [int(v) for v in versions]
    dom = "" if domain == "ai.onnx" else domain
    want = set()
    for v in range(1, MAX_OPSET + 1):
        try:
            want.add(onnx.defs.get_schema(op, v, dom).since_version)
        except Exception:
            pass
    want = sorted(want)
    if versions != want:
        bad.append(f"{domain}::{op}: llmc lists {versions}, onnx defines {want}")
    if int(minv) not in versions:
        bad.append(f"{domain}::{op}: min version {minv} is not a since_version")
    n += 1
if bad:
    print("\n".join(bad))
    sys.exit(1)
print(f"OK {n} ops")
