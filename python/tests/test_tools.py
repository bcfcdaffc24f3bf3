"""llvq.inspect, llvq.convert and llvq.compare against ``llvq inspect|convert|compare --json``
on the same input: the same library functions, so the same dicts (timings aside); and
llvq.compare_matrix against quantize_matrix."""
import hashlib

import numpy as np
import pytest

import llvq

from conftest import data_file

TIMINGS = {"seconds", "load_seconds", "save_seconds"}


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def without_timings(d):
    """The dict with its wall-clock fields dropped, at every level."""
    if isinstance(d, dict):
        return {k: without_timings(v) for k, v in d.items() if k not in TIMINGS}
    if isinstance(d, list):
        return [without_timings(v) for v in d]
    return d


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    """stories260K with e8p and RTN (seconds to make): a GGUF file with compressed layers."""
    out = tmp_path_factory.mktemp("tools") / "e8p.gguf"
    llvq.quantize(data_file("models/stories260K/stories260K.bin"), out, "e8p", rounding="rtn", progress=False)
    return str(out)


@pytest.mark.parametrize("all_items", [False, True])
def test_inspect_of_a_compressed_file_is_the_clis(cli, compressed, all_items):
    flags = ["--all"] if all_items else []
    r = llvq.inspect(compressed, all=all_items)
    assert r == cli("inspect", compressed, "--json", *flags, json_out=True)
    keys = {m["key"]: m["value"] for m in r["metadata"]}
    assert r["format"] == "gguf" and keys["llvq.codec"].startswith("e8p") and keys["llvq.rounding"] == "rtn"
    assert any(t["name"].endswith(".llvq_body") for t in r["tensors"])
    vocab = next(m["value"] for m in r["metadata"] if m["key"] == "tokenizer.ggml.tokens")
    assert len(vocab["items"]) == (vocab["length"] if all_items else 8)


def test_inspect_of_a_llama2c_model_is_the_clis(cli, stories_bin):
    r = llvq.inspect(stories_bin)
    assert r == cli("inspect", stories_bin, "--json", json_out=True)
    assert r["format"].startswith("llama2c") and r["config"]["dim"] == 64 and r["parameters"] > 0


def test_convert_is_the_clis(cli, compressed, tmp_path):
    by_cli, by_py = tmp_path / "cli.gguf", tmp_path / "py.gguf"
    c = cli("convert", compressed, by_cli, "--type", "f16", "--json", json_out=True)
    r = llvq.convert(compressed, by_py, type="f16")
    assert sha(by_cli) == sha(by_py)
    c["output"] = r["output"]  # the one field that differs: the path asked for
    assert without_timings(r) == without_timings(c)
    assert r["decompressed_layers"] == 35 and r["type"] == "f16"
    with pytest.raises(ValueError, match="exists"):
        llvq.convert(compressed, by_py)
    with pytest.raises(ValueError, match="must end in .gguf"):
        llvq.convert(compressed, tmp_path / "out.bin")


def test_compare_is_the_clis(cli, stories_bin, tinystories):
    args = dict(calib_tokens=1024, eval_tokens=2048, ctx=128)
    c = cli("compare", "--model", stories_bin, "--codecs", "e8p;llvq-sg", "--rounding", "rtn,gptq", "--calib",
            tinystories, "--calib-tokens", 1024, "--eval-tokens", 2048, "--ctx", 128, "--recipe", "ffn_down=e8p",
            "--json", json_out=True)
    r = llvq.compare(stories_bin, ["e8p", "llvq-sg"], rounding=["rtn", "gptq"], calib=tinystories,
                     recipes=["ffn_down=e8p"], progress=False, **args)
    e8p, sg = (llvq._core.canonical_codec_spec(c) for c in ("e8p", "llvq-sg"))
    assert [(row["codec"], row["rounding"]) for row in r["rows"]] == [
        ("fp32", "-"), (e8p, "rtn"), (e8p, "gptq"), (sg, "rtn"), (sg, "gptq"), (f"ffn_down={e8p}", "rtn"),
        (f"ffn_down={e8p}", "gptq")]
    if llvq._core.built_native:  # compiled as the CLI is: the same sums (test_models.py)
        assert without_timings(r) == without_timings(c)
    else:
        assert r.keys() == c.keys() and r["eval_sets"] == c["eval_sets"]
        for a, b in zip(r["rows"], c["rows"]):
            assert a["codec"] == b["codec"] and a["bpw"] == b["bpw"]
            assert a["ppl_windows"] == pytest.approx(b["ppl_windows"], rel=1e-6)
    assert r["calib_tokens"] == 1024 and r["eval_sets"][0]["name"] == "tinystories_val.txt (2nd half)"
    assert r["rows"][0]["delta_ppl_windows"] == [0.0] and r["rows"][1]["kl"] > 0


def test_compare_reports_progress_and_warns_without_calibration(stories_bin, tinystories):
    seen = []
    with pytest.warns(UserWarning, match="RTN"):
        r = llvq.compare(stories_bin, "e8p", eval_texts=[tinystories], eval_tokens=1024, ctx=128,
                         progress=lambda *a: seen.append(a))
    assert [row["rounding"] for row in r["rows"]] == ["-", "rtn"]
    assert seen == [("compare", 1, 1, llvq._core.canonical_codec_spec("e8p"))]


def test_bad_input_is_a_value_error_with_the_librarys_message(stories_bin, tinystories, tmp_path):
    with pytest.raises(ValueError, match="no-such-file"):
        llvq.inspect(tmp_path / "no-such-file.gguf")
    with pytest.raises(ValueError, match="nope"):
        llvq.compare(stories_bin, "nope", calib=tinystories, progress=False)
    with pytest.raises(ValueError, match="rounding"):
        llvq.compare(stories_bin, "e8p", rounding="sideways", calib=tinystories, progress=False)
    with pytest.raises(ValueError, match="evaluation text"):
        llvq.compare(stories_bin, "e8p", rounding="rtn", progress=False)
    with pytest.raises(ValueError, match="no codec"):
        llvq.compare(stories_bin, [], calib=tinystories, progress=False)
    with pytest.raises(ValueError, match="format"):
        llvq.convert(stories_bin, tmp_path / "x.gguf", format="onnx")


def test_compare_matrix_is_quantize_matrix_per_codec(rng):
    w = rng.standard_normal((16, 240)).astype(np.float32)
    rows = llvq.compare_matrix(w, "e8p;llvq-sg")
    w64 = w.astype(np.float64)
    for spec, r in zip(["e8p", "llvq-sg"], rows):
        q = llvq.quantize_matrix(w, spec, rounding="rtn")
        assert r["codec"] == q.codec and r["bpw"] == q.bits_per_weight and r["rounding"] == "rtn"
        assert r["rel_error"] == pytest.approx(((q.dequantize() - w64) ** 2).sum() / (w64 ** 2).sum(), rel=1e-12)
    assert rows[0]["rel_error"] > 0
    with pytest.raises(ValueError, match="nope"):
        llvq.compare_matrix(w, ["nope"])
