"""Lazy scoped start measures exactly what eager start measures (issue 9).

One real process tree per run: ``tools/driver.py`` (out of scope) starts every
launch kind of ``tests/programs/differential`` one after another (``-c``,
``-m``, a script path, a relay script that imports in-scope code, os.system
via a shell, os.execv, os.spawnv, runpy.run_path/run_module, exec of a
compiled file, a thread started before the first in-scope import, fork before
and after the start, multiprocessing spawn/fork/forkserver with in-scope and
out-of-scope targets, an in-scope main script with spawn children,
ProcessPoolExecutor with the fork and spawn contexts) and an out-of-scope
helper.  The same tree runs twice in a real venv with covhook installed: once
with ``COVHOOK_LAZY=0 COVHOOK_LEAN=0 COVHOOK_RECORDER=0`` (coverage.py's own
eager start in every process) and once lazy, lean and with the recorder
(covhook.startup.recorder: coverage's C tracer and data format without importing
coverage, in every process whose config it handles).
With coverage.py's sys.monitoring core (issue 21: ``COVERAGE_CORE=sysmon`` on
3.12/3.13, the default from 3.14) the recorder is covhook.startup.sysmon_recorder.
Combined with plain ``coverage combine``, the data must be equal file for file,
line for line and (branch runs) arc for arc; and the lazy run must really have
been lazy: fewer data files, and the out-of-scope processes counted as skipped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from covhook import arcbits
from covhook.startup import scope
from support import envs

PROJECT = Path(__file__).parent / "programs" / "differential"
WORK = PROJECT / "src" / "app" / "work.py"
CONFIGS = {"dirs": "source = src", "pkgs": "source_pkgs = app"}

# (python, coverage, config, branch): line and branch data, source dirs and
# source_pkgs, the floor coverage version and the other Pythons; each case runs
# the whole tree twice (about 25 s on 2 cores), so not every combination.
CASES = [
    pytest.param("3.11", "coverage==7.17.3", "dirs", False, id="py3.11-cov7.17-dirs-line"),
    pytest.param("3.11", "coverage==7.17.3", "pkgs", True, id="py3.11-cov7.17-pkgs-branch"),
    pytest.param("3.11", "coverage==7.10.4", "dirs", True, id="py3.11-cov7.10-dirs-branch"),
    pytest.param(
        "3.12", "coverage==7.17.3", "dirs", True, id="py3.12-cov7.17-dirs-branch",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "3.13", "coverage==7.17.3", "pkgs", False, id="py3.13-cov7.17-pkgs-line",
        marks=pytest.mark.slow,
    ),
]  # fmt: skip

# issue 21: coverage.py's sys.monitoring core, measured by covhook's sysmon
# recorder in the lazy run: lines with COVERAGE_CORE=sysmon on 3.12 and 3.13
# (no sysmon branches there); on 3.14+ (the runner, e.g. the forky cells of
# scripts/matrix.sh) sysmon is coverage's default core, lines and branches.
SYSMON_CASES = [
    pytest.param("3.12", "coverage==7.17.5", False, {"COVERAGE_CORE": "sysmon"},
                 id="py3.12-cov7.17.5-dirs-line-sysmon"),
    pytest.param("3.13", "coverage==7.17.5", False, {"COVERAGE_CORE": "sysmon"},
                 id="py3.13-cov7.17.5-dirs-line-sysmon", marks=pytest.mark.slow),
    *(
        pytest.param(envs.THIS_PYTHON, envs.THIS_COVERAGE, branch, {},
                     id=f"runner-dirs-{'branch' if branch else 'line'}-sysmon",
                     marks=pytest.mark.skipif(sys.version_info < (3, 14),
                                              reason="sysmon is coverage's default from 3.14"))
        for branch in (True, False)
    ),
]  # fmt: skip

Data = tuple[dict[str, set[int]], dict[str, set[tuple[int, int]]]]


class Run:
    """One run of the driver's process tree: combined data and what was left on disk."""

    def __init__(self, root: Path, data: Data, files: int, skipped: int) -> None:
        self.root = root
        self.lines, self.arcs = data
        self.files = files
        self.skipped = skipped
        self.recorded = 0  # data files with covhook's arc bitmaps: written by a recorder


