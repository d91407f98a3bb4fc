"""ONNX backend node tests of every op llmc claims (onnx_node_runner.py), as one ctest test.

Passes when every in-scope node test passes or is in the documented exclusion list
(docs/onnx-conformance.md); prints the pass count. Owner: graph.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_onnx_node_conformance():
    out = os.path.join(os.environ.get("LLMC_TEST_TMP", "/tmp"), "onnx-node")
    os.makedirs(out, exist_ok=True)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "onnx_node_runner.py"),
                           "--llmc", os.environ["LLMC_BIN"], "--import-onnx", os.environ["LLMC_IMPORT_ONNX"],
                           "--out", out], capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout.splitlines()[-1])
    results = json.load(open(os.path.join(out, "results.json")))["results"]
    failed = {k: v["why"] for k, v in results.items() if v["status"] == "fail"}
    assert not failed, "\n".join(f"{k}: {v}" for k, v in sorted(failed.items()))
    assert sum(v["status"] == "pass" for v in results.values()) > 600
