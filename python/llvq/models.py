"""Whole models: load any supported file (llama2.c, GGUF, safetensors directory), quantize
it, save compressed GGUF, evaluate perplexity and KL divergence, generate text.

The functions :func:`quantize`, :func:`evaluate`, :func:`generate`, :func:`compare`,
:func:`inspect` and :func:`convert` do what the CLI's ``llvq quantize``, ``llvq eval``,
``llvq run``, ``llvq compare``, ``llvq inspect`` and ``llvq convert`` do, through the same
library calls, and return what those commands print with ``--json`` as dicts. :class:`Model` gives the
steps one by one.
"""
import json
import os
import warnings

import numpy as np

from . import _core
from ._progress import Reporting
from .tensor import QuantizedTensor


def _read_bytes(path):
    """A text file's bytes, verbatim (the tokenizers take UTF-8 bytes, as the CLI reads them)."""
    if not os.path.isfile(path):
        raise ValueError(f"{path}: not a regular file")
    with open(path, "rb") as f:
        return f.read()


def _tokens(tokens):
    """Token ids as the C++ side takes them; ValueError (not a silent cast) for other types."""
    if isinstance(tokens, (list, tuple)):
        return np.asarray(tokens, dtype=np.int32)
    return tokens


class Model:
    """A Llama-architecture model in memory (fp32 activations; linear layers dense or
    compressed), with its tokenizer when it has one. Made by :func:`load_model` or
    :meth:`quantize`."""

    def __init__(self, core, report=None):
        self._m = core
        #: The quantization report (dict) of a model made by :meth:`quantize`, else None.
        self.report = report

    # --- properties ---------------------------------------------------------------------
    @property
    def path(self):
        """The file the model was loaded from."""
        return self._m.path

    @property
    def config(self):
        """dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len, ... (dict)."""
        return self._m.config

    @property
    def metadata(self):
        """Free-form provenance (dict of str); ``llvq.*`` keys are written to saved GGUF files."""
        return self._m.metadata

    @property
    def has_tokenizer(self):
        return self._m.has_tokenizer

    def linear_names(self):
        """GGUF names of the linear layers in file order ("blk.0.attn_q.weight", ...)."""
        return self._m.linear_names()

    def linear(self, name):
        """The linear layer ``name``: a :class:`QuantizedTensor` when it is compressed, else
        its float32 weight (out, in)."""
        layer = self._m.linear(name)
        return QuantizedTensor(layer) if isinstance(layer, _core.QuantizedTensor) else layer

    # --- text -----------------------------------------------------------------------------
    def tokenize(self, text, *, bos=None, parse_special=False):
        """Token ids (int32) of ``text`` (str or bytes), as ``llvq tokenize`` gives them.
        ``bos=None`` follows the model (``add_bos_token``)."""
        return self._m.tokenize(text, self._m.adds_bos if bos is None else bool(bos), parse_special)

    def detokenize(self, tokens):
        """The text of a token sequence (control tokens dropped)."""
        return self._m.detokenize(_tokens(tokens)).decode("utf-8", errors="replace")

    def calibration_tokens(self, text_path, limit=16384):
        """What ``llvq quantize --calib`` calibrates on: the first ``limit`` tokens of the
        text, at most its first half (``llvq compare`` holds the second half out)."""
        return self._m.calibration_tokens(os.fspath(text_path), int(limit))

    # --- forward, evaluation, generation --------------------------------------------------
    def logits(self, tokens):
        """Logits (float32, n × vocab) of one window of tokens starting at position 0: the
        forward pass ``llvq eval`` scores."""
        return self._m.logits(_tokens(tokens))

    def perplexity(self, tokens, *, ctx=512, protocol="windows", kl_base=None, kl=None, force=False,
                   progress=True):
        """Perplexity of ``tokens`` (the whole text, tokenized with the model's BOS policy).

        ``protocol``: "windows" (non-overlapping windows, every prediction scored) or
        "llamacpp" (BOS per chunk, second half scored). ``kl_base=PATH`` saves this model's
        log-probabilities (refusing to replace a file unless ``force``); ``kl=PATH``
        compares against such a file and adds kl, kl_stderr, kl_max, top1_agreement.
        """
        with Reporting(progress) as cb:
            return self._m.perplexity(_tokens(tokens), int(ctx), protocol, os.fspath(kl_base or ""),
                                      os.fspath(kl or ""), force, False, cb)

    def generate(self, prompt, *, max_new_tokens=128, temperature=0.8, seed=42, chat=False, system=None,
                 on_text=None):
        """Generates from ``prompt`` (text). ``chat=True`` renders it as a user message in
        the model's chat template (with ``system`` as the system message) and returns the
        answer only. ``on_text(piece)`` is called with the text as it grows. Returns the
        dict of ``llvq run --json`` (text, prompt_tokens, generated_tokens, tokens_per_second,
        stop, ...) plus the token ids."""
        if chat:
            messages = ([("system", system)] if system else []) + [("user", prompt)]
            ids = self.tokenize(self._m.chat_text(messages), parse_special=True)
        else:
            ids = self.tokenize(prompt)
        shown = [] if chat else list(ids)
        printed = [len(self.detokenize(shown))] if on_text else None

        def on_token(t):
            shown.append(t)
            text = self.detokenize(shown)
            on_text(text[printed[0]:])
            printed[0] = len(text)

        r = self._m.generate(ids, int(max_new_tokens), float(temperature), int(seed),
                             on_token if on_text else None)
        n = len(r["tokens"])
        r.update(prompt=prompt, text=self.detokenize(r["tokens"]), generated_tokens=n, temp=temperature, seed=seed,
                 prefill_tokens_per_second=r["prompt_tokens"] / max(r["prefill_seconds"], 1e-9),
                 tokens_per_second=n / max(r["decode_seconds"], 1e-9))
        return r

    # --- quantization and saving ----------------------------------------------------------
    def quantize(self, codec="llvq-sg", *, calib=None, calib_tokens=16384, calib_ctx=512, rules=(),
                 rounding="gptq", hadamard="in", tail="auto", damp=0.01, seed=0, embedding_codec=None,
                 progress=True):
        """A quantized copy of the model (this one is unchanged), with ``.report``.

        The options are ``llvq quantize``'s: ``codec`` for every linear layer ("keep":
        dense) unless one of ``rules`` ("PATTERN=SPEC" or "PATTERN=keep", first match wins)
        chooses; ``calib``: a calibration text file (see :meth:`calibration_tokens`) or token
        ids; without it, the per-row codecs are rounded with RTN (a warning says so, and the
        provenance records rounding=rtn). ``embedding_codec`` compresses the token embedding
        too (a tied one, which is also the classifier, with this rounding on the classifier's
        input Hessian; an untied one with RTN). The provenance keys ``llvq.*`` are recorded as the CLI records them.
        """
        recipe = _recipe(codec, rules, rounding, hadamard, tail, damp, seed, calib_ctx, embedding_codec,
                         calibrated=calib is not None)
        _core.check_recipe(recipe)  # a bad spec, rule or option fails before the text is read
        if calib is None:
            tokens, calib_name = np.zeros(0, np.int32), "none"
        elif isinstance(calib, (str, os.PathLike)):
            tokens, calib_name = self.calibration_tokens(calib, calib_tokens), os.path.basename(os.fspath(calib))
        else:
            tokens, calib_name = np.asarray(calib), "tokens"
        _warn_without_calibration(recipe)
        with Reporting(progress) as cb:
            core, report = self._m.quantize(tokens, recipe, calib_name, False, cb)
        return Model(core, report)

    def save(self, path, *, dense_type="source", force=False):
        """Writes the model as GGUF v3 (compressed layers as their codes), through a
        temporary file renamed at the end. Refuses to replace an existing file unless
        ``force``, and never replaces the file the model was read from. ``dense_type``: the
        storage of 2-D weights left dense ("source", "f32", "f16", "bf16", "q8_0")."""
        self._m.save(os.fspath(path), dense_type, bool(force), [self.path])

    def __repr__(self):
        c = self.config
        return (f"Model({self.path!r}, dim={c['dim']}, layers={c['n_layers']}, vocab={c['vocab_size']}"
                + (f", bpw={self.report['bpw']:.4f})" if self.report else ")"))


