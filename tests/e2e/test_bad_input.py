"""Bad input: one clear line naming the file and the problem, exit code 2, no partial output."""
import json
import os
import shutil

import pytest

from llmc_harness import STORIES, build, llmc, make_tiny, need_shared, workdir


def copy_model(name):
    src = make_tiny("llama")
    dst = os.path.join(workdir("bad"), name)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def assert_clean_failure(proc, *words, output=None):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    err = proc.stderr.strip()
    assert err, "no error message"
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "terminate" not in err
    for w in words:
        assert w in err, (w, err)
    if output:
        assert not os.path.exists(output), "partial output left behind"
        leftovers = [f for f in os.listdir(os.path.dirname(output)) if os.path.basename(output) + ".tmp" in f]
        assert not leftovers, leftovers


def failing_build(model_dir, *words):
    out = os.path.join(workdir("bad"), "out.engine")
    if os.path.exists(out):
        os.remove(out)
    proc = llmc("build", model_dir, "-o", out, check=False)
    assert_clean_failure(proc, *words, output=out)


def edit_config(model_dir, fn):
    path = os.path.join(model_dir, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    fn(cfg)
    with open(path, "w") as f:
        json.dump(cfg, f)


def test_missing_config_key():
    m = copy_model("missing-key")
    edit_config(m, lambda c: c.pop("hidden_size"))
    failing_build(m, "config.json", "hidden_size")


def test_unsupported_architecture():
    m = copy_model("bad-arch")
    edit_config(m, lambda c: c.update(model_type="mamba", architectures=["MambaForCausalLM"]))
    failing_build(m, "config.json", "mamba")


def test_truncated_safetensors():
    m = copy_model("truncated-st")
    path = os.path.join(m, "model.safetensors")
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size - 1000)
    failing_build(m, "model.safetensors", "truncated")


def test_garbage_safetensors_header():
    m = copy_model("garbage-st")
    with open(os.path.join(m, "model.safetensors"), "wb") as f:
        f.write((64).to_bytes(8, "little") + b"{not json at all" + b" " * 48)
    failing_build(m, "model.safetensors")


def test_missing_weights_file():
    m = copy_model("no-weights")
    os.remove(os.path.join(m, "model.safetensors"))
    failing_build(m, "model.safetensors")


def test_input_that_does_not_exist():
    failing_build(os.path.join(workdir("bad"), "no-such-model"), "no-such-model")


def good_engine():
    return build(make_tiny("llama"), os.path.join(workdir("bad"), "good.engine"))


def damaged_copy(name, fn):
    src = good_engine()
    dst = os.path.join(workdir("bad"), name)
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        fn(f, os.path.getsize(dst))
    return dst


def failing_run(engine, *words):
    proc = llmc("run", engine, "--prompt-ids", "1,2,3", "-n", 2, check=False)
    assert_clean_failure(proc, os.path.basename(engine), *words)
    assert proc.stdout == ""


def test_truncated_engine():
    failing_run(damaged_copy("truncated.engine", lambda f, n: f.truncate(n // 2)), "truncated")


def test_engine_shorter_than_header():
    failing_run(damaged_copy("tiny.engine", lambda f, n: f.truncate(100)), "truncated")


def test_corrupted_engine_weights():
    def flip(f, n):
        f.seek(n - 5000)
        b = f.read(1)
        f.seek(n - 5000)
        f.write(bytes([b[0] ^ 0xFF]))
    failing_run(damaged_copy("corrupt.engine", flip), "checksum")


def test_wrong_format_version():
    def bump(f, n):
        f.seek(8)
        f.write((7).to_bytes(4, "little"))
    failing_run(damaged_copy("version.engine", bump), "version")


def test_not_an_engine():
    path = os.path.join(workdir("bad"), "text.engine")
    with open(path, "w") as f:
        f.write("hello\n" * 2000)
    failing_run(path)


@pytest.mark.parametrize("flags,word", [
    (["-n", "-3"], "-n"),
    (["-n", "lots"], "-n"),
    (["--temperature", "-1"], "--temperature"),
    (["--top-p", "1.5"], "--top-p"),
    (["--prompt-ids", "1,x,3"], "--prompt-ids"),
    (["--device", "tpu"], "--device"),
    (["--frobnicate"], "--frobnicate"),
])
def test_bad_run_flags(flags, word):
    engine = good_engine()
    args = ["run", engine] + (flags if "--prompt-ids" in flags else ["--prompt-ids", "1,2"] + flags)
    proc = llmc(*args, check=False)
    assert_clean_failure(proc, word)


def test_bad_build_dtype_leaves_nothing():
    out = os.path.join(workdir("bad"), "dtype.engine")
    proc = llmc("build", make_tiny("llama"), "-o", out, "--dtype", "int3", check=False)
    assert_clean_failure(proc, "--dtype", output=out)


def test_prompt_id_outside_vocabulary():
    engine = good_engine()
    proc = llmc("run", engine, "--prompt-ids", "1,999999", "-n", 1, check=False)
    assert_clean_failure(proc, "999999")


def test_cuda_device_without_a_gpu_is_one_clear_error():
    if os.path.exists("/dev/nvidia0"):
        pytest.skip("this machine has a GPU: the CUDA path is tested by the gpu-labelled tests")
    proc = llmc("run", good_engine(), "--device", "cuda", "--prompt-ids", "1,2", "-n", 2, check=False)
    assert_clean_failure(proc, "cuda", "no CUDA device")
    assert proc.stdout == ""
