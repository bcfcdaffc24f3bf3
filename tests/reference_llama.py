#!/usr/bin/env python3
"""Independent NumPy reference for LLVQ's tokenizer and Llama forward pass.

Reads llama2.c files itself (checkpoint and tokenizer.bin), tokenizes with llama2.c's
encode rule, runs the forward pass in float64 and scores windows. The C++ tests run it and
compare; nothing here shares code with the C++ implementation.

  reference_llama.py tokenize --tokenizer T (--text S | --text-file F [--max-chars N])
  reference_llama.py logits   --model M --tokens 1,2,3 [--rope-theta X] [--rope-style interleaved|halfsplit]
  reference_llama.py nll      --model M --tokenizer T --text-file F --ctx N --max-tokens N

Each prints one JSON object on stdout.
"""
import argparse
import json
import struct
import sys

import numpy as np


# ---------------------------------------------------------------- tokenizer (llama2.c form)

def read_tokenizer(path):
    data = open(path, "rb").read()
    pos = 4
    pieces, scores = [], []
    while pos < len(data):
        score, length = struct.unpack_from("<fi", data, pos)
        pos += 8
        pieces.append(data[pos:pos + length])
        scores.append(score)
        pos += length
    return pieces, scores


class Llama2cTokenizer:
    """llama2.c's encode(), literally: per code point lookup with byte fallback (+3), then
    repeatedly merge the best-scoring adjacent pair (first one on ties)."""

    def __init__(self, path):
        self.pieces, self.scores = read_tokenizer(path)
        self.ids = {}
        for i, p in enumerate(self.pieces):
            self.ids.setdefault(p, i)
        # Splitting text into words is exact only if no piece has a space after a
        # non-space byte; check that instead of assuming it.
        for p in self.pieces:
            stripped = p.lstrip(b" ")
            assert b" " not in stripped, "piece with an inner space: word splitting would be wrong"
        self.cache = {}

    def _encode_segment(self, seg):
        if seg in self.cache:
            return self.cache[seg]
        toks = []
        text = seg.encode("utf-8")
        i = 0
        while i < len(text):
            j = i + 1
            while j < len(text) and j - i < 4 and (text[j] & 0xC0) == 0x80:
                j += 1
            cp = text[i:j]
            if cp in self.ids:
                toks.append(self.ids[cp])
            else:
                toks.extend(b + 3 for b in cp)
            i = j
        while True:
            best, best_id, best_idx = -1e10, -1, -1
            for k in range(len(toks) - 1):
                merged = self.pieces[toks[k]] + self.pieces[toks[k + 1]]
                mid = self.ids.get(merged, -1)
                if mid != -1 and self.scores[mid] > best:
                    best, best_id, best_idx = self.scores[mid], mid, k
            if best_idx == -1:
                break
            toks[best_idx:best_idx + 2] = [best_id]
        self.cache[seg] = toks
        return toks

    def encode(self, text, bos=True):
        toks = [1] if bos else []
        if not text:
            return toks
        text = " " + text  # llama2.c's dummy prefix
        start = 0
        for i in range(1, len(text) + 1):
            # A segment ends before a space that follows a non-space character.
            if i == len(text) or (text[i] == " " and text[i - 1] != " "):
                toks.extend(self._encode_segment(text[start:i]))
                start = i
        return toks


# ---------------------------------------------------------------- model

