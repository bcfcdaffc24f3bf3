"""llvq.torch on a small Llama with random weights, built here: a plain PyTorch forward pass
whose linear layers are replaced by QuantizedLinear modules from a compressed GGUF must give
the logits of LLVQ's own forward pass and the perplexity `llvq eval` reports."""
import os
import shutil
import struct

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch --index-url "
                                            "https://download.pytorch.org/whl/cpu); the llvq.torch tests need it")
from torch import nn  # noqa: E402

import llvq  # noqa: E402
import llvq.torch as lt  # noqa: E402

DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ = 48, 120, 2, 4, 2, 512, 128
CTX = 64


def random_llama(rng):
    kv = DIM * KV_HEADS // HEADS
    n = lambda *s: (0.08 * rng.standard_normal(s)).astype(np.float32)  # noqa: E731
    return {"embed": n(VOCAB, DIM), "rms_att": 1 + n(LAYERS, DIM), "wq": n(LAYERS, DIM, DIM), "wk": n(LAYERS, kv, DIM),
            "wv": n(LAYERS, kv, DIM), "wo": n(LAYERS, DIM, DIM), "rms_ffn": 1 + n(LAYERS, DIM),
            "w1": n(LAYERS, HIDDEN, DIM), "w2": n(LAYERS, DIM, HIDDEN), "w3": n(LAYERS, HIDDEN, DIM),
            "rms_final": 1 + n(DIM)}


