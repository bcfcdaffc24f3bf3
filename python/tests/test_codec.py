import struct

import numpy as np
import pytest

import llvq

SPECS = ["llvq-sg", "llvq-ss", "llvq-ss:bpw=3", "e8p", "pvq:bpw=2", "scalar:bpw=2,kind=lloyd,group=32"]


def read_container(path):
    """The codec container of `llvq codec encode` (include/llvq/codec_container.hpp)."""
    data = open(path, "rb").read()
    assert data[:8] == b"LLVQCODE"
    _, n = struct.unpack_from("<II", data, 8)
    spec = data[16:16 + n].decode()
    count, row, size = struct.unpack_from("<QQQ", data, 16 + n)
    payload = data[40 + n:40 + n + size]
    return spec, count, row, np.frombuffer(payload, np.uint8)


def test_catalog_lists_the_codecs():
    cat = llvq.codecs()
    assert {"llvq-sg", "llvq-ss", "e8p", "pvq", "scalar"} <= set(cat)
    assert all(isinstance(d, str) and d for d in cat.values())


@pytest.mark.parametrize("spec", SPECS)
def test_codes_and_weights_match_cli(cli, rng, tmp_path, spec):
    codec = llvq.Codec(spec)
    w = rng.standard_normal((8, 96)).astype(np.float32)
    codes = codec.encode(w)
    back = codec.decode(codes, *w.shape)
    raw, container, decoded = tmp_path / "w.f32", tmp_path / "w.llvq", tmp_path / "back.f32"
    w.tofile(raw)
    cli("codec", "encode", "--codec", spec, "--row", 96, raw, container)
    cli("codec", "decode", container, decoded)
    cspec, count, row, payload = read_container(container)
    assert cspec == codec.spec and count == w.size and row == 96
    np.testing.assert_array_equal(codes, payload)
    np.testing.assert_array_equal(back, np.fromfile(decoded, np.float32).reshape(w.shape))
    assert codes.size * 8 >= codec.bits_per_weight(96) * w.size > 0


def test_rate_and_distortion_are_sane(rng):
    codec = llvq.Codec("llvq-sg")
    assert codec.block_dim == 24
    assert codec.bits_per_weight(4104) == pytest.approx(2.0039, abs=1e-4)  # 2 bpw + a bf16 scale per row
    w = rng.standard_normal((64, 4104)).astype(np.float32)
    mse = float(((codec.roundtrip(w) - w) ** 2).mean())
    assert 0.05 < mse < 0.1  # the README's Gaussian figure is 0.0768 at this rate


def test_errors_are_value_errors_with_the_library_message(cli, rng):
    with pytest.raises(ValueError) as e:
        llvq.Codec("nope")
    r = cli("codec", "encode", "--codec", "nope", "/dev/null", "/tmp/never", check=False)
    assert r.returncode != 0 and str(e.value) in r.stderr
    codec = llvq.Codec("llvq-sg")
    with pytest.raises(ValueError, match="float32"):
        codec.encode(np.zeros((2, 48)))
    with pytest.raises(ValueError, match="2-D"):
        codec.encode(np.zeros(48, np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        codec.encode(np.zeros((96, 2), np.float32).T)
    with pytest.raises(ValueError):
        codec.encode(np.zeros((2, 50), np.float32))  # not whole blocks
    w = rng.standard_normal((2, 48)).astype(np.float32)
    w[1, 7] = np.inf
    with pytest.raises(ValueError, match=r"infinity at \[1, 7\]"):
        codec.encode(w)
    codes = codec.encode(np.ones((2, 48), np.float32))
    with pytest.raises(ValueError, match="bytes"):
        codec.decode(codes[:-1], 2, 48)
