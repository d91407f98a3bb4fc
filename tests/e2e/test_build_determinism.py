"""Two builds of the same model with the same flags are byte-identical; inspect describes the engine."""
import filecmp
import json
import os

from llmc_harness import STORIES, build, llmc, make_tiny, need_shared, workdir


def test_two_builds_are_byte_identical():
    for model, name in [(need_shared(STORIES), "stories"), (make_tiny("qwen2"), "qwen2")]:
        a = build(model, os.path.join(workdir("det"), f"{name}-a.engine"))
        b = build(model, os.path.join(workdir("det"), f"{name}-b.engine"))
        assert filecmp.cmp(a, b, shallow=False), name


def test_inspect_json_describes_the_engine():
    engine = build(need_shared(STORIES), os.path.join(workdir("det"), "inspect.engine"))
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    assert info["model"]["architecture"] == "llama"
    assert info["model"]["num_layers"] == 5 and info["model"]["hidden_size"] == 64
    assert {w["dtype"] for w in info["weights"]} == {"f32"}
    ops = [s["op"] for s in info["program"]["steps"]]
    assert "qkv_attention" in ops and "glu" in ops and "add_rms_norm" in ops   # fusions happened
    assert info["program"]["arena_per_token"] > 0
    names = {s["name"] for s in info["sections"]}
    assert {"meta", "program", "tokenizer", "weights"} <= names
    text = llmc("inspect", engine).stdout
    assert "llama" in text and "weights" in text


def test_dump_ir_writes_every_pass():
    d = os.path.join(workdir("det"), "ir")
    build(need_shared(STORIES), os.path.join(workdir("det"), "dump.engine"), "--dump-ir", d)
    files = sorted(os.listdir(d))
    assert len(files) >= 5, files
    first = open(os.path.join(d, files[0])).read()
    last = open(os.path.join(d, files[-1])).read()
    assert "llm.attention" in first and "llm.qkv_attention" in last and "llm.offset" in last


def test_bench_reports_speed_against_the_device_limits():
    engine = build(need_shared(STORIES), os.path.join(workdir("det"), "bench.engine"))
    out = json.loads(llmc("bench", engine, "--device", "cpu", "--prompt-len", 32, "--gen", 16, "--json").stdout)
    assert out["backend"] == "cpu" and out["read_bandwidth_GBs"] > 0
    assert out["decode_tokens_per_s"] > 0 and out["ttft_ms"] > 0
    # SOL bookkeeping: pct_of_sol is decode speed over the bandwidth-bound speed, in percent.
    assert abs(out["pct_of_sol"] - 100 * out["decode_tokens_per_s"] / out["sol_tokens_per_s"]) < 1e-6 * 100 + 1e-3


def test_engine_carries_kernels_for_every_default_arch():
    if not os.path.exists("/usr/local/cuda/lib64"):
        import pytest
        pytest.skip("no CUDA toolkit on this machine: engines are built without GPU kernels")
    engine = build(need_shared(STORIES), os.path.join(workdir("det"), "kernels.engine"))
    info = json.loads(llmc("inspect", engine, "--json").stdout)
    assert set(info["kernels"]) == {"sm_80", "sm_86", "sm_89", "sm_90", "ptx"}
    cpu_only = build(need_shared(STORIES), os.path.join(workdir("det"), "cpu-only.engine"), "--gpu-arch", "none")
    assert json.loads(llmc("inspect", cpu_only, "--json").stdout)["kernels"] == {}
    # The CPU-only engine still runs and agrees with the full one.
    a = json.loads(llmc("run", engine, "--device", "cpu", "--prompt-ids", "1,403", "-n", 8, "--temperature", 0, "--json").stdout)
    b = json.loads(llmc("run", cpu_only, "--device", "cpu", "--prompt-ids", "1,403", "-n", 8, "--temperature", 0, "--json").stdout)
    assert a["ids"] == b["ids"]


def test_unknown_gpu_arch_is_rejected_before_writing():
    out = os.path.join(workdir("det"), "bad-arch.engine")
    proc = llmc("build", need_shared(STORIES), "-o", out, "--gpu-arch", "sm_52", check=False)
    if not os.path.exists("/usr/local/cuda/lib64"):
        assert proc.returncode == 2
        return
    assert proc.returncode == 2 and "sm_52" in proc.stderr and not os.path.exists(out)
