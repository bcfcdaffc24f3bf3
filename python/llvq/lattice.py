"""The Leech lattice ball Λ24(M): exact search, rank and unrank for batches of 24-vectors.

Λ24(M) is the origin and the shells 2..M of the Leech lattice in integer coordinates √8·Λ24
(docs/background.md, docs/lattice.md). Every point has a dense index in ``0 .. size - 1``
(``info(M)["points"]``): 0 is the origin, then shell 2, 3, ..., M. M = 13 gives 48-bit
indices (2 bits per weight for 24 weights). The results are those of ``llvq lattice
search|rank|unrank --max-shell M``.
"""
from typing import NamedTuple

import numpy as np

from . import _core

DEFAULT_MAX_SHELL = 13


class SearchResult(NamedTuple):
    """Nearest points of a batch: ``index`` (uint64, n), ``point`` (int32, n × 24, integer
    coordinates of √8·Λ24) and ``score`` (float64, n): max ⟨x, v⟩/|v| for the angular
    search, the squared distance |scale·x − v|² for the Euclidean one."""

    index: np.ndarray
    point: np.ndarray
    score: np.ndarray


def search(x, max_shell=DEFAULT_MAX_SHELL, metric="angular", scale=1.0):
    """Exact nearest point of Λ24(max_shell) to each row of ``x`` (float32, shape (n, 24)).

    ``metric="angular"`` maximises ⟨x, v⟩/|v| over the nonzero points (the shape search of
    the shape–gain codecs); ``metric="euclidean"`` minimises |scale·x − v|² over the ball,
    origin included. Rows are searched in parallel on all cores, without the GIL.
    """
    return SearchResult(*_core.lattice_search(x, max_shell, metric, float(scale)))


def rank(points, max_shell=DEFAULT_MAX_SHELL):
    """Index of each point (int32, shape (n, 24)) in Λ24(max_shell); ValueError naming the
    row when a point is not in the ball."""
    return _core.lattice_rank(points, max_shell)


def unrank(indices, max_shell=DEFAULT_MAX_SHELL):
    """Points (int32, shape (n, 24)) of the indices (uint64, shape (n,)): the inverse of
    :func:`rank`."""
    return _core.lattice_unrank(indices, max_shell)


def info(max_shell=DEFAULT_MAX_SHELL):
    """``{"max_shell", "points", "bits", "shell_offsets"}``: the ball's size, the bits of an
    index, and the index of the first point of shell 0, 2, 3, ..., M + 1."""
    return _core.lattice_info(max_shell)
