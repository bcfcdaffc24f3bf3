#!/usr/bin/env python3
"""Quantize a Hugging Face Llama checkpoint directory (safetensors + config.json) from Python
and save it as a compressed GGUF file that `llvq eval` / `llvq run` (and llvq.load_model) load.

  python examples/quantize_safetensors.py MODEL_DIR OUT.gguf [--codec llvq-sg] \
      [--calib TEXT --tokenizer tokenizer.bin] [--calib-tokens 4096] [--rule ffn_down=llvq-ss:bpw=3] [--force]

LLVQ reads tokenizers from GGUF files and llama2.c tokenizer.bin files (not tokenizer.json):
calibration text (GPTQ) needs --tokenizer, or a tok<vocab>.bin / tokenizer.bin in MODEL_DIR;
without --calib the layers are rounded to nearest. To try it on the shared data:

  python3 tests/make_safetensors.py ../shared/data/models/stories260K/stories260K.bin /tmp/st
  python examples/quantize_safetensors.py /tmp/st /tmp/st.gguf \
      --calib ../shared/data/text/tinystories_val.txt --tokenizer ../shared/data/models/stories260K/tok512.bin
"""
import argparse
import json
import sys

import llvq


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("out")
    ap.add_argument("--codec", default="llvq-sg", help="codec spec (llvq.codecs() lists them)")
    ap.add_argument("--rule", action="append", default=[], help="PATTERN=SPEC or PATTERN=keep, repeatable")
    ap.add_argument("--calib", help="calibration text file")
    ap.add_argument("--calib-tokens", type=int, default=4096)
    ap.add_argument("--tokenizer", help="llama2.c tokenizer.bin, when the checkpoint has none LLVQ reads")
    ap.add_argument("--rounding", default="gptq", choices=["rtn", "gptq", "spherical-gptq"])
    ap.add_argument("--force", action="store_true", help="replace OUT if it exists")
    a = ap.parse_args(argv)

    model = llvq.load_model(a.model_dir, tokenizer=a.tokenizer)
    c = model.config
    print(f"{a.model_dir}: dim {c['dim']}, {c['n_layers']} layers, vocab {c['vocab_size']}", file=sys.stderr)
    report = llvq.quantize(model, a.out, a.codec, rules=a.rule, calib=a.calib, calib_tokens=a.calib_tokens,
                           rounding=a.rounding if a.calib else "rtn", force=a.force)
    summary = {k: report[k] for k in ("bpw", "size_bytes", "input_size_bytes", "calib_tokens", "seconds")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
