"""stories260K, a real trained tiny Llama: the engine must reproduce the float64 golden exactly."""
import json
import os

import numpy as np

from llmc_harness import STORIES, build, llmc, need_shared, run_json, workdir


def golden():
    with open(os.path.join(need_shared(STORIES), "golden_greedy.json")) as f:
        return json.load(f)


def stories_engine():
    return build(STORIES, os.path.join(workdir("stories"), "stories.engine"))


def test_greedy_ids_and_logits_match_golden():
    g = golden()
    engine = stories_engine()
    prompt = ",".join(map(str, g["prompt_ids_with_bos"]))
    out = run_json(engine, "--prompt-ids", prompt, "-n", 40, "--temperature", 0, "--logits", "--ignore-eos")
    assert out["ids"] == g["greedy_new_ids"]
    logits = np.array(out["prompt_logits"], dtype=np.float64)
    assert logits.shape == (512,)
    np.testing.assert_allclose(logits[:8], g["logits_after_prompt_first8"], atol=1e-4, rtol=0)
    for token_id, _piece, value in g["logits_after_prompt_top5"]:
        assert abs(logits[token_id] - value) < 1e-4
    top5 = list(np.argsort(-logits)[:5])
    assert top5 == [t for t, _, _ in g["logits_after_prompt_top5"]]


def test_text_prompt_reproduces_golden_text():
    g = golden()
    engine = stories_engine()
    out = run_json(engine, "-p", g["prompt"], "-n", 40, "--temperature", 0, "--ignore-eos")
    assert out["prompt_ids"] == g["prompt_ids_with_bos"]
    assert out["ids"] == g["greedy_new_ids"]
    assert out["text"] == g["greedy_text"]


def test_plain_run_prints_prompt_and_continuation():
    g = golden()
    engine = stories_engine()
    out = llmc("run", engine, "-p", g["prompt"], "-n", 40, "--temperature", 0, "--ignore-eos").stdout
    assert out.strip() == (g["prompt"] + g["greedy_text"]).strip()


def test_stats_reports_decode_speed():
    engine = stories_engine()
    proc = llmc("run", engine, "-p", "Once upon a time", "-n", 16, "--temperature", 0, "--stats")
    assert "tokens/s" in proc.stderr


def test_interactive_loop_reads_prompts_from_stdin():
    g = golden()
    engine = stories_engine()
    proc = llmc("run", engine, "-n", 40, "--temperature", 0, "--ignore-eos",
                stdin=g["prompt"] + "\n" + g["prompt"] + "\n")
    # Each line of stdin is one prompt; each answer is streamed followed by a newline.
    assert proc.stdout.count(g["greedy_text"]) == 2


def test_stop_string_ends_generation_and_is_trimmed():
    g = golden()
    engine = stories_engine()
    out = run_json(engine, "-p", g["prompt"], "-n", 40, "--temperature", 0, "--stop", "Lily")
    assert out["text"] == g["greedy_text"].split("Lily")[0]
    assert out["finish_reason"] == "stop_string"
