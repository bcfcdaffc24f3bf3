"""Block codecs: a weight matrix coded row by row, each row's code being its side
information (scales) and the fixed-width codes of its blocks (docs/codecs.md).

Codecs are named by spec strings ``NAME[:key=value,...]``, e.g. ``"llvq-sg"``,
``"llvq-ss:bpw=3"``, ``"e8p"``, ``"pvq:bpw=2"``, ``"scalar:bpw=2,kind=lloyd,group=32"``. The
codes are those of ``llvq codec encode`` (the payload of its container).
"""
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
