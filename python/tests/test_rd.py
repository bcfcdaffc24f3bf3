"""llvq.rd and llvq.rd_table against ``llvq rd [--table] --json`` on the same arguments: the
same library function (llvq/rd.hpp), so the same dicts, throughputs aside."""
import pytest

import llvq

THROUGHPUTS = {"encode_blocks_per_s", "decode_blocks_per_s", "encode_blocks_per_s_per_core",
               "decode_blocks_per_s_per_core"}


def assert_same_measurement(r, c):
    """Every key of the CLI's dict, equal bit for bit when the module is compiled as the CLI is
    (test_models.py); the throughputs are wall-clock rates, only checked to be rates."""
    assert r.keys() == c.keys()
    for k in r.keys() - THROUGHPUTS:
        if isinstance(c[k], float) and not llvq._core.built_native:
            assert r[k] == pytest.approx(c[k], rel=1e-12), k
        else:
            assert r[k] == c[k], k
    assert all(r[k] > 0 for k in THROUGHPUTS)


CASES = [
    ("e8p", "gaussian", 2000, 3, 4096),
    ("llvq-sg", "laplace", 1000, 2, 1000),
    ("llvq-ss:bpw=3", "gaussian", 500, 1, 4096),
    ("pvq:bpw=2", "student:nu=5", 1000, 1, 4096),
    ("scalar:bpw=3,kind=lloyd,group=32", "student", 3000, 9, 4096),
    ("glvq:dim=8,bits=2", "gaussian", 500, 1, 256),
]


@pytest.mark.parametrize("codec,source,blocks,seed,row", CASES)
def test_rd_is_the_clis(cli, codec, source, blocks, seed, row):
    r = llvq.rd(codec, source=source, blocks=blocks, seed=seed, row=row)
    c = cli("rd", "--codec", codec, "--source", source, "--blocks", blocks, "--seed", seed, "--row", row, "--json",
            json_out=True)
    assert_same_measurement(r, c)
    assert r["blocks"] >= blocks and r["row"] >= row and 0 < r["mse"] < 1 and r["bpw"] > 0


def test_rd_does_not_depend_on_the_thread_count(cli, monkeypatch):
    """The source's rows and the distortion's sums are cut the same way on any number of
    threads, so the CLI on 1 or 3 threads measures what this process does on all cores."""
    r = llvq.rd("e8p", blocks=3000, seed=2)
    for threads in (1, 3):
        monkeypatch.setenv("OMP_NUM_THREADS", str(threads))
        c = cli("rd", "--codec", "e8p", "--blocks", 3000, "--seed", 2, "--json", json_out=True)
        assert c["threads"] == threads
        assert_same_measurement(r, c | {"threads": r["threads"]})


def test_rd_of_model_weights_is_the_clis(cli, stories_bin):
    source = f"model:{stories_bin}:blk.0.ffn_down.weight"
    r = llvq.rd("e8p", source=source, blocks=300, seed=5)
    assert_same_measurement(r, cli("rd", "--codec", "e8p", "--source", source, "--blocks", 300, "--seed", 5, "--json",
                                   json_out=True))


def test_rd_table_is_the_clis(cli):
    r = llvq.rd_table(blocks=200, seed=4)
    c = cli("rd", "--table", "--blocks", 200, "--seed", 4, "--json", json_out=True)
    assert len(r) == len(c) == 9
    for a, b in zip(r, c):
        assert_same_measurement(a, b)
    assert r[2]["method"] == "QuIP# E8P" and r[2]["paper_mse"] == 0.0907 and r[-1]["paper_mse"] is None


def test_rd_measures_what_it_is_given():
    """The defaults are the CLI's; the seed picks the data; a Codec object is its spec; E8P at
    2 bpw on a Gaussian source lands near the paper's 0.0907 and above D(2) = 1/16."""
    def measured(d):
        return {k: v for k, v in d.items() if k not in THROUGHPUTS}

    a = llvq.rd(llvq.Codec("e8p"), blocks=4000)
    assert measured(a) == measured(llvq.rd("e8p", blocks=4000, seed=1, row=4096))
    b = llvq.rd("e8p", blocks=4000, seed=2)
    assert a["mse"] != b["mse"] and a["bpw"] == b["bpw"]
    assert 0.085 < a["mse"] < 0.097 and a["shannon_mse"] < a["mse"] and a["codec"] == llvq.Codec("e8p").spec


@pytest.mark.parametrize("kwargs,message", [
    (dict(codec="bogus"), "unknown codec 'bogus'"),
    (dict(blocks=0), r"blocks must be in 1..2\^30, got 0"),
    (dict(blocks=-3), "blocks must be positive, got -3"),
    (dict(row=0), r"row must be in 1..2\^20, got 0"),
    (dict(source="uniform"), "unknown source 'uniform'"),
    (dict(source="student:nu=1"), "nu must be a number > 2"),
])
def test_bad_input_is_a_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        llvq.rd(**{"blocks": 10, **kwargs})
    if "codec" not in kwargs:
        with pytest.raises(ValueError, match=message):
            llvq.rd_table(**{"blocks": 10, **kwargs})