def read_checkpoint(path):
    raw = open(path, "rb").read()
    dim, hidden, n_layers, n_heads, n_kv, vocab, seq_len = struct.unpack_from("<7i", raw, 0)
    shared = vocab > 0
    vocab = abs(vocab)
    w = np.frombuffer(raw, dtype="<f4", offset=28).astype(np.float64)
    head = dim // n_heads
    kv_dim = dim * n_kv // n_heads
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        a = w[off:off + n].reshape(shape)
        off += n
        return a

    m = dict(dim=dim, hidden=hidden, n_layers=n_layers, n_heads=n_heads, n_kv=n_kv, vocab=vocab,
             seq_len=seq_len, head=head, kv_dim=kv_dim)
    m["emb"] = take(vocab, dim)
    m["rms_att"] = take(n_layers, dim)
    m["wq"] = take(n_layers, dim, dim)
    m["wk"] = take(n_layers, kv_dim, dim)
    m["wv"] = take(n_layers, kv_dim, dim)
    m["wo"] = take(n_layers, dim, dim)
    m["rms_ffn"] = take(n_layers, dim)
    m["w1"] = take(n_layers, hidden, dim)
    m["w2"] = take(n_layers, dim, hidden)
    m["w3"] = take(n_layers, hidden, dim)
    m["rms_final"] = take(dim)
    take(seq_len * head // 2)  # legacy RoPE tables
    take(seq_len * head // 2)
    m["wcls"] = m["emb"] if shared else take(vocab, dim)
    return m


def rmsnorm(x, g, eps=1e-5):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * g


def rope(x, n_heads_x, head, theta, style):
    """x: [T, n_heads_x*head]; rotates each head's pairs by position * frequency."""
    T = x.shape[0]
    x = x.reshape(T, n_heads_x, head).copy()
    half = head // 2
    freq = 1.0 / theta ** (np.arange(half) * 2.0 / head)
    ang = np.arange(T)[:, None] * freq[None, :]  # [T, half]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    if style == "interleaved":
        a, b = x[..., 0::2].copy(), x[..., 1::2].copy()
        x[..., 0::2], x[..., 1::2] = a * c - b * s, a * s + b * c
    else:
        a, b = x[..., :half].copy(), x[..., half:].copy()
        x[..., :half], x[..., half:] = a * c - b * s, a * s + b * c
    return x.reshape(T, -1)


def forward(m, tokens, theta=10000.0, style="interleaved"):
    """Logits [T, vocab] for a window starting at position 0."""
    T = len(tokens)
    H, KV, hd = m["n_heads"], m["n_kv"], m["head"]
    x = m["emb"][tokens]
    causal = np.tril(np.ones((T, T), dtype=bool))
    for l in range(m["n_layers"]):
        h = rmsnorm(x, m["rms_att"][l])
        q = rope(h @ m["wq"][l].T, H, hd, theta, style).reshape(T, H, hd)
        k = rope(h @ m["wk"][l].T, KV, hd, theta, style).reshape(T, KV, hd)
        v = (h @ m["wv"][l].T).reshape(T, KV, hd)
        o = np.empty((T, H, hd))
        for j in range(H):
            kv = j // (H // KV)  # grouped-query attention: query head j reads kv head kv
            att = q[:, j, :] @ k[:, kv, :].T / np.sqrt(hd)  # [T, T]
            att[~causal] = -np.inf
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            o[:, j, :] = (att / att.sum(axis=-1, keepdims=True)) @ v[:, kv, :]
        o = o.reshape(T, H * hd)
        x = x + o @ m["wo"][l].T
        h = rmsnorm(x, m["rms_ffn"][l])
        g = h @ m["w1"][l].T
        u = h @ m["w3"][l].T
        x = x + ((g / (1.0 + np.exp(-g))) * u) @ m["w2"][l].T
    return rmsnorm(x, m["rms_final"]) @ m["wcls"].T


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------- commands

def read_text(args):
    if args.text is not None:
        return args.text
    text = open(args.text_file, encoding="utf-8").read()
    if args.max_chars:
        text = text[:args.max_chars]
    return text


def tokens_for(tok, path, max_tokens):
    """The first max_tokens tokens of the whole file, tokenized once with one BOS. Only a
    prefix is tokenized, cut before a space that follows a non-space (a segment border, so
    the prefix's tokens are exactly the whole text's)."""
    text = open(path, encoding="utf-8").read()
    n_chars = max_tokens * 4
    while True:
        cut = len(text) if n_chars >= len(text) else text.rfind(" ", 0, n_chars)
        while 0 < cut < len(text) and text[cut - 1] == " ":
            cut -= 1
        toks = tok.encode(text[:cut])
        if len(toks) >= max_tokens or cut >= len(text):
            return toks[:max_tokens]
        n_chars *= 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["tokenize", "logits", "nll"])
    ap.add_argument("--tokenizer")
    ap.add_argument("--model")
    ap.add_argument("--text")
    ap.add_argument("--text-file")
    ap.add_argument("--max-chars", type=int, default=0)
    ap.add_argument("--tokens")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--max-tokens", type=int, default=0)
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--rope-style", choices=["interleaved", "halfsplit"], default="interleaved")
    args = ap.parse_args()

    if args.command == "tokenize":
        print(json.dumps({"tokens": Llama2cTokenizer(args.tokenizer).encode(read_text(args))}))
    elif args.command == "logits":
        m = read_checkpoint(args.model)
        toks = [int(t) for t in args.tokens.split(",")]
        logits = forward(m, toks, args.rope_theta, args.rope_style)
        print(json.dumps({"logits": logits.tolist()}))
    else:
        m = read_checkpoint(args.model)
        toks = tokens_for(Llama2cTokenizer(args.tokenizer), args.text_file, args.max_tokens)
        windows = len(toks) // args.ctx
        nll = []
        for w in range(windows):
            win = toks[w * args.ctx:(w + 1) * args.ctx]
            lp = log_softmax(forward(m, win, args.rope_theta, args.rope_style))
            nll.extend(-lp[np.arange(args.ctx - 1), win[1:]])
        nll = np.array(nll)
        print(json.dumps({"nll": float(nll.mean()), "ppl": float(np.exp(nll.mean())), "tokens": int(nll.size),
                          "windows": windows, "n_input_tokens": len(toks)}))


if __name__ == "__main__":
    sys.exit(main())
