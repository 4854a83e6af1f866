"""A tiny project whose tests start children of every local kind, for per-test contexts (issue 22).

``pkg/work.py`` has one function per kind of child, each with a line only
that child runs (``# by-<kind>``); ``tests/test_kids.py`` has one test per
kind.  The tests assert that the line carries ``<origin>|<test id>|<phase>``
in the combined data.
"""

from __future__ import annotations

import sys
from pathlib import Path

from support import launchers, processes
from support.launchers import BIN

KINDS = ("subprocess", "spawn", "fork", "forkserver", "setup", "teardown")

WORK = """\
import sys


def by_subprocess():
    return 1  # by-subprocess


def by_spawn():
    return 2  # by-spawn


def by_fork():
    return 3  # by-fork


def by_forkserver():
    return 4  # by-forkserver


def by_setup():
    return 5  # by-setup


def by_teardown():
    return 6  # by-teardown


def by_xdist():
    return 7  # by-xdist


def by_torchrun():
    return 8  # by-torchrun


def by_mpirun():
    return 9  # by-mpirun


if __name__ == "__main__":
    globals()["by_" + sys.argv[1]]()
"""

TESTS = """\
import multiprocessing
import subprocess
import sys

import pytest

from pkg import work


def child(kind):
    subprocess.run([sys.executable, "-m", "pkg.work", kind], check=True)


def process(method, target):
    p = multiprocessing.get_context(method).Process(target=target)
    p.start()
    p.join()
    assert p.exitcode == 0


@pytest.fixture
def started_in_setup():
    child("setup")


@pytest.fixture
def started_in_teardown():
    yield
    child("teardown")


def test_subprocess():
    child("subprocess")


def test_spawn():
    process("spawn", work.by_spawn)


def test_fork():
    process("fork", work.by_fork)


def test_forkserver():
    process("forkserver", work.by_forkserver)


def test_setup(started_in_setup):
    pass


def test_teardown(started_in_teardown):
    pass
"""

XDIST_TEST = """\
import subprocess
import sys


def test_xdist():
    subprocess.run([sys.executable, "-m", "pkg.work", "xdist"], check=True)
"""

TORCH_TEST = """\
import os
import subprocess
import sys


def test_torchrun():
    subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "torchrun"), "--nproc-per-node=2",
         "--standalone", "--local_addr=127.0.0.1", "-m", "pkg.work", "torchrun"],
        check=True,
    )
"""

MPI_TEST = """\
import shutil
import subprocess
import sys


def test_mpirun():
    subprocess.run(
        [shutil.which("mpirun"), "--allow-run-as-root", "--oversubscribe", "-n", "2",
         sys.executable, "-m", "pkg.work", "mpirun"],
        check=True,
    )
"""

FORKSERVER_TESTS = """\
import multiprocessing

from pkg import work


def process(target):
    p = multiprocessing.get_context("forkserver").Process(target=target)
    p.start()
    p.join()
    assert p.exitcode == 0


def test_first():
    process(work.by_spawn)  # starts pytest's forkserver, which outlives this test


def test_later():
    process(work.by_forkserver)
"""


def write(root: Path, tests: str = TESTS, name: str = "test_kids.py") -> Path:
    """Write the project under ``root``; return the path of ``pkg/work.py``."""
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "conftest.py").write_text("")  # the project root on sys.path
    work = root / "pkg" / "work.py"
    work.write_text(WORK)
    (root / "tests" / name).write_text(tests)
    return work


def phase(kind: str) -> str:
    """The pytest phase a kind's child starts in (as pytest-cov names phases)."""
    return kind if kind in ("setup", "teardown") else "run"


def node_id(kind: str, name: str = "test_kids.py") -> str:
    return f"tests/{name}::test_{kind}|{phase(kind)}"


# pytest-cov's own Coverage has no ``patch``: without ``_exit`` a fork child of
# pytest ends with os._exit unsaved (the same with contexts off).
PYTEST_COV_RC = "[run]\npatch = _exit, subprocess\n"
DYNAMIC_RC = "[run]\nsource = pkg\ndynamic_context = test_function\n"
PYTEST = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider")


def run(root: Path, *cmd: str, **extra: str) -> None:
    env = launchers.measured_env(None, **extra)
    proc = processes.run(cmd, root, env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def run_form(root: Path, form: str, *pytest_args: str, **env: str) -> Path:
    """Run the inner suite in one of the four forms (``env`` added); the combined data file."""
    if form == "pytest-cov":
        (root / ".coveragerc").write_text(PYTEST_COV_RC)
        run(root, *PYTEST, "--cov=pkg", "--cov-context=test", *pytest_args, **env)
    elif form == "covhook-option":
        (root / ".coveragerc").write_text(PYTEST_COV_RC + "[covhook]\ntest_context = true\n")
        run(root, *PYTEST, "--cov=pkg", *pytest_args, **env)
    elif form == "covhook-run":
        (root / ".coveragerc").write_text(DYNAMIC_RC)
        run(root, str(BIN / "covhook"), "run", "--", *PYTEST, *pytest_args, **env)
    elif form == "process-start":
        rc = root / ".coveragerc"
        rc.write_text(DYNAMIC_RC + "parallel = True\n")
        run(root, *PYTEST, *pytest_args, COVERAGE_PROCESS_START=str(rc), **env)
        run(root, str(BIN / "coverage"), "combine", "-q")
    else:
        raise AssertionError(form)
    return root / ".coverage"