def _recipe(codec, rules, rounding, hadamard, tail, damp, seed, calib_ctx, embedding_codec, calibrated):
    """The library's QuantRecipe: the options of ``llvq quantize``, resolved and checked in C++."""
    r = _core.QuantRecipe()
    r.codec, r.rules, r.rounding, r.hadamard, r.tail = codec, list(rules), rounding, hadamard, tail
    r.damp, r.seed, r.calib_ctx = float(damp), int(seed), int(calib_ctx)
    r.embedding_codec, r.calibrated = embedding_codec or "", calibrated
    return r


def _warn_without_calibration(recipe):
    """As ``llvq quantize`` says it: GPTQ without calibration text is RTN for the per-row
    codecs (GLVQ learns without it), once per codec."""
    for c in _core.codecs_rounded_without_calibration(recipe):
        warnings.warn(f"{recipe.rounding} rounding needs calibration text (calib=); without it {c} is rounded with "
                      "RTN, and the output records rounding=rtn", stacklevel=3)


def load_model(path, *, tokenizer=None):
    """Loads a model file: llama2.c ``.bin``, GGUF (dense or compressed by LLVQ) or a
    safetensors directory. The tokenizer is ``tokenizer`` (a llama2.c tokenizer.bin), else
    the file's own, else ``tok<vocab>.bin`` / ``tokenizer.bin`` beside it; a model without
    one loads too (text functions then raise)."""
    return Model(_core.load_model(os.fspath(path), os.fspath(tokenizer or "")))


