"""A tiny project whose tests start child processes, written into a directory.

``pkg/work.py`` marks each line with who should run it (``# covered-by-test``,
``# covered-by-child``, ``# covered-by-shell``, ``# covered-by-rank``); the
tests assert on those lines in the combined coverage data.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

WORK = """\
import os
import sys


def in_test():
    return 1  # covered-by-test


def in_child():
    return 2  # covered-by-child


def in_shell():
    return 3  # covered-by-shell


def in_rank():
    return int(os.environ["RANK"])  # covered-by-rank


if __name__ == "__main__":
    {"child": in_child, "shell": in_shell, "rank": in_rank}[sys.argv[1]]()
"""

RUN_SH = """\
#!/bin/sh
# A shell script that starts Python, as a project's test would run it: no coverage switches.
exec python -m pkg.work shell
"""

TESTS = """\
import os
import subprocess
import sys

from pkg import work

BIN = os.path.dirname(sys.executable)


def test_direct():
    assert work.in_test() == 1


def test_subprocess():
    subprocess.run([sys.executable, "-m", "pkg.work", "child"], check=True)


def test_shell_script():
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"])
    subprocess.run(["sh", "run.sh"], check=True, env=env)
"""

TORCH_TEST = """\
import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)


def test_torchrun():
    subprocess.run(
        [os.path.join(BIN, "torchrun"), "--nproc-per-node=2", "--standalone",
         "--local_addr=127.0.0.1", "-m", "pkg.work", "rank"],
        check=True,
    )
"""


def write(root: Path, torch: bool = False) -> Path:
    """Write the project under ``root``; return the path of ``pkg/work.py``."""
    (root / "pkg").mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    work = root / "pkg" / "work.py"
    work.write_text(WORK)
    (root / "run.sh").write_text(RUN_SH)
    (root / "tests" / "test_children.py").write_text(textwrap.dedent(TESTS))
    if torch:
        (root / "tests" / "test_torch.py").write_text(TORCH_TEST)
    return work
