"""Shared fixtures of the Python tests.

- The shared data (stories260K, its tokenizer, the texts): $LLVQ_DATA, else ../shared/data
  beside the checkout, as the C++ tests find it (tests/test_data.hpp). A test that needs a
  missing file skips with its name, or fails when LLVQ_REQUIRE_DATA=1 (CI).
- The CLI, for the tests that compare with it bit for bit: $LLVQ_CLI, else build/llvq; the
  same rule applies when it is missing.
"""
import json
import os
import subprocess

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _need(path, what):
    if os.path.exists(path):
        return path
    msg = f"missing {what}: {path}"
    if os.environ.get("LLVQ_REQUIRE_DATA") == "1":
        pytest.fail(msg + " (LLVQ_REQUIRE_DATA=1)")
    pytest.skip(msg)


def data_file(rel):
    base = os.environ.get("LLVQ_DATA") or os.path.join(ROOT, "..", "shared", "data")
    return _need(os.path.join(base, rel), "data file")


@pytest.fixture
def stories_bin():
    return data_file("models/stories260K/stories260K.bin")


@pytest.fixture
def stories_tok():
    return data_file("models/stories260K/tok512.bin")


@pytest.fixture
def tinystories():
    return data_file("text/tinystories_val.txt")


@pytest.fixture
def cli():
    """Runs the llvq CLI; ``cli(*args, json_out=True)`` parses its --json output."""
    path = _need(os.environ.get("LLVQ_CLI") or os.path.join(ROOT, "build", "llvq"), "llvq CLI")

    def run(*args, stdin=None, json_out=False, check=True):
        r = subprocess.run([path, *map(str, args)], input=stdin, capture_output=True, text=stdin is None or
                           isinstance(stdin, str))
        if check and r.returncode != 0:
            raise AssertionError(f"llvq {' '.join(map(str, args))} failed: {r.stderr}")
        return json.loads(r.stdout) if json_out else r
    return run


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
