"""LLVQ: Leech-lattice vector quantization of LLM weights, from Python.

The C++ library behind the ``llvq`` command-line tool, called directly (no second
implementation): NumPy arrays go in and come out without copies where the layout allows,
long calls release the GIL, and the library's input errors are raised as
:class:`InputError`, a :class:`ValueError` with the library's message.

- :mod:`llvq.lattice`: exact search, rank and unrank over the Leech lattice ball Λ24(M);
- :class:`Codec`, :func:`codecs`: block codecs on 2-D float32 arrays; :func:`rd`,
  :func:`rd_table`: a codec's rate and distortion on synthetic sources (``llvq rd``);
- :func:`quantize_matrix` → :class:`QuantizedTensor`: one matrix through the pipeline, with
  ``dequantize()``, ``matvec(x)`` on the CPU kernels, exact bits per weight and bytes;
  :func:`compare_matrix`: several codecs on one matrix (rate–distortion points);
- :func:`load_model` → :class:`Model`; :func:`quantize`, :func:`evaluate`, :func:`generate`,
  :func:`compare`, :func:`inspect`, :func:`convert`: what ``llvq quantize``, ``llvq eval``,
  ``llvq run``, ``llvq compare``, ``llvq inspect`` and ``llvq convert`` do, returning dicts;
- :mod:`llvq.torch` (with PyTorch installed): ``QuantizedLinear`` modules.

See docs/python.md.
"""
from . import lattice
from ._core import InputError, __version__
from ._core import active_isa as _active_isa
from .codecs import Codec, catalog as codecs, rd, rd_table
from .models import Model, compare, convert, evaluate, generate, inspect, load_model, quantize
from .tensor import QuantizedTensor, compare_matrix, quantize_matrix


def active_isa():
    """The instruction-set level the CPU kernels run at: "avx512", "avx2" or "scalar"
    (``LLVQ_ISA`` in the environment forces a lower one)."""
    return _active_isa()


__all__ = ["Codec", "InputError", "Model", "QuantizedTensor", "__version__", "active_isa", "codecs", "compare",
           "compare_matrix", "convert", "evaluate", "generate", "inspect", "lattice", "load_model", "quantize",
           "quantize_matrix", "rd", "rd_table"]
