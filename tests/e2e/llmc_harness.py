"""Shared helpers of the end-to-end tests: run the llmc binary, make tiny checkpoints, call oracles."""
import json
import os
import subprocess
import sys
import tempfile

import pytest

LLMC = os.environ.get("LLMC_BIN", "build/bin/llmc")
SHARED = os.environ.get("LLMC_SHARED_DIR", os.path.join(os.path.dirname(__file__), "../../../shared"))
SOURCE = os.environ.get("LLMC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
TMP = os.environ.get("LLMC_TEST_TMP", tempfile.gettempdir())
STORIES = os.path.join(SHARED, "models", "stories260K")


def need_shared(path):
    if not os.path.exists(path):
        pytest.skip(f"shared test data not found: {path}")
    return path


def llmc(*args, stdin=None, check=True):
    """Runs llmc; returns CompletedProcess (text). check=True asserts exit code 0."""
    proc = subprocess.run([LLMC, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"llmc {' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def run_json(engine, *args):
    out = llmc("run", engine, "--json", *args).stdout
    return json.loads(out)


def workdir(name):
    path = os.path.join(TMP, name)
    os.makedirs(path, exist_ok=True)
    return path


def make_tiny(arch, dtype="float32", tokenizer="train"):
    """Makes (once per test run) a tiny random-weight checkpoint with the project's recipe."""
    out = os.path.join(TMP, f"tiny-{arch}-{dtype}")
    if not os.path.exists(os.path.join(out, "config.json")):
        subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "make_tiny_model.py"), "--arch", arch,
                        "--dtype", dtype, "--tokenizer", tokenizer, "--out", out], check=True,
                       capture_output=True)
    return out


def build(model_dir, engine, *flags):
    if os.path.exists(engine):
        os.remove(engine)
    llmc("build", model_dir, "-o", engine, *flags)
    return engine


def hf_greedy(model_dir, prompt_ids, n):
    """The transformers oracle: greedy ids and the float32 logits after the prompt."""
    import torch
    import transformers
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
    model.eval()
    ids = torch.tensor([prompt_ids])
    out_ids = []
    with torch.no_grad():
        out = model(ids, use_cache=True)
        first_logits = out.logits[0, -1].double().numpy()
        past = out.past_key_values
        logits = out.logits[0, -1]
        for _ in range(n):
            nxt = int(torch.argmax(logits))
            out_ids.append(nxt)
            out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1]
    return out_ids, first_logits


def hf_greedy_recompute(model_dir, prompt_ids, n, dtype=None):
    """The transformers oracle without its KV cache: greedy ids with the whole sequence recomputed
    each step (eager attention: models whose cached path differs, e.g. sliding windows, Gemma),
    and the logits after the prompt as float64. dtype: torch dtype of the model (float32)."""
    import torch
    import transformers
    model = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=dtype or torch.float32, attn_implementation="eager")
    model.eval()
    ids = torch.tensor([prompt_ids])
    out, first = [], None
    with torch.no_grad():
        for _ in range(n):
            logits = model(ids).logits[0, -1]
            if first is None:
                first = logits.double().numpy()
            nxt = int(torch.argmax(logits))
            out.append(nxt)
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    return out, first
