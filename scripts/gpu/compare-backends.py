#!/usr/bin/env python3
"""compare-backends.py - on the GPU machine: every carried engine, CUDA backend against CPU backend.

    python3 scripts/gpu/compare-backends.py .gpu/bin/llmc .gpu/engines [--golden golden_greedy.json]

For each engine: the same prompt ids through `llmc run --device cpu` and `--device cuda` (greedy,
--logits); reports the relative L2 difference of the prompt logits and whether the greedy tokens
agree. F32 engines must agree within 1e-4 relative, bf16 engines within 3e-2 (bf16 rounding of
activations and the KV cache). With --golden, the engine named stories260K*.engine must reproduce the
golden greedy ids exactly on the GPU. Prints one line per engine and exits non-zero on a failure.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys


def run(llmc, engine, device, prompt, n):
    cmd = [llmc, "run", engine, "--device", device, "--prompt-ids", ",".join(map(str, prompt)), "-n", str(n),
           "--temperature", "0", "--ignore-eos", "--json", "--logits"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def rel(a, b):
    num = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
    den = math.sqrt(sum(y * y for y in b)) or 1.0
    return num / den


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("llmc")
    ap.add_argument("engines")
    ap.add_argument("--golden")
    args = ap.parse_args()
    golden = json.load(open(args.golden)) if args.golden else None
    failed = 0
    for engine in sorted(glob.glob(os.path.join(args.engines, "*.engine"))):
        name = os.path.basename(engine)
        is_stories = name.startswith("stories260K")
        prompt = golden["prompt_ids_with_bos"] if (golden and is_stories) else [1, 17, 42, 99, 5, 230, 64, 7, 150, 33]
        n = 40 if is_stories else 24
        try:
            cpu = run(args.llmc, engine, "cpu", prompt, n)
            gpu = run(args.llmc, engine, "cuda", prompt, n)
        except Exception as e:  # noqa: BLE001 - report and go on with the other engines
            print(f"FAIL {name}: {e}")
            failed += 1
            continue
        info = json.loads(subprocess.run([args.llmc, "inspect", engine, "--json"], capture_output=True,
                                         text=True).stdout)
        dtype = info["model"]["dtype"]
        tol = 1e-4 if dtype == "f32" else 3e-2
        r = rel(gpu["prompt_logits"], cpu["prompt_logits"])
        same = sum(a == b for a, b in zip(gpu["ids"], cpu["ids"]))
        ok = r < tol
        if golden and is_stories:
            ok = ok and gpu["ids"] == golden["greedy_new_ids"]
        elif dtype == "f32":
            ok = ok and gpu["ids"] == cpu["ids"]
        print(f"{'ok  ' if ok else 'FAIL'} {name}: dtype {dtype}, prompt-logit rel diff {r:.2e} (tol {tol:g}), "
              f"greedy ids agreeing {same}/{n}" + (", golden ids reproduced" if golden and is_stories and
                                                   gpu["ids"] == golden["greedy_new_ids"] else ""))
        failed += not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
