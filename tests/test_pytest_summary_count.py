"""The pytest summary line and ``covhook run``'s per-origin table count the same processes.

A real suite whose test starts a child that ``os.execv``s (one pid, a data file
before and after the exec) and a plain child; ``covhook run -- pytest`` prints
both counts, and the combined data shows the exec'd program's lines ran.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from support import cli, data

WORK = """\
import os, sys


def after_exec():
    return 1  # after-exec


if __name__ == "__main__":
    if sys.argv[1:] == ["exec"]:
        os.execv(sys.executable, [sys.executable, "-m", "pkg.work", "done"])
    after_exec()
"""

TEST = """\
import subprocess, sys


def test_children():
    subprocess.run([sys.executable, "-m", "pkg.work", "exec"], check=True)
    subprocess.run([sys.executable, "-m", "pkg.work", "plain"], check=True)
"""


def test_summary_counts_what_the_table_counts(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "work.py").write_text(WORK)
    (tmp_path / "test_children.py").write_text(TEST)
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    done = cli.covhook(
        ["run", "--", sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        tmp_path,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = re.search(r"covhook: (\d+) measured process", done.stdout)
    table = re.search(r"^TOTAL\s+(\d+)\s*$", done.stdout, re.M)
    assert summary, done.stdout
    assert table, done.stdout
    assert summary.group(1) == table.group(1) == "4", done.stdout  # pytest, 2 children, 1 exec
    assert data.lines_in(tmp_path / "pkg" / "work.py", "after-exec") <= data.lines_of(
        tmp_path / ".coverage", "work.py"
    )
