"""A small suite for ``covhook split`` tests: a package, its tests, a coverage config.

Three modules of ``calc`` are each partly exercised by their own test
module, so the covered lines depend on which tests ran; one test starts a
child process, so children count too.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

MODULE = """\
def add_{n}(a, b):
    if a < 0:
        return -1  # never run
    return a + b


def mul_{n}(a, b):
    return a * b


def unused_{n}():
    return None  # never run
"""

TEST = """\
import subprocess
import sys

from calc import m{n}


def test_add_{n}_small():
    assert m{n}.add_{n}(1, 2) == 3


def test_add_{n}_big():
    assert m{n}.add_{n}(100, 200) == 300


def test_mul_{n}():
    assert m{n}.mul_{n}(2, 3) == 6


def test_child_{n}():
    code = "from calc import m{n}; m{n}.mul_{n}(4, 5)"
    subprocess.run([sys.executable, "-c", code], check=True)
"""

FAILING = """\
def test_that_fails():
    assert 1 + 1 == 3, "deliberately failing"
"""

SLOW = """\
import os
import subprocess
import sys
import time

from calc import m0

def test_sleeps():
    m0.mul_0(1, 1)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    loner = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    pids = os.environ["PID_DIR"]
    for pid in (os.getpid(), child.pid, loner.pid):
        open(os.path.join(pids, str(pid)), "w").close()
    time.sleep(120)
"""

COVERAGERC = """\
[run]
source = calc
[report]
fail_under = {fail_under}
"""


def write(root: Path, modules: int = 3, fail_under: int = 0) -> Path:
    """Write the suite under ``root``; return the package directory."""
    pkg = root / "calc"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    tests = root / "tests"
    tests.mkdir(exist_ok=True)
    for n in range(modules):
        (pkg / f"m{n}.py").write_text(MODULE.format(n=n))
        (tests / f"test_m{n}.py").write_text(textwrap.dedent(TEST.format(n=n)))
    (root / ".coveragerc").write_text(COVERAGERC.format(fail_under=fail_under))
    # The suite imports ``calc`` from its root, like a project checkout.
    (root / "conftest.py").write_text("")
    return pkg


def add_failing(root: Path) -> None:
    (root / "tests" / "test_zz_fails.py").write_text(FAILING)


def add_slow(root: Path) -> None:
    (root / "tests" / "test_slow.py").write_text(SLOW)
