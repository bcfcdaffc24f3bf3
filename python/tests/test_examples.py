"""The examples run end to end on small inputs."""
import os
import subprocess
import sys

import llvq
from conftest import ROOT, data_file


def run(*args):
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_quantize_safetensors_example(tmp_path):
    model, tok = data_file("models/stories260K/stories260K.bin"), data_file("models/stories260K/tok512.bin")
    text = data_file("text/tinystories_val.txt")
    run(os.path.join(ROOT, "tests", "make_safetensors.py"), model, tmp_path / "st")
    out = tmp_path / "st.gguf"
    run("examples/quantize_safetensors.py", tmp_path / "st", out, "--calib", text, "--tokenizer", tok,
        "--calib-tokens", 1024)
    q = llvq.load_model(out)
    assert q.metadata["llvq.rounding"] == "gptq" and q.metadata["llvq.calib_tokens"] == "1024"
    assert isinstance(q.linear("blk.0.ffn_down.weight"), llvq.QuantizedTensor)
    r = subprocess.run([sys.executable, "examples/quantize_safetensors.py", tmp_path / "st", out], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode != 0 and "exists" in r.stderr  # never replaced without --force


def test_compare_codecs_example():
    out = run("examples/compare_codecs.py", "--rows", 16, "--cols", 240, "--codecs", "e8p;llvq-sg;llvq-ss:bpw=4")
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert set(rows) == {"e8p", "llvq-sg", "llvq-ss:bpw=4"}
    assert float(rows["llvq-ss:bpw=4"][2]) < float(rows["llvq-sg"][2])  # more bits, less error
