#!/usr/bin/env python3
"""Exports a HF causal LM to ONNX the way users do: torch.onnx.export(..., dynamo=True).

    onnx_export.py --model DIR --out DIR/model.onnx --opset 18 [--external-data] [--no-side-files]

The graph takes input_ids [1, seq] (seq dynamic) and returns logits [1, seq, vocab]; no KV cache.
config.json, generation_config.json and tokenizer files are copied next to the .onnx (as
optimum-style exports ship them) unless --no-side-files. Used by test_onnx_import.py, which runs
it in a subprocess and caches the result under the test's tmp dir. Owner: onnx.
"""
import argparse
import os
import shutil
import sys


def copy_side_files(model_dir, onnx_path):
    """The checkpoint's config/tokenizer files next to the .onnx, where llmc build reads them."""
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"):
        src = os.path.join(model_dir, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(os.path.dirname(os.path.abspath(onnx_path)), name))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--opset", type=int, default=18)
    ap.add_argument("--external-data", action="store_true")
    ap.add_argument("--no-side-files", action="store_true")
    ap.add_argument("--mask-and-batch", action="store_true",
                    help="also take attention_mask, and make the batch axis dynamic")
    args = ap.parse_args()

    import torch
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32)
    model.eval()

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m(input_ids=input_ids, use_cache=False).logits

    class LogitsWithMask(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".partial.onnx"
    seq = torch.export.Dim("seq", max=4096)
    if args.mask_and_batch:
        # A batch of 2 in the example keeps torch from specialising the batch axis to 1.
        ids = torch.tensor([[1, 17, 42, 99, 5, 7], [3, 4, 5, 6, 7, 8]])
        batch = torch.export.Dim("batch")
        torch.onnx.export(LogitsWithMask(model), (ids, torch.ones_like(ids)), tmp, dynamo=True,
                          opset_version=args.opset, input_names=["input_ids", "attention_mask"],
                          output_names=["logits"],
                          dynamic_shapes={"input_ids": {0: batch, 1: seq}, "attention_mask": {0: batch, 1: seq}},
                          external_data=args.external_data)
    else:
        ids = torch.tensor([[1, 17, 42, 99, 5, 7]])
        torch.onnx.export(Logits(model), (ids,), tmp, dynamo=True, opset_version=args.opset,
                          input_names=["input_ids"], output_names=["logits"],
                          dynamic_shapes={"input_ids": {1: seq}}, external_data=args.external_data)
    if args.external_data:
        # Keep the data file's name as the model refers to it (location is relative).
        import onnx
        m = onnx.load(tmp, load_external_data=True)
        data_name = os.path.basename(args.out) + ".data"
        onnx.save(m, args.out, save_as_external_data=True, all_tensors_to_one_file=True,
                  location=data_name, size_threshold=1024)
        for leftover in (tmp, tmp + ".data"):
            if os.path.exists(leftover):
                os.remove(leftover)
    else:
        os.replace(tmp, args.out)
    if not args.no_side_files:
        copy_side_files(args.model, args.out)
    print(args.out)


if __name__ == "__main__":
    sys.exit(main())
