"""A config without ``parallel``: the root writes coverage.py's own file; nothing is lost.

coverage.py's own process-startup tests set ``COVERAGE_PROCESS_START`` to a
config that leaves ``parallel`` off and read ``data_file`` afterwards; the
process that read it first (the root) must write that file as coverage.py
would: same name, its old content gone, no covhook context.  The processes
below it are parallel and tagged, and a copy of the root's data under a
parallel name keeps combining (coverage's or covhook's) from losing it, and
sibling roots (a script that starts Python twice) from erasing each other
(issue 26).
All real processes; assertions read the data files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage

from support import cli, data, measured

SUB = 'with open("out.txt", "w") as f:  # sub\n    f.write("hi")  # sub\na = 3  # sub\n'
MAIN = "import subprocess, sys  # main\nsubprocess.run([sys.executable, 'sub.py'])  # main\n"


def lines(data_file: Path) -> dict[str, set[int]]:
    return {Path(k).name: v for k, v in data.lines_by_file(data_file).items()}


def test_the_root_writes_coveragepys_own_file(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(SUB)
    stale = coverage.CoverageData(str(tmp_path / ".mycovdata"))
    stale.add_lines({str(tmp_path / "sub.py"): set(range(1, 100))})
    stale.write()
    rc = "[run]\ndata_file = .mycovdata\n"
    done = measured.run(sys.executable, tmp_path, "sub.py", rc_text=rc)
    assert done.returncode == 0, done.stderr
    assert "covhook" not in done.stderr
    plain = tmp_path / ".mycovdata"
    assert lines(plain) == {"sub.py": {1, 2, 3}}  # the stale 99 lines are gone
    assert data.contexts(plain) == {""}  # coverage.py's own context, none of covhook's


def test_a_tree_and_sibling_roots_lose_nothing_when_combined(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(SUB)
    (tmp_path / "main.py").write_text(MAIN)
    (tmp_path / "other.py").write_text("b = 1  # other\n")
    rc = "[run]\nbranch = false\n"
    for script in ("main.py", "other.py"):  # two roots, one after the other
        done = measured.run(sys.executable, tmp_path, script, rc_text=rc)
        assert done.returncode == 0, done.stderr
    # The plain file holds only the last root's data, as coverage.py's would...
    assert lines(tmp_path / ".coverage") == {"other.py": {1}}
    # ...and combining brings back the first root's and its child's.
    cli.covhook(["combine"], tmp_path, check=True)
    assert lines(tmp_path / ".coverage") == {
        "main.py": {1, 2},
        "sub.py": {1, 2, 3},
        "other.py": {1},
    }
    assert data.data_files(tmp_path) == []


def test_plain_coverage_combine_keeps_the_root(tmp_path: Path) -> None:
    (tmp_path / "sub.py").write_text(SUB)
    (tmp_path / "main.py").write_text(MAIN)
    done = measured.run(sys.executable, tmp_path, "main.py", rc_text="[run]\n")
    assert done.returncode == 0, done.stderr
    cli.coverage(["combine"], tmp_path, check=True)
    assert lines(tmp_path / ".coverage") == {"main.py": {1, 2}, "sub.py": {1, 2, 3}}
