import threading

import numpy as np
import pytest

import llvq


@pytest.fixture
def w(rng):
    return rng.standard_normal((96, 200)).astype(np.float32)  # 200 columns: not whole blocks


def correlated_activations(rng, n, cols):
    mix = rng.standard_normal((cols, cols)) / np.sqrt(cols)
    x = rng.standard_normal((n, cols)) @ mix + 0.5 * rng.standard_normal(cols)
    return x.astype(np.float32)


def test_quantize_matvec_dequantize(w, rng):
    before = w.copy()
    q = llvq.quantize_matrix(w, "llvq-sg")
    np.testing.assert_array_equal(w, before)  # the input is never written
    assert q.shape == w.shape and (q.layout == "pad" or q.layout.startswith("tail:"))
    assert q.uses_kernels
    assert q.bits_per_weight == pytest.approx(q.payload_bits / w.size)
    d = q.dequantize()
    assert d.dtype == np.float32 and d.shape == w.shape and d.flags.c_contiguous
    rel = np.linalg.norm(d - w) / np.linalg.norm(w)
    assert 0.05 < rel < 0.5
    x = rng.standard_normal(200).astype(np.float32)
    np.testing.assert_allclose(q.matvec(x), d @ x, rtol=1e-4, atol=1e-4)
    xs = rng.standard_normal((5, 200)).astype(np.float32)
    np.testing.assert_allclose(q.matvec(xs), xs @ d.T, rtol=1e-4, atol=1e-4)


def test_hessian_aware_rounding_lowers_the_weighted_error(w, rng):
    x = correlated_activations(rng, 2000, 200)
    rtn = llvq.quantize_matrix(w, "llvq-sg", activations=x, rounding="rtn")
    gptq = llvq.quantize_matrix(w, "llvq-sg", activations=x, rounding="gptq")
    h = (x.astype(np.float64).T @ x) / len(x)
    from_h = llvq.quantize_matrix(w, "llvq-sg", hessian=h, rounding="gptq")
    assert gptq.weighted_error < 0.9 * rtn.weighted_error
    assert from_h.weighted_error == pytest.approx(gptq.weighted_error, rel=0.05)

    def weighted(q):
        dw = (q.dequantize() - w).astype(np.float64)
        return np.trace(dw @ h @ dw.T) / np.trace(w.astype(np.float64) @ h @ w.T)
    assert weighted(gptq) == pytest.approx(gptq.weighted_error, rel=1e-3)


@pytest.mark.parametrize("spec", ["llvq-sg", "llvq-ss:bpw=4", "e8p", "scalar:bpw=3,group=32", "pvq:bpw=2"])
def test_bytes_roundtrip_is_exact(w, rng, spec):
    q = llvq.quantize_matrix(w, spec)
    b = q.to_bytes()
    r = llvq.QuantizedTensor.from_bytes(b)
    assert r.shape == q.shape and r.codec == q.codec and r.tail_codec == q.tail_codec
    assert r.bits_per_weight == q.bits_per_weight
    np.testing.assert_array_equal(r.body_codes, q.body_codes)
    np.testing.assert_array_equal(r.tail_codes, q.tail_codes)
    np.testing.assert_array_equal(r.dequantize(), q.dequantize())
    x = rng.standard_normal(200).astype(np.float32)
    np.testing.assert_array_equal(r.matvec(x), q.matvec(x))
    assert r.to_bytes() == b


def test_body_codes_are_the_codecs_codes(rng):
    w = rng.standard_normal((16, 96)).astype(np.float32)
    q = llvq.quantize_matrix(w, "llvq-sg", hadamard="none", rounding="rtn")
    np.testing.assert_array_equal(q.body_codes, llvq.Codec("llvq-sg").encode(w))


def test_from_codes_runs_a_codecs_codes(rng):
    w = rng.standard_normal((32, 4104)).astype(np.float32)
    codec = llvq.Codec("llvq-ss")
    codes = codec.encode(w)
    q = llvq.QuantizedTensor.from_codes("llvq-ss", codes, 32, 4104)
    assert q.uses_kernels and q.bits_per_weight == codec.bits_per_weight(4104)
    d = codec.decode(codes, 32, 4104)
    np.testing.assert_array_equal(q.dequantize(), d)
    x = rng.standard_normal(4104).astype(np.float32)
    np.testing.assert_allclose(q.matvec(x), d @ x, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError):
        llvq.QuantizedTensor.from_codes("llvq-ss", codes[:-1], 32, 4104)


def test_bad_input(w):
    bad = w.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"w: NaN at \[3, 4\]"):
        llvq.quantize_matrix(bad)
    with pytest.raises(ValueError, match="float32"):
        llvq.quantize_matrix(w.astype(np.float16))
    with pytest.raises(ValueError, match="C-contiguous"):
        llvq.quantize_matrix(w[:, ::2])
    with pytest.raises(ValueError, match="hessian"):
        llvq.quantize_matrix(w, hessian=np.eye(10))
    with pytest.raises(ValueError, match="either"):
        llvq.quantize_matrix(w, hessian=np.eye(200), activations=np.ones((4, 200), np.float32))
    with pytest.raises(ValueError, match="rounding|rtn"):
        llvq.quantize_matrix(w, rounding="best")
    with pytest.raises(ValueError):
        llvq.quantize_matrix(w, codec="llvq-sg:shells=99")
    q = llvq.quantize_matrix(w)
    with pytest.raises(ValueError, match=r"\(200,\)"):
        q.matvec(np.ones(199, np.float32))
    with pytest.raises(ValueError, match="NaN"):
        q.matvec(np.full(200, np.nan, np.float32))
    with pytest.raises(ValueError):
        llvq.QuantizedTensor.from_bytes(q.to_bytes()[:-7])
    with pytest.raises(ValueError):
        llvq.QuantizedTensor.from_bytes(b"GGUF" + bytes(60))


def test_read_only_and_foreign_inputs_are_read_in_place(w, rng):
    """No writable copy is needed: read-only views and memoryview-backed arrays go straight in."""
    q = llvq.quantize_matrix(w, "e8p")
    x = rng.standard_normal(200).astype(np.float32)
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(q.matvec(ro), q.matvec(x))
    buf = np.frombuffer(memoryview(x.tobytes()), np.float32)  # read-only, owned by bytes
    np.testing.assert_array_equal(q.matvec(buf), q.matvec(x))
    batch = rng.standard_normal((6, 200)).astype(np.float32)
    np.testing.assert_array_equal(q.matvec(batch[2:4]), q.matvec(np.ascontiguousarray(batch[2:4])))


def test_long_calls_release_the_gil(rng):
    w = rng.standard_normal((256, 480)).astype(np.float32)
    done = threading.Event()
    t = threading.Thread(target=lambda: (llvq.quantize_matrix(w, "llvq-sg", rounding="rtn"), done.set()))
    t.start()
    spins = 0
    while not done.is_set():
        spins += 1
    t.join()
    assert spins > 10000  # this thread kept running while the quantizer worked