def _as_model(model, tokenizer):
    return model if isinstance(model, Model) else load_model(model, tokenizer=tokenizer)


def quantize(model, out, codec="llvq-sg", *, calib=None, calib_tokens=16384, calib_ctx=512, rules=(),
             rounding="gptq", hadamard="in", tail="auto", damp=0.01, seed=0, dense_type="source",
             embedding_codec=None, tokenizer=None, force=False, progress=True):
    """``llvq quantize``: compresses ``model`` (a path or a :class:`Model`) into the GGUF
    file ``out`` and returns the summary of ``llvq quantize --json`` (bpw, seconds,
    size_bytes, tensors, ...). The output is checked before the work starts: an existing
    file is replaced only with ``force``, an input never."""
    source = model.path if isinstance(model, Model) else model
    inputs = [os.fspath(p) for p in (source, tokenizer, calib) if isinstance(p, (str, os.PathLike))]
    _core.check_output(os.fspath(out), bool(force), inputs)
    m = _as_model(model, tokenizer)
    q = m.quantize(codec, calib=calib, calib_tokens=calib_tokens, calib_ctx=calib_ctx, rules=rules,
                   rounding=rounding, hadamard=hadamard, tail=tail, damp=damp, seed=seed,
                   embedding_codec=embedding_codec, progress=progress)
    q.save(out, dense_type=dense_type, force=force)
    r = dict(q.report)
    md = q.metadata
    r.update(codec=md["llvq.codec"], rules=md.get("llvq.rules", ""), rounding=rounding, hadamard=hadamard,
             dense_type=dense_type, size_bytes=os.path.getsize(out), input_size_bytes=_size(m.path),
             seconds_per_weight=r["seconds"] / r["quantized_weights"] if r["quantized_weights"] else 0.0,
             blocks_per_s=r["blocks"] / r["quant_seconds"] if r["quant_seconds"] > 0 else 0.0)
    return r


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    return os.path.getsize(path)


def evaluate(model, text, *, ctx=512, protocol="windows", max_tokens=0, kl_base=None, kl=None, force=False,
             tokenizer=None, progress=True):
    """``llvq eval``: perplexity of ``model`` (a path or a :class:`Model`) on the text file
    ``text``; with ``kl_base`` / ``kl``, the KL divergence too. Returns the dict of ``llvq eval
    --json`` (ppl, ppl_stderr, nll, tokens, windows, text_tokens, ...)."""
    if kl_base:
        source = model.path if isinstance(model, Model) else model
        _core.check_output(os.fspath(kl_base), bool(force), [os.fspath(p) for p in (source, text, tokenizer, kl) if p])
    m = _as_model(model, tokenizer)
    tokens = m.tokenize(_read_bytes(text))
    text_tokens = len(tokens)
    if max_tokens < 0:
        raise ValueError("max_tokens must be >= 0")
    if max_tokens:
        tokens = tokens[:max_tokens]
    r = m.perplexity(tokens, ctx=ctx, protocol=protocol, kl_base=kl_base, kl=kl, force=force, progress=progress)
    r.update(text_tokens=text_tokens, model=m.path, text=os.fspath(text))
    return r


