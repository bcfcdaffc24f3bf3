import hashlib
import json
import sys
import os

import numpy as np
import pytest

import llvq

from conftest import data_file

CALIB_TOKENS = 2048


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    """stories260K quantized by the CLI and by Python with the same options: (cli, python)."""
    import subprocess

    from conftest import ROOT
    cli = os.environ.get("LLVQ_CLI") or os.path.join(ROOT, "build", "llvq")
    if not os.path.exists(cli):
        pytest.skip(f"missing llvq CLI: {cli}")
    model = data_file("models/stories260K/stories260K.bin")
    text = data_file("text/tinystories_val.txt")
    d = tmp_path_factory.mktemp("quantized")
    by_cli, by_py = str(d / "cli.gguf"), str(d / "py.gguf")
    done = subprocess.run([cli, "quantize", "--model", model, "--out", by_cli, "--codec", "llvq-sg", "--calib", text,
                           "--calib-tokens", str(CALIB_TOKENS), "--json"], check=True, capture_output=True, text=True)
    report = llvq.quantize(model, by_py, "llvq-sg", calib=text, calib_tokens=CALIB_TOKENS, progress=False)
    return by_cli, by_py, report, json.loads(done.stdout)


def test_quantized_file_is_the_clis_byte_for_byte(compressed):
    by_cli, by_py, report, cli_summary = compressed
    assert sha(by_cli) == sha(by_py)
    # The summary carries every key of `llvq quantize --json`, per tensor too.
    assert set(cli_summary) <= set(report), set(cli_summary) - set(report)
    assert set(cli_summary["tensors"][0]) <= set(report["tensors"][0])
    assert report["blocks"] == cli_summary["blocks"] > 0
    assert report["calib_tokens"] == CALIB_TOKENS and len(report["tensors"]) == 35
    assert 2.0 < report["bpw"] < 3.0 and report["size_bytes"] == os.path.getsize(by_py)


def test_rules_and_rtn_fallback_match_the_cli(cli, stories_bin, tmp_path):
    by_cli, by_py = tmp_path / "cli.gguf", tmp_path / "py.gguf"
    cli("quantize", "--model", stories_bin, "--out", by_cli, "--codec", "e8p", "--rule", "ffn_down=llvq-ss:bpw=3",
        "--rule", "attn_v=keep", "--dense-type", "f16", "--seed", 7)
    with pytest.warns(UserWarning, match="RTN"):
        r = llvq.quantize(stories_bin, by_py, "e8p", rules=["ffn_down=llvq-ss:bpw=3", "attn_v=keep"], dense_type="f16",
                          seed=7, progress=False)
    assert sha(by_cli) == sha(by_py)
    assert r["rounding"] == "gptq" and llvq.load_model(by_py).metadata["llvq.rounding"] == "rtn"
    assert len(r["kept"]) == 5


@pytest.mark.parametrize("protocol", ["windows", "llamacpp"])
def test_perplexity_matches_cli(cli, compressed, tinystories, protocol):
    _, by_py, _, _ = compressed
    r = llvq.evaluate(by_py, tinystories, ctx=256, protocol=protocol, max_tokens=4096, progress=False)
    c = cli("eval", "--model", by_py, "--text", tinystories, "--ctx", 256, "--protocol", protocol, "--max-tokens", 4096,
            "--json", json_out=True)
    for k in ("tokens", "windows", "text_tokens"):
        assert r[k] == c[k], k
    # Bit for bit when the module is compiled as the CLI is (scripts/test.sh builds both with
    # -march=native); a wheel built without it sums with other roundings (no FMA contraction).
    same_flags = llvq._core.built_native
    for k in ("ppl", "ppl_stderr", "nll"):
        assert r[k] == (c[k] if same_flags else pytest.approx(c[k], rel=1e-6)), k
    assert 1.0 < r["ppl"] < 100


def test_kl_against_the_fp32_model(stories_bin, compressed, tinystories, tmp_path):
    _, by_py, _, _ = compressed
    base = tmp_path / "base.kl"
    llvq.evaluate(stories_bin, tinystories, ctx=256, max_tokens=2048, kl_base=base, progress=False)
    with pytest.raises(ValueError, match="exists"):
        llvq.evaluate(stories_bin, tinystories, ctx=256, max_tokens=2048, kl_base=base, progress=False)
    r = llvq.evaluate(by_py, tinystories, ctx=256, max_tokens=2048, kl=base, progress=False)
    assert 0 < r["kl"] < 5 and 0 < r["top1_agreement"] <= 1
    same = llvq.evaluate(stories_bin, tinystories, ctx=256, max_tokens=2048, kl=base, progress=False)
    assert same["kl"] == pytest.approx(0, abs=1e-6) and same["top1_agreement"] == 1


