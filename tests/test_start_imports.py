"""What a measured process imports: nothing its program would not, beyond covhook's own.

A process measured by covhook's recorder (the fast path) pays for every module
covhook imports; ``re``, ``contextlib`` (with ``collections`` and
``functools``), ``random``, ``warnings``, ``importlib`` and ``typing`` cost it 0.5-3 ms each
(issue 21: -X importtime on 3.14).  The child records every import with an
audit hook, to its very end (the save at exit included), and the test compares
with the same program run bare.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support import data, envs, processes

NOT_FOR_COVHOOK = {
    "re", "contextlib", "random", "warnings", "typing", "coverage", "importlib",
    "dataclasses", "pathlib", "inspect", "tempfile",
}  # fmt: skip

NEEDED = "import sys, threading, signal, _sqlite3; print(' '.join(sys.modules))"

RECORD = """\
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
sys.addaudithook(lambda event, args: event == "import" and os.write(fd, (args[0] + "\\n").encode()))
print(" ".join(sys.modules), file=open(sys.argv[2], "w"))
import pkg.mod
pkg.mod.work(3)
"""


@pytest.mark.parametrize("branch", [False, True], ids=["lines", "branches"])
def test_the_recorder_imports_nothing_the_program_does_not(tmp_path: Path, branch: bool) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(
        "def work(n):\n    total = 0\n    for i in range(n):\n"
        "        if i % 2:\n            total += i\n    return total\n"
    )
    (tmp_path / "record.py").write_text(RECORD)
    rc = tmp_path / ".coveragerc"
    rc.write_text(f"[run]\nparallel = true\nsource = pkg\nbranch = {branch}\n")

    def imported(**extra: str) -> set[str]:
        log, before = tmp_path / "imports.log", tmp_path / "before.txt"
        log.unlink(missing_ok=True)
        env = envs.clean_env(COVHOOK_CACHE_DIR=str(tmp_path / "cache"), **extra)
        done = subprocess.run(
            [sys.executable, "record.py", str(log), str(before)],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return set(before.read_text().split()) | set(log.read_text().split())

    bare = imported()
    # What the recorder cannot do without (signal handlers, its lock) brings what it brings
    # on each Python (threading imports warnings on 3.13, functools before 3.14).
    needed = set(
        processes.run(
            [sys.executable, "-I", "-S", "-c", NEEDED], tmp_path, envs.clean_env(), timeout=60
        ).stdout.split()
    )
    imported(COVERAGE_PROCESS_START=str(rc))  # the first process caches the resolved config
    measured = imported(COVERAGE_PROCESS_START=str(rc))
    for written in data.data_files(tmp_path):
        assert data.lines_of(written, "mod.py") >= {2, 3, 4, 5}
    assert (measured - bare - needed) & NOT_FOR_COVHOOK == set(), sorted(measured - bare)
