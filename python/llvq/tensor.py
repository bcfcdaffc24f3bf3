"""One weight matrix through the quantization pipeline (docs/quantize.md): incoherence
processing (randomized Hadamard), the layout of rows that are not whole blocks, and
Hessian-aware rounding (RTN, GPTQ/LDLQ, Spherical GPTQ) with any codec.
"""
import numpy as np

from . import _core


class QuantizedTensor:
    """A quantized matrix in its stored form, with the CPU kernels ready to run it.

    Made by :func:`quantize_matrix`, read from bytes (:meth:`from_bytes`) or taken from a
    compressed model (:meth:`llvq.Model.linear`). The weights stay compressed in memory:
    :meth:`matvec` runs the fused decode + GEMV kernels (AVX-512 / AVX2 / scalar, chosen at
    run time) for codecs that have them.
    """

    def __init__(self, core):
        self._q = core

    @property
    def shape(self):
        """(rows, cols): (out_features, in_features)."""
        return (self._q.rows, self._q.cols)

    @property
    def codec(self):
        """Canonical spec of the codec of the row body."""
        return self._q.codec

    @property
    def tail_codec(self):
        """Canonical spec of the codec of the last columns ('' when there is no tail)."""
        return self._q.tail_codec

    @property
    def layout(self):
        """"exact", "pad" or "tail:<codec>" (what the pipeline chose; '' when read from a file)."""
        return self._q.layout

    @property
    def bits_per_weight(self):
        """Exact rate: every row's codes and scales, over rows × cols weights."""
        return self._q.bits_per_weight

    @property
    def payload_bits(self):
        return self._q.payload_bits

    @property
    def weighted_error(self):
        """tr(ΔW·H·ΔWᵀ) / tr(W·H·Wᵀ) on the Hessian used (NaN when read from a file)."""
        return self._q.weighted_error

    @property
    def seconds(self):
        """Time the pipeline took to quantize the matrix (0 when read from a file)."""
        return self._q.seconds

    @property
    def hadamard(self):
        """Incoherence transform: "none", "in" or "inout"."""
        return self._q.hadamard

    @property
    def body_codes(self):
        """The body's codes (uint8): rows back to back, as the codec's ``encode`` packs them."""
        return self._q.body_codes

    @property
    def tail_codes(self):
        return self._q.tail_codes

    @property
    def uses_kernels(self):
        """Whether :meth:`matvec` runs on the kernels: on the codes, or for the 3- and 4-bit Leech
        codes on their lattice points decoded once to 8 bits (False: on dequantized fp32 weights)."""
        return self._q.uses_kernels

    def dequantize(self):
        """The weights (float32, rows × cols) in the original basis."""
        return self._q.dequantize()

    def matvec(self, x):
        """``W @ x`` for x of shape (cols,), or ``X @ W.T`` for X of shape (n, cols); float32,
        C-contiguous. One vector runs the fused decode + GEMV kernels; a batch decodes the
        matrix in cache-sized bands and runs a GEMM. The GIL is released meanwhile."""
        return self._q.matvec(x)

    def to_bytes(self):
        """The tensor as bytes: a one-tensor GGUF image in the compressed model format."""
        return self._q.to_bytes()

    @classmethod
    def from_codes(cls, codec, codes, rows, cols):
        """A tensor from a codec's codes (``Codec(codec).encode`` of a rows × cols matrix, no
        incoherence transform): runs those codes through the kernels. ValueError when the
        size does not match or a block holds an invalid code."""
        return cls(_core.QuantizedTensor.from_codes(codec, codes, int(rows), int(cols)))

    @classmethod
    def from_bytes(cls, data):
        """A tensor from :meth:`to_bytes`; ValueError on corrupt or truncated data."""
        return cls(_core.QuantizedTensor.from_bytes(bytes(data)))

    def __repr__(self):
        return (f"QuantizedTensor(shape={self.shape}, codec={self.codec!r}, "
                f"bits_per_weight={self.bits_per_weight:.4f})")


def quantize_matrix(w, codec="llvq-sg", *, hessian=None, activations=None, rounding="gptq",
                    hadamard="in", tail="auto", seed=0, damp=0.01):
    """Quantizes one weight matrix ``w`` (float32, C-contiguous, shape (out, in)).

    - ``hessian``: the input Hessian H (float64, in × in), or ``activations``: calibration
      inputs X (float32, n × in), from which H = XᵀX/n. Neither: H = I, and GPTQ reduces to
      round-to-nearest.
    - ``rounding``: "rtn", "gptq" or "spherical-gptq"; ``hadamard``: "none", "in" or
      "inout" (randomized Hadamard transforms seeded by ``seed``); ``tail``: "auto", "pad" or
      "codec" for rows that are not whole blocks; ``damp``: GPTQ damping (fraction of the
      mean diagonal of H).

    Returns a :class:`QuantizedTensor`. Runs without the GIL, on all cores.
    """
    return QuantizedTensor(_core.quantize_tensor(w, codec, hessian, activations, rounding, hadamard, tail,
                                                 int(seed), float(damp)))


def compare_matrix(w, codecs, *, hessian=None, activations=None, rounding="rtn", hadamard="in", tail="auto", seed=0,
                   damp=0.01):
    """Every codec of ``codecs`` (a list, or specs separated by ';') on one weight matrix
    through :func:`quantize_matrix` with the same options: a list of dicts, one per codec in
    order, with ``codec`` (canonical spec), ``rounding``, ``bpw`` (exact), ``rel_error``
    (‖Ŵ − W‖² / ‖W‖²), ``weighted_error`` (on the Hessian used), ``layout`` and ``seconds`` —
    the points of a rate–distortion plot (examples/compare_codecs.py draws one)."""
    specs = [c for c in codecs.split(";") if c] if isinstance(codecs, str) else list(codecs)
    w64 = np.asarray(w, dtype=np.float64)
    norm = float((w64 ** 2).sum())
    rows = []
    for spec in specs:
        q = quantize_matrix(w, spec, hessian=hessian, activations=activations, rounding=rounding, hadamard=hadamard,
                            tail=tail, seed=seed, damp=damp)
        err = float(((q.dequantize() - w64) ** 2).sum())
        rows.append({"codec": q.codec, "rounding": rounding, "bpw": q.bits_per_weight,
                     "rel_error": err / norm if norm > 0 else 0.0, "weighted_error": q.weighted_error,
                     "layout": q.layout, "seconds": q.seconds})
    return rows
