"""Under pytest-cov and ``coverage run``, a child started with a scrubbed environment is named.

The inner suite's test starts Python with ``env={...}`` that leaves out
coverage's configuration: that child cannot be measured, and the run's
summary says so in one line, as ``covhook run`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pytest_plugin
pytest_plugins = ("pytester",)

BIN = Path(sys.executable).parent

SUITE = """\
import os, subprocess, sys

def test_scrubbed_child():
    env = {"PATH": os.environ["PATH"]}
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
"""


@pytest.mark.parametrize("runner", ["pytest-cov", "coverage-run"])
def test_scrubbed_child_is_named(pytester: pytest.Pytester, runner: str) -> None:
    pytester.makepyfile(test_scrubbed=SUITE)
    args = ["-p", "no:cacheprovider", "-q"]
    if runner == "pytest-cov":
        cmd = [sys.executable, "-m", "pytest", "--cov=.", *args]
    else:
        cmd = [str(BIN / "coverage"), "run", "-m", "pytest", *args]
    result = pytester.run(*cmd, timeout=120)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "covhook: 1 Python child process(es) ran without coverage: started with an "
            "explicit environment without COVERAGE_PROCESS_CONFIG (e.g. '* -c pass'). "
            "Fix: *COVHOOK_SCRUBBED_ENV=measure*"
        ]
    )
    assert list(pytester.path.glob(".covhook-unmeasured.*")) == []  # reported once, then gone
