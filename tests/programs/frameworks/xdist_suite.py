"""A suite for pytest -n 2: each test runs in an xdist worker and starts a subprocess."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_child(n):
    out = subprocess.run(  # worker
        [sys.executable, "xdist_child.py", str(n)], capture_output=True, text=True, check=True
    ).stdout  # worker
    assert out == f"{n * 2}\n"  # worker