def write_llama2c(path, w):
    """llama2.c version 0: header, the arrays in its order, and its (unused) RoPE tables."""
    rope = np.zeros(SEQ * (DIM // HEADS // 2), np.float32)
    with open(path, "wb") as f:
        f.write(struct.pack("7i", DIM, HIDDEN, LAYERS, HEADS, KV_HEADS, VOCAB, SEQ))
        for k in ("embed", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3", "rms_final"):
            f.write(w[k].tobytes())
        f.write(rope.tobytes() * 2)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        kv = DIM * KV_HEADS // HEADS
        self.wq, self.wk = nn.Linear(DIM, DIM, bias=False), nn.Linear(DIM, kv, bias=False)
        self.wv, self.wo = nn.Linear(DIM, kv, bias=False), nn.Linear(DIM, DIM, bias=False)

    def forward(self, x, cos, sin):
        t, hd = x.shape[0], DIM // HEADS
        q = rope(self.wq(x).view(t, HEADS, hd), cos, sin)
        k = rope(self.wk(x).view(t, KV_HEADS, hd), cos, sin).repeat_interleave(HEADS // KV_HEADS, dim=1)
        v = self.wv(x).view(t, KV_HEADS, hd).repeat_interleave(HEADS // KV_HEADS, dim=1)
        att = torch.einsum("qhd,khd->hqk", q, k) / hd ** 0.5
        att = att.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        return self.wo(torch.einsum("hqk,khd->qhd", att, v).reshape(t, DIM))


class FeedForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.w3 = nn.Linear(DIM, HIDDEN, bias=False), nn.Linear(DIM, HIDDEN, bias=False)
        self.w2 = nn.Linear(HIDDEN, DIM, bias=False)

    def forward(self, x):
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


def rope(x, cos, sin):
    """Interleaved RoPE: dimensions (2i, 2i+1) of each head rotate together (llama2.c, GGUF)."""
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention, self.feed_forward = Attention(), FeedForward()
        self.attention_norm, self.ffn_norm = nn.Parameter(torch.ones(DIM)), nn.Parameter(torch.ones(DIM))


class Llama(nn.Module):
    """Meta / llama2.c module names; tied classifier."""

    def __init__(self, w):
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.norm = nn.Parameter(torch.from_numpy(w["rms_final"]))
        with torch.no_grad():
            self.tok_embeddings.weight.copy_(torch.from_numpy(w["embed"]))
            for i, b in enumerate(self.layers):
                b.attention_norm.copy_(torch.from_numpy(w["rms_att"][i]))
                b.ffn_norm.copy_(torch.from_numpy(w["rms_ffn"][i]))
                for lin, k in ((b.attention.wq, "wq"), (b.attention.wk, "wk"), (b.attention.wv, "wv"),
                               (b.attention.wo, "wo"), (b.feed_forward.w1, "w1"), (b.feed_forward.w2, "w2"),
                               (b.feed_forward.w3, "w3")):
                    lin.weight.copy_(torch.from_numpy(w[k][i]))

    @torch.no_grad()
    def forward(self, tokens):
        t, hd = len(tokens), DIM // HEADS
        freqs = 10000.0 ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
        ang = torch.arange(t, dtype=torch.float64)[:, None] * freqs
        cos, sin = ang.cos().float()[:, None, :], ang.sin().float()[:, None, :]
        x = self.tok_embeddings(torch.as_tensor(tokens, dtype=torch.long))
        for b in self.layers:
            x = x + b.attention(rms(x, b.attention_norm), cos, sin)
            x = x + b.feed_forward(rms(x, b.ffn_norm))
        return rms(x, self.norm) @ self.tok_embeddings.weight.T


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from conftest import data_file
    tok = data_file("models/stories260K/tok512.bin")
    d = tmp_path_factory.mktemp("torch_llama")
    w = random_llama(np.random.default_rng(7))
    write_llama2c(d / "model.bin", w)
    shutil.copy(tok, d / "tokenizer.bin")
    gguf = d / "q.gguf"
    llvq.quantize(d / "model.bin", gguf, "llvq-sg", rounding="rtn", progress=False)
    return w, d, gguf


def test_quantized_module_matches_llvq_forward_and_eval(setup, cli, tinystories):
    w, d, gguf = setup
    module = Llama(w)
    replaced = lt.replace_linear_layers(module, gguf)
    assert len(replaced) == 7 * LAYERS
    assert isinstance(module.layers[1].feed_forward.w2, lt.QuantizedLinear)
    compressed = llvq.load_model(gguf)
    tokens = compressed.tokenize(open(tinystories, "rb").read()[:20000])[:2 * CTX]
    nll = []
    for start in (0, CTX):
        window = tokens[start:start + CTX]
        logits = module(window)
        np.testing.assert_allclose(logits.numpy(), compressed.logits(window), rtol=1e-4, atol=2e-4)
        logp = torch.log_softmax(logits.double(), -1)
        nll += (-logp[:-1].gather(1, torch.as_tensor(window[1:], dtype=torch.long)[:, None])).flatten().tolist()
    r = cli("eval", "--model", gguf, "--text", tinystories, "--ctx", CTX, "--max-tokens", 2 * CTX, "--json", json_out=True)
    assert r["tokens"] == len(nll)
    assert np.mean(nll) == pytest.approx(r["nll"], rel=1e-5)
    # The quantization is not a no-op: the fp32 module gives other logits.
    assert not np.allclose(Llama(w)(tokens[:CTX]).numpy(), module(tokens[:CTX]).numpy(), atol=1e-3)


def test_quantized_linear_batches_dtypes_and_errors(setup):
    _, _, gguf = setup
    q = llvq.load_model(gguf).linear("blk.0.ffn_up.weight")
    lin = lt.QuantizedLinear(q, bias=torch.arange(HIDDEN, dtype=torch.float32))
    x = torch.randn(3, 5, DIM)
    ref = x @ torch.from_numpy(q.dequantize()).T + torch.arange(HIDDEN)
    torch.testing.assert_close(lin(x), ref, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(lin(x[0, 0]), ref[0, 0], rtol=1e-4, atol=1e-4)  # one token: the fused kernel
    assert lin(x.to(torch.bfloat16)).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="expected input"):
        lin(torch.randn(2, DIM + 1))
    with pytest.raises(ValueError, match="NaN"):
        lin(torch.full((1, DIM), float("nan")))


def test_hugging_face_layout_reorders_q_and_k(setup):
    """A module with Hugging Face names holds q/k rows in half-split order: the replaced
    layers must give that order's outputs."""
    _, _, gguf = setup
    model = llvq.load_model(gguf)
    hf = nn.Module()
    hf.model = nn.Module()
    hf.model.layers = nn.ModuleList()
    for i in range(LAYERS):
        layer = nn.Module()
        layer.self_attn, layer.mlp = nn.Module(), nn.Module()
        for kind, name, heads in (("attn_q", "q_proj", HEADS), ("attn_k", "k_proj", KV_HEADS),
                                  ("attn_v", "v_proj", None), ("attn_output", "o_proj", None)):
            wq = model.linear(f"blk.{i}.{kind}.weight").dequantize()
            if heads:
                wq = wq.reshape(heads, -1, 2, DIM).transpose(0, 2, 1, 3).reshape(-1, DIM)  # HF's permutation
            lin = nn.Linear(DIM, wq.shape[0], bias=False)
            lin.weight.data = torch.from_numpy(np.ascontiguousarray(wq))
            setattr(layer.self_attn, name, lin)
        for kind, name, shape in (("ffn_gate", "gate_proj", (HIDDEN, DIM)), ("ffn_down", "down_proj", (DIM, HIDDEN)),
                                  ("ffn_up", "up_proj", (HIDDEN, DIM))):
            setattr(layer.mlp, name, nn.Linear(shape[1], shape[0], bias=False))
        hf.model.layers.append(layer)
    x = torch.randn(4, DIM)
    dense_q, dense_k = hf.model.layers[1].self_attn.q_proj(x), hf.model.layers[1].self_attn.k_proj(x)
    assert len(lt.replace_linear_layers(hf, gguf)) == 7 * LAYERS
    torch.testing.assert_close(hf.model.layers[1].self_attn.q_proj(x), dense_q, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(hf.model.layers[1].self_attn.k_proj(x), dense_k, rtol=1e-4, atol=1e-4)


def test_strict_replacement_needs_matching_layers(setup):
    _, _, gguf = setup
    with pytest.raises(ValueError, match="no nn.Linear"):
        lt.replace_linear_layers(nn.Sequential(nn.Linear(DIM, DIM)), gguf)
    assert lt.replace_linear_layers(nn.Sequential(nn.Linear(DIM, DIM)), gguf, strict=False) == []
