"""Block codecs: a weight matrix coded row by row, each row's code being its side
information (scales) and the fixed-width codes of its blocks (docs/codecs.md).

Codecs are named by spec strings ``NAME[:key=value,...]``, e.g. ``"llvq-sg"``,
``"llvq-ss:bpw=3"``, ``"e8p"``, ``"pvq:bpw=2"``, ``"scalar:bpw=2,kind=lloyd,group=32"``. The
codes are those of ``llvq codec encode`` (the payload of its container). :func:`rd` and
:func:`rd_table` measure a codec's rate and distortion on synthetic sources (``llvq rd``).
"""
import json

from . import _core


def catalog():
    """``{name: description}`` of every codec (``llvq codec list``)."""
    return dict(_core.codec_catalog())


class Codec:
    """A codec built from its spec; ValueError on an unknown name or a bad parameter."""

    def __init__(self, spec):
        self._c = _core.Codec(spec)

    @property
    def spec(self):
        """Canonical spec with every parameter explicit (``Codec(c.spec)`` is the same codec)."""
        return self._c.spec

    @property
    def name(self):
        return self._c.name

    @property
    def block_dim(self):
        """Weights per block (24 for the Leech codecs, 8 for E8P)."""
        return self._c.block_dim

    @property
    def block_bits(self):
        """Code bits of one block."""
        return self._c.block_bits

    def bits_per_weight(self, cols):
        """Exact rate of a row of ``cols`` weights, side information included."""
        return self._c.bits_per_weight(cols)

    def check_row_length(self, cols):
        """ValueError when rows of ``cols`` weights cannot be coded (not whole blocks or groups)."""
        self._c.check_row_length(cols)

    def encode(self, w):
        """Codes of ``w`` (float32, C-contiguous, shape (rows, cols)) as a uint8 array: the
        rows' bit-packed codes back to back. Runs on all cores without the GIL."""
        return self._c.encode(w)

    def decode(self, codes, rows, cols):
        """The float32 weights (rows, cols) of codes made by :meth:`encode`."""
        return self._c.decode(codes, rows, cols)

    def roundtrip(self, w):
        """``decode(encode(w))``: the quantized weights."""
        codes = self.encode(w)
        rows, cols = w.shape
        return self.decode(codes, rows, cols)

    def __repr__(self):
        return f"Codec({self.spec!r})"


def rd(codec="llvq-sg", *, source="gaussian", blocks=100000, seed=1, row=4096):
    """``llvq rd``: codes about ``blocks`` blocks of ``source`` with ``codec`` (a spec or a
    :class:`Codec`; a ``glvq:...`` spec runs with H = I and learning off) in rows of about
    ``row`` weights (the nearest length the codec takes), and returns the dict of
    ``llvq rd --json``: codec (canonical spec), bpw (exact, scales included), mse (per
    weight), sqnr_bits, retention (sqnr_bits / bpw), shannon_mse (D(R) of a Gaussian of the
    same variance at that rate), encode_blocks_per_s, decode_blocks_per_s (and their
    ``_per_core``), threads, blocks (rounded up to whole rows) and row.

    ``source``: "gaussian", "laplace", "student" or "student:nu=V" (unit variance, i.i.d.;
    the same data for the same ``seed`` on any number of threads), or "model:PATH[:TENSOR]"
    (a model's linear-layer rows scaled to unit RMS). Everything but the throughputs is
    deterministic. ValueError on an unknown codec or source, or ``blocks`` outside 1..2^30,
    ``row`` outside 1..2^20. Runs on all cores without the GIL."""
    spec = codec.spec if isinstance(codec, Codec) else codec
    return json.loads(_core.rd(spec, source, blocks, seed, row))


def rd_table(*, source="gaussian", blocks=100000, seed=1, row=4096):
    """``llvq rd --table``: every row of the paper's 2-bpw Gaussian table measured as by
    :func:`rd`. A list of dicts, one per row in the table's order: method, paper_mse (None
    without a published figure) and the keys of :func:`rd`, or ``error`` when the row's codec
    is not available in this build."""
    return json.loads(_core.rd_table(source, blocks, seed, row))