def generate(model, prompt, *, max_new_tokens=128, temperature=0.8, seed=42, chat=False, system=None,
             tokenizer=None, on_text=None):
    """``llvq run``: generates from ``prompt`` and returns the dict of ``llvq run --json``."""
    return _as_model(model, tokenizer).generate(prompt, max_new_tokens=max_new_tokens, temperature=temperature,
                                                seed=seed, chat=chat, system=system, on_text=on_text)


#: The codecs ``llvq compare`` runs without ``--codecs``.
DEFAULT_COMPARE_CODECS = ("llvq-sg", "llvq-ss", "e8p", "scalar:bpw=2,kind=lloyd,group=32")


def _names(value, sep):
    """A list given as a list or as one string with separators (the CLI's form)."""
    return [v for v in value.split(sep) if v] if isinstance(value, str) else [str(v) for v in value]


def compare(model, codecs=None, *, calib=None, calib_tokens=16384, calib_ctx=512, eval_texts=(), eval_tokens=0,
            ctx=512, rounding="gptq", recipes=(), hadamard="in", tail="auto", damp=0.01, seed=0, tokenizer=None,
            progress=True):
    """``llvq compare``: quantizes ``model`` (a path or a :class:`Model`, left unchanged)
    with each codec of ``codecs`` (a list, or specs separated by ';'; default
    :data:`DEFAULT_COMPARE_CODECS`, or none when ``recipes`` are given) and each rounding of
    ``rounding`` (a list, or names separated by ','; GLVQ specs run once), then with each
    recipe of ``recipes`` (rows of rules "PATTERN=SPEC ..." separated by spaces; tensors no
    rule matches stay dense), and scores every run and the fp32 model on the evaluation texts:
    the second half of ``calib`` (a text file, whose first half calibrates) and each file of
    ``eval_texts``, each capped at ``eval_tokens`` tokens (0: all).

    Returns the dict of ``llvq compare --json``: ctx, calib_tokens, eval_sets
    [{name, tokens}] and rows [{codec, rounding, bpw, seconds, kl, top1, ppl_windows,
    ppl_llamacpp, delta_ppl_windows, delta_ppl_llamacpp}], the fp32 row first (per-text lists
    in the order of eval_sets; KL and top-1 agreement on the first text).
    """
    o = _core.CompareOptions()
    o.shared = _recipe("", (), "", hadamard, tail, damp, seed, calib_ctx, None, calibrated=calib is not None)
    o.codecs = _names(codecs, ";") if codecs is not None else ([] if recipes else list(DEFAULT_COMPARE_CODECS))
    o.roundings = _names(rounding, ",")
    o.recipes = list(recipes)
    o.ctx = int(ctx)
    for run in _core.compare_runs(o):  # checks every configuration before any work
        _warn_without_calibration(run)
    m = _as_model(model, tokenizer)
    with Reporting(progress) as cb:
        out = m._m.compare(o, os.fspath(calib or ""), int(calib_tokens), [os.fspath(t) for t in eval_texts],
                           int(eval_tokens), cb)
    return json.loads(out)


def inspect(path, *, all=False):
    """``llvq inspect --json``: what a model file holds, as a dict. A GGUF file (dense or
    compressed): version, alignment, data_offset, metadata [{key, type, value}] (arrays as
    {element_type, length, items}, their first 8 items unless ``all``) and tensors [{name,
    type, ne, offset, bytes}]; a ``.safetensors`` file: metadata and tensors [{name, dtype,
    shape, data_offsets}]; other models (llama2.c, safetensors directories): format,
    parameters, config, tokenizer."""
    return json.loads(_core.inspect(os.fspath(path), 2**64 - 1 if all else 8))


def convert(input, output, *, type="f32", tokenizer=None, format="auto", force=False):
    """``llvq convert``: writes the model ``input`` (llama2.c, GGUF, safetensors; ``format``
    "auto" detects it) as the GGUF file ``output`` (its name ends in .gguf) with its 2-D
    weights stored as ``type`` ("f32", "f16", "bf16", "q8_0", "source"); compressed layers are
    decompressed. ``tokenizer``: a llama2.c tokenizer.bin to store instead of the model's own.
    Refuses to replace an existing file unless ``force``, and never replaces an input. Returns
    the dict of ``llvq convert --json``."""
    o = _core.ConvertOptions()
    o.type, o.tokenizer, o.format, o.force = type, os.fspath(tokenizer or ""), format, bool(force)
    return json.loads(_core.convert(os.fspath(input), os.fspath(output), o))