def test_generation_matches_cli(cli, compressed):
    _, by_py, _, _ = compressed
    pieces = []
    r = llvq.generate(by_py, "Once upon a time", max_new_tokens=24, temperature=0, on_text=pieces.append)
    c = cli("run", "--model", by_py, "--prompt", "Once upon a time", "-n", 24, "--temp", 0, "--json", json_out=True)
    assert r["text"] == c["text"] and r["generated_tokens"] == c["generated_tokens"] and r["stop"] == c["stop"]
    assert "".join(pieces).strip() == r["text"].strip() != ""


def test_tokenize_matches_cli(cli, stories_bin):
    m = llvq.load_model(stories_bin)
    text = "Lily saw a big dog. It was 3 o'clock!"
    c = cli("tokenize", "--model", stories_bin, "-p", text, "--json", json_out=True)
    np.testing.assert_array_equal(m.tokenize(text), c["ids"])
    assert m.detokenize(m.tokenize(text)) == text


def test_compressed_layers_read_back_exactly(stories_bin, compressed):
    _, by_py, _, _ = compressed
    fp32 = llvq.load_model(stories_bin)
    q = fp32.quantize("llvq-sg", calib=data_file("text/tinystories_val.txt"), calib_tokens=CALIB_TOKENS, progress=False)
    back = llvq.load_model(by_py)
    names = back.linear_names()
    assert names == fp32.linear_names() and len(names) == 35
    for name in names[:7]:
        a, b = q.linear(name), back.linear(name)
        assert isinstance(b, llvq.QuantizedTensor)
        np.testing.assert_array_equal(a.body_codes, b.body_codes)
        np.testing.assert_array_equal(a.dequantize(), b.dequantize())
    assert isinstance(fp32.linear(names[0]), np.ndarray)  # the loaded model is unchanged
    tokens = fp32.tokenize("Once upon a time there was")
    np.testing.assert_array_equal(q.logits(tokens), back.logits(tokens))


def test_progress_callback_and_abort(stories_bin, tinystories):
    m = llvq.load_model(stories_bin)
    seen = []
    m.quantize("e8p", calib=tinystories, calib_tokens=1024, progress=lambda *a: seen.append(a))
    stages = [s for s, *_ in seen]
    assert "calibration" in stages and stages.count("quantize") == 35
    assert seen[-1][:3] == ("quantize", 35, 35)

    class Stop(Exception):
        pass

    def stop(stage, done, total, detail):
        if stage == "quantize" and done == 3:
            raise Stop()
    with pytest.raises(Stop):
        m.quantize("e8p", progress=stop, rounding="rtn")


def test_outputs_are_never_replaced_without_force(stories_bin, tmp_path):
    m = llvq.load_model(stories_bin)
    out = tmp_path / "m.gguf"
    out.write_bytes(b"keep me")
    with pytest.raises(ValueError, match="exists"):
        m.save(out)
    assert out.read_bytes() == b"keep me"
    m.save(out, force=True)
    assert llvq.load_model(out).config == m.config
    with pytest.raises(ValueError, match="input|read from"):
        m.save(stories_bin, force=True)
    with pytest.raises(ValueError, match="exists"):
        llvq.quantize(stories_bin, out, "e8p", progress=False)


def test_bad_model_input(stories_bin, tmp_path):
    with pytest.raises(ValueError):
        llvq.load_model(tmp_path / "nothing.bin")
    m = llvq.load_model(stories_bin)
    with pytest.raises(ValueError, match="not in 0..511"):
        m.logits(np.array([1, 600], np.int32))
    with pytest.raises(ValueError, match="int32"):
        m.logits(np.array([1, 2], np.int64))
    with pytest.raises(ValueError, match="no linear layer"):
        m.linear("blk.99.attn_q.weight")
    with pytest.raises(ValueError):
        m.quantize("nope", progress=False)
    with pytest.raises(ValueError):
        m.perplexity(m.tokenize("too short"), ctx=512, progress=False)


@pytest.mark.parametrize("with_tqdm", [True, False])
def test_default_progress_draws_bars_or_lines(stories_bin, capsys, monkeypatch, with_tqdm):
    if with_tqdm:
        pytest.importorskip("tqdm", reason="tqdm is not installed (pip install tqdm)")
    else:
        monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if tqdm were not installed
    llvq.load_model(stories_bin).quantize("e8p", rounding="rtn")
    err = capsys.readouterr().err
    assert "quantize" in err and "35/35" in err
    assert ("it/s" in err or "%|" in err) == with_tqdm
