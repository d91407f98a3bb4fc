"""ONNX backend node tests of every op llmc claims (onnx_node_runner.py), as one ctest test.

Passes when every in-scope node test passes or is in the documented exclusion list
(docs/onnx-conformance.md); prints the pass count. LLMC_CONFORMANCE_DEVICE=cuda runs the engines on
the GPU (the CUDA backend's graph runner) and skips, visibly, on a machine without one. Owner: graph.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def gpu_arch():
    """sm_XY of GPU 0, or None where there is no GPU."""
    if not shutil.which("nvidia-smi"):
        return None
    q = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"], capture_output=True, text=True)
    cap = q.stdout.strip().splitlines()[0] if q.returncode == 0 and q.stdout.strip() else ""
    return "sm_" + cap.replace(".", "") if cap else None


def test_onnx_node_conformance():
    device = os.environ.get("LLMC_CONFORMANCE_DEVICE", "cpu")
    extra = []
    if device == "cuda":
        arch = gpu_arch()
        if arch is None:
            pytest.skip("no CUDA device: the GPU conformance run needs one")
        extra = ["--device", "cuda", "--gpu-arch", arch]
    out = os.path.join(os.environ.get("LLMC_TEST_TMP", "/tmp"), "onnx-node-" + device)
    os.makedirs(out, exist_ok=True)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "onnx_node_runner.py"),
                           "--llmc", os.environ["LLMC_BIN"], "--import-onnx", os.environ["LLMC_IMPORT_ONNX"],
                           "--out", out, *extra], capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout.splitlines()[-1])
    results = json.load(open(os.path.join(out, "results.json")))["results"]
    failed = {k: v["why"] for k, v in results.items() if v["status"] == "fail"}
    assert not failed, "\n".join(f"{k}: {v}" for k, v in sorted(failed.items()))
    assert sum(v["status"] == "pass" for v in results.values()) > 600
