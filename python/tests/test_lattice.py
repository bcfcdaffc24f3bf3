import numpy as np
import pytest

import llvq
from llvq import lattice


def test_info_matches_cli(cli):
    info = lattice.info(13)
    out = cli("lattice", "info", "--max-shell", "13", "--json", json_out=True)
    assert info["points"] == int(out["points"]) and info["bits"] == out["bits"] == 48
    assert info["shell_offsets"][0] == 0 and info["shell_offsets"][1] == 1 and info["shell_offsets"][-1] == info["points"]


@pytest.mark.parametrize("metric", ["angular", "euclidean"])
def test_search_matches_cli(cli, rng, metric):
    x = rng.standard_normal((64, 24)).astype(np.float32)
    scale = 2.5
    r = lattice.search(x, 13, metric=metric, scale=scale)
    lines = "\n".join(" ".join(repr(float(v)) for v in row) for row in x) + "\n"
    args = ["lattice", "search", "--max-shell", "13", "--metric", metric]
    if metric == "euclidean":
        args += ["--scale", scale]
    out = cli(*args, stdin=lines).stdout.split("\n")
    for i, line in enumerate(out[:64]):
        f = [int(v) for v in line.split()]
        assert f[0] == r.index[i]
        assert f[1:] == r.point[i].tolist()


def test_search_scores_are_what_they_say(rng):
    x = rng.standard_normal((32, 24)).astype(np.float32)
    a = lattice.search(x, 12, metric="angular")
    p = a.point.astype(np.float64)
    np.testing.assert_allclose(a.score, (x * p).sum(1) / np.linalg.norm(p, axis=1), rtol=1e-6)
    e = lattice.search(x, 12, metric="euclidean", scale=3.0)
    np.testing.assert_allclose(e.score, ((3.0 * x - e.point) ** 2).sum(1), rtol=1e-5)


def test_rank_unrank_roundtrip(rng):
    n = lattice.info(13)["points"]
    idx = np.concatenate([[0, 1, n - 1], rng.integers(0, n, 200, dtype=np.uint64)]).astype(np.uint64)
    pts = lattice.unrank(idx, 13)
    assert pts.dtype == np.int32 and pts.shape == (203, 24)
    assert not pts[0].any()  # index 0 is the origin
    np.testing.assert_array_equal(lattice.rank(pts, 13), idx)


def test_bad_input_is_value_error(rng):
    x = rng.standard_normal((4, 24)).astype(np.float32)
    with pytest.raises(ValueError, match="float32"):
        lattice.search(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"\(n, 24\)"):
        lattice.search(np.zeros((4, 23), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        lattice.search(np.zeros((24, 4), np.float32).T)
    x[2, 5] = np.nan
    with pytest.raises(ValueError, match=r"NaN at \[2, 5\]"):
        lattice.search(x)
    with pytest.raises(ValueError, match="max_shell"):
        lattice.info(1)
    with pytest.raises(ValueError, match="out of range"):
        lattice.unrank(np.array([lattice.info(13)["points"]], np.uint64))
    bad = np.zeros((2, 24), np.int32)
    bad[1, 0] = 1  # not a lattice point
    with pytest.raises(llvq.InputError, match=r"points\[1\]"):
        lattice.rank(bad)
    with pytest.raises(ValueError, match="scale"):
        lattice.search(np.zeros((1, 24), np.float32), metric="euclidean", scale=0.0)
