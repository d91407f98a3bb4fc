"""`llmc tokenize` against the HF tokenizers library; sampling options against their definitions."""
import json
import os

import numpy as np
import pytest

from llmc_harness import STORIES, SHARED, build, llmc, need_shared, run_json, workdir

TEXTS = ["Once upon a time", "  leading spaces\tand tabs\n\nnewlines", "naïve café 東京 Привет 🙂",
         "def f(x):\n    return x**2  # code", "12345 + 678 = 13023"]


@pytest.mark.parametrize("name", ["gpt2", "llama2", "llama3", "qwen3"])
def test_tokenize_matches_hf(name):
    from tokenizers import Tokenizer
    folder = need_shared(os.path.join(SHARED, "tokenizers", name))
    hf = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    for text in TEXTS:
        out = json.loads(llmc("tokenize", "--tokenizer", folder, "--text", text, "--json").stdout)
        assert out["ids"] == hf.encode(text, add_special_tokens=False).ids, text
        out = json.loads(llmc("tokenize", "--tokenizer", folder, "--text", text, "--json",
                              "--add-special-tokens").stdout)
        assert out["ids"] == hf.encode(text, add_special_tokens=True).ids, text
        ids = ",".join(map(str, hf.encode(text, add_special_tokens=False).ids))
        dec = json.loads(llmc("tokenize", "--tokenizer", folder, "--decode", ids, "--json").stdout)
        assert dec["text"] == hf.decode(hf.encode(text, add_special_tokens=False).ids, skip_special_tokens=False)


def test_tokenize_from_engine_uses_embedded_tokenizer():
    from tokenizers import Tokenizer
    engine = build(need_shared(STORIES), os.path.join(workdir("tok"), "stories.engine"))
    hf = Tokenizer.from_file(os.path.join(STORIES, "tokenizer.json"))
    out = json.loads(llmc("tokenize", "--tokenizer", engine, "--text", "Once upon a time", "--json").stdout)
    assert out["ids"] == hf.encode("Once upon a time", add_special_tokens=False).ids


def stories():
    return build(need_shared(STORIES), os.path.join(workdir("tok"), "sampling.engine"))


def test_same_seed_same_tokens_different_seed_differs():
    e = stories()
    a = run_json(e, "-p", "Once upon a time", "-n", 30, "--temperature", 1.0, "--seed", 7)
    b = run_json(e, "-p", "Once upon a time", "-n", 30, "--temperature", 1.0, "--seed", 7)
    c = run_json(e, "-p", "Once upon a time", "-n", 30, "--temperature", 1.0, "--seed", 8)
    assert a["ids"] == b["ids"]
    assert a["ids"] != c["ids"]


def test_top_k_1_is_greedy():
    e = stories()
    g = run_json(e, "-p", "Once upon a time", "-n", 20, "--temperature", 0, "--ignore-eos")
    k = run_json(e, "-p", "Once upon a time", "-n", 20, "--temperature", 1.3, "--top-k", 1, "--seed", 3,
                 "--ignore-eos")
    assert g["ids"] == k["ids"]


def first_token_counts(e, trials, *flags):
    counts = {}
    for seed in range(trials):
        out = run_json(e, "--prompt-ids", "1,403,407,261,378", "-n", 1, "--seed", seed, *flags)
        counts[out["ids"][0]] = counts.get(out["ids"][0], 0) + 1
    return counts


def softmax(x):
    x = np.asarray(x, dtype=np.float64)
    p = np.exp(x - x.max())
    return p / p.sum()


def test_temperature_sampling_follows_the_distribution():
    # The oracle is the softmax of the (golden-checked) logits at temperature 2: sampled frequencies
    # of the first token must match it within a generous binomial bound.
    e = stories()
    logits = run_json(e, "--prompt-ids", "1,403,407,261,378", "-n", 1, "--temperature", 0, "--logits")["prompt_logits"]
    p = softmax(np.array(logits) / 8.0)
    trials = 300
    counts = first_token_counts(e, trials, "--temperature", 8.0, "--top-k", 0, "--top-p", 1, "--min-p", 0)
    for tok in np.argsort(-p)[:3]:
        expected = p[tok] * trials
        sd = np.sqrt(trials * p[tok] * (1 - p[tok]))
        assert abs(counts.get(int(tok), 0) - expected) < 4 * sd + 2, (tok, counts.get(int(tok), 0), expected)


def test_top_p_and_min_p_only_sample_from_the_allowed_set():
    e = stories()
    logits = run_json(e, "--prompt-ids", "1,403,407,261,378", "-n", 1, "--temperature", 0, "--logits")["prompt_logits"]
    p = softmax(np.array(logits) / 8.0)
    order = np.argsort(-p)
    nucleus = set(int(t) for t in order[: int(np.searchsorted(np.cumsum(p[order]), 0.5)) + 1])
    counts = first_token_counts(e, 60, "--temperature", 8.0, "--top-k", 0, "--min-p", 0, "--top-p", 0.5)
    assert set(counts) <= nucleus, (counts, nucleus)
    allowed = set(int(t) for t in np.nonzero(p >= 0.2 * p.max())[0])
    counts = first_token_counts(e, 60, "--temperature", 8.0, "--top-k", 0, "--top-p", 1, "--min-p", 0.2)
    assert set(counts) <= allowed, (counts, allowed)


def test_repetition_penalty_changes_greedy_output_as_defined():
    e = stories()
    plain = run_json(e, "-p", "Once upon a time", "-n", 40, "--temperature", 0, "--ignore-eos")
    pen = run_json(e, "-p", "Once upon a time", "-n", 40, "--temperature", 0, "--ignore-eos",
                   "--repetition-penalty", 3.0)
    assert pen["ids"] != plain["ids"]
    # With a strong penalty, no generated token repeats as often as in the plain greedy text.
    assert max(pen["ids"].count(t) for t in set(pen["ids"])) <= max(plain["ids"].count(t) for t in set(plain["ids"]))