def run_tree(python: Path, root: Path, config: str, branch: bool, lazy: bool, **extra: str) -> Run:
    """Copy the project to ``root``, run the driver under the hook, combine, read."""
    shutil.copytree(PROJECT, root)
    rc = root / ".coveragerc"
    rc.write_text(
        f"[run]\n{CONFIGS[config]}\nbranch = {branch}\nparallel = True\n"
        f"data_file = {root}/.coverage\n"
    )
    env = envs.clean_env(
        COVERAGE_PROCESS_START=str(rc),
        PYTHONPATH=str(root / "src"),
        COVHOOK_LAZY="1" if lazy else "0",
        COVHOOK_LEAN="1" if lazy else "0",  # eager = today's start: full import coverage
        COVHOOK_RECORDER="1" if lazy else "0",  # lazy: the lean recorder where it applies
        **extra,
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # .pyc files: `-m apptop` then runs a code object that compile() never saw.
    subprocess.run([str(python), "-m", "compileall", "-q", "src"], cwd=root, env=env, check=True)
    subprocess.run([str(python), "tools/driver.py"], cwd=root, env=env, check=True, timeout=600)
    files = len(list(root.glob(".coverage.*")))
    recorded = sum(arcbits.TABLE in tables_of(path) for path in root.glob(".coverage.*"))
    skipped = scope.skipped_count(str(root))
    subprocess.run(
        [str(python), "-m", "coverage", "combine", "-q", f"--rcfile={rc}"],
        cwd=root, env=envs.clean_env(), check=True,
    )  # fmt: skip
    run = Run(root, read(root / ".coverage", root), files, skipped)
    run.recorded = recorded
    return run


def tables_of(path: Path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {name for (name,) in con.execute("select name from sqlite_master")}
    finally:
        con.close()


def read(data_file: Path, root: Path) -> Data:
    data = coverage.CoverageData(str(data_file))
    data.read()
    lines: dict[str, set[int]] = {}
    arcs: dict[str, set[tuple[int, int]]] = {}
    for name in data.measured_files():
        key = os.path.relpath(name, root)
        lines[key] = set(data.lines(name) or ())
        arcs[key] = set(data.arcs(name) or ())
    return lines, arcs


def kind_lines() -> dict[int, str]:
    """{line of work.py: launch kind} from the ``# kind:`` markers."""
    found = {}
    for number, text in enumerate(WORK.read_text().splitlines(), start=1):
        if "# kind: " in text:
            found[number] = text.split("# kind: ")[1].strip()
    return found


def kinds_in(lines: set[int]) -> set[str]:
    return {kind for number, kind in kind_lines().items() if number in lines}


@pytest.mark.parametrize(("python", "coverage_req", "config", "branch"), CASES)
def test_lazy_start_measures_what_eager_start_measures(  # noqa: PLR0917
    make_covhook_env, tmp_path: Path, python: str, coverage_req: str, config: str, branch: bool
) -> None:
    env = make_covhook_env(python, coverage_req)
    check_trees(env.python, tmp_path, config, branch)


@pytest.mark.parametrize(("python", "coverage_req", "branch", "extra"), SYSMON_CASES)
def test_lazy_start_and_sysmon_recorder_measure_what_coverage_sysmon_measures(  # noqa: PLR0917
    make_covhook_env, tmp_path: Path, python: str, coverage_req: str, branch: bool, extra: dict
) -> None:
    env = make_covhook_env(python, coverage_req)
    lazy = check_trees(env.python, tmp_path, "dirs", branch, **extra)
    if branch:
        assert lazy.recorded > 0, "the sysmon recorder wrote data files"


def check_trees(python: Path, tmp_path: Path, config: str, branch: bool, **extra: str) -> Run:
    """The lazy tree (lean, recorders) measures what the eager one (coverage.py as is) does."""
    eager = run_tree(python, tmp_path / "eager", config, branch, lazy=False, **extra)
    lazy = run_tree(python, tmp_path / "lazy", config, branch, lazy=True, **extra)

    # The tree really ran every kind (else equality below would prove little).
    work = os.path.join("src", "app", "work.py")
    assert kinds_in(eager.lines.get(work, set())) == set(kind_lines().values())
    if config == "dirs":
        assert os.path.join("src", "apptop.py") in eager.lines

    missing = kinds_in(eager.lines.get(work, set()) - lazy.lines.get(work, set()))
    assert not missing, f"lazy start lost the lines of: {sorted(missing)}"
    assert lazy.lines == eager.lines
    if branch:
        assert lazy.arcs == eager.arcs
        assert any(lazy.arcs.values())

    # And it really was lazy: out-of-scope processes wrote nothing and were counted.
    assert eager.skipped == 0
    assert lazy.skipped >= 3, "driver, helper and the relays' parents are out of scope"
    assert lazy.files < eager.files
    return lazy
