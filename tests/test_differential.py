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
from support import envs, installed_app

PROJECT = Path(__file__).parent / "programs" / "differential"
WORK = PROJECT / "src" / "app" / "work.py"
CONFIGS = {
    "dirs": "source = src",
    "pkgs": "source_pkgs = app",
    # Issue 27: what real suites use.  "site-*": the project root holds a
    # pyvenv.cfg, so src (on sys.path) is a third-party location by coverage's
    # own rule, as an installed package in a venv's site-packages is.
    # ``--cov=PKG``: importable names given as source, installed.
    "site-names": "source = app, apptop",
    # ``--cov=<its site-packages dir>`` with omit globs and a static context.
    "site-dirs": "source = src\nomit = */app/mp_*.py\n    */helper*\ncontext = ci-run",
    # Installed the way tox does (tests/support/installed_app.py): a wheel
    # pip-installed into the site-packages of the venv that runs the tree.
    # ``--cov=PKG``: importable names.
    "installed-names": "source = app, apptop",
    # ``--cov=<the package's site-packages dir>`` and a name, omit globs, a context.
    "installed-dirs": (
        "source = {site}/app, apptop\nomit = */app/mp_*.py\n    */helper*\ncontext = ci-run"
    ),
    # No source: include globs, relative_files and [paths].
    "include": (
        "include = */src/app/*\n    src/apptop.py\nomit = */script.py\nrelative_files = True\n"
        "[paths]\nsource =\n    src/\n    */differential/src/"
    ),
}
# The project root is a venv (a pyvenv.cfg): the source lies in an install location.
IN_VENV = {"site-names", "site-dirs"}
# The app package is pip-installed into the venv's site-packages.
INSTALLED = {"installed-names", "installed-dirs"}
# The recorder (not coverage.py) must have written data in these runs ("pkgs": a
# name found on sys.path, as a .pth editable install puts it there).
RECORDED = {"dirs", "pkgs", "site-names", "site-dirs", "include", *INSTALLED}
# A matrix cell (scripts/matrix.sh) runs the settings of issue 27 on its own
# Python, coverage and core (COVERAGE_CORE passes on), with branches (lines
# and arcs); the fixed-version cases below run in the main run only.
CELL = os.environ.get("COVHOOK_MATRIX_CELL")
CELL_CONFIGS = ("pkgs", "include", "installed-names", "installed-dirs")

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
    pytest.param("3.11", "coverage==7.17.3", "site-names", True, id="py3.11-cov7.17-site-names"),
    pytest.param("3.11", "coverage==7.17.3", "site-dirs", True, id="py3.11-cov7.17-site-dirs"),
    pytest.param("3.11", "coverage==7.17.3", "include", True, id="py3.11-cov7.17-include"),
    pytest.param(
        "3.11", "coverage==7.10.4", "site-names", False, id="py3.11-cov7.10-site-names-line",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "3.13", "coverage==7.17.3", "include", True, id="py3.13-cov7.17-include",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "3.11", "coverage==7.17.3", "installed-names", True, id="py3.11-cov7.17-installed-names",
    ),
    pytest.param(
        "3.11", "coverage==7.17.3", "installed-dirs", True, id="py3.11-cov7.17-installed-dirs",
    ),
]  # fmt: skip
if CELL:
    CASES = [
        pytest.param(envs.THIS_PYTHON, envs.THIS_COVERAGE, config, True, id=f"cell-{config}")
        for config in CELL_CONFIGS
    ]

# issue 21: coverage.py's sys.monitoring core, measured by covhook's sysmon
# recorder in the lazy run: lines with COVERAGE_CORE=sysmon on 3.12 and 3.13
# (no sysmon branches there); on 3.14+ (the runner, e.g. the forky cells of
# scripts/matrix.sh) sysmon is coverage's default core, lines and branches.
SYSMON_CASES = (
    []
    if CELL
    else [
        pytest.param(
            "3.12",
            "coverage==7.17.5",
            False,
            {"COVERAGE_CORE": "sysmon"},
            id="py3.12-cov7.17.5-dirs-line-sysmon",
        ),
        pytest.param(
            "3.13",
            "coverage==7.17.5",
            False,
            {"COVERAGE_CORE": "sysmon"},
            id="py3.13-cov7.17.5-dirs-line-sysmon",
            marks=pytest.mark.slow,
        ),
    ]
)
SYSMON_CASES += [
    *(
        pytest.param(envs.THIS_PYTHON, envs.THIS_COVERAGE, branch, {},
                     id=f"runner-dirs-{'branch' if branch else 'line'}-sysmon",
                     marks=pytest.mark.skipif(sys.version_info < (3, 14),
                                              reason="sysmon is coverage's default from 3.14"))
        for branch in (True, False)
    ),
    # A 3.12/3.13 cell: its own coverage with COVERAGE_CORE=sysmon (lines).
    *(
        [pytest.param(envs.THIS_PYTHON, envs.THIS_COVERAGE, False, {"COVERAGE_CORE": "sysmon"},
                      id="runner-dirs-line-COVERAGE_CORE=sysmon")]
        if CELL and (3, 12) <= sys.version_info < (3, 14) else []
    ),
]  # fmt: skip

Data = tuple[dict[str, set[int]], dict[str, set[tuple[int, int]]]]


class Run:
    """One run of the driver's process tree: combined data and what was left on disk."""

    def __init__(self, root: Path, data: Data, files: int, skipped: int, recorded: int) -> None:
        self.root = root
        self.lines, self.arcs = data
        self.files = files
        self.skipped = skipped
        self.recorded = recorded


def run_tree(  # noqa: PLR0917
    python: Path, root: Path, config: str, branch: bool, lazy: bool, app: Path, **extra: str
) -> Run:
    """Copy the project to ``root``, run the driver under the hook, combine, read.

    ``app``: where the app package lies, the project's ``src/app`` (copied
    along) or its installed copy (then ``src`` is not copied: the tree
    imports and runs the installed files only).
    """
    installed = config in INSTALLED
    shutil.copytree(
        PROJECT, root, ignore=lambda d, _: ["src"] if installed and d == str(PROJECT) else []
    )
    if not installed:
        app = root / "src" / "app"
    rc = root / ".coveragerc"
    rc.write_text(
        f"[run]\nbranch = {branch}\nparallel = True\ndata_file = {root}/.coverage\n"
        + CONFIGS[config].replace("{site}", str(app.parent))
        + "\n"
    )
    if config in IN_VENV:
        (root / "pyvenv.cfg").write_text("home = /usr/bin\n")
    env = envs.clean_env(
        COVERAGE_PROCESS_START=str(rc),
        COVHOOK_LAZY="1" if lazy else "0",
        COVHOOK_LEAN="1" if lazy else "0",  # eager = today's start: full import coverage
        COVHOOK_RECORDER="1" if lazy else "0",  # lazy: the lean recorder where it applies
        DIFFERENTIAL_APP=str(app),
        **({} if installed else {"PYTHONPATH": str(root / "src")}),
        **extra,
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not installed:  # (pip compiled the installed copy)
        # .pyc files: `-m apptop` then runs a code object that compile() never saw.
        subprocess.run(
            [str(python), "-m", "compileall", "-q", "src"], cwd=root, env=env, check=True
        )
    subprocess.run([str(python), "tools/driver.py"], cwd=root, env=env, check=True, timeout=600)
    files = len(list(root.glob(".coverage.*")))
    recorded = sum(map(written_by_recorder, root.glob(".coverage.*")))
    skipped = scope.skipped_count(str(root))
    subprocess.run(
        [str(python), "-m", "coverage", "combine", "-q", f"--rcfile={rc}"],
        cwd=root, env=envs.clean_env(), check=True,
    )  # fmt: skip
    return Run(root, read(root / ".coverage", root), files, skipped, recorded)


def written_by_recorder(path: Path) -> bool:
    """The recorder's files (branch data) carry covhook's arc bitmaps; coverage.py's do not."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute("SELECT name FROM sqlite_master WHERE name = ?", (arcbits.TABLE,))
        return bool(rows.fetchall())
    finally:
        con.close()


def read(data_file: Path, root: Path) -> Data:
    data = coverage.CoverageData(str(data_file))
    data.read()
    lines: dict[str, set[int]] = {}
    arcs: dict[str, set[tuple[int, int]]] = {}
    for name in data.measured_files():
        key = os.path.relpath(name, root) if os.path.isabs(name) else name
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
    make_covhook_env,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    python: str,
    coverage_req: str,
    config: str,
    branch: bool,
) -> None:
    env = make_covhook_env(python, coverage_req)
    app = None
    if config in INSTALLED:
        work = tmp_path_factory.mktemp("installed")
        env = installed_app.installed_env(env, PROJECT / "src", work)
        app = installed_app.site_packages(env) / "app"
    check_trees(env.python, tmp_path, config, branch, app=app)


@pytest.mark.parametrize(("python", "coverage_req", "branch", "extra"), SYSMON_CASES)
def test_lazy_start_and_sysmon_recorder_measure_what_coverage_sysmon_measures(  # noqa: PLR0917
    make_covhook_env, tmp_path: Path, python: str, coverage_req: str, branch: bool, extra: dict
) -> None:
    env = make_covhook_env(python, coverage_req)
    lazy = check_trees(env.python, tmp_path, "dirs", branch, **extra)
    if branch:
        assert lazy.recorded > 0, "the sysmon recorder wrote data files"


def check_trees(
    python: Path, tmp_path: Path, config: str, branch: bool, app: Path | None = None, **extra: str
) -> Run:
    """The lazy tree (lean, recorders) measures what the eager one (coverage.py as is) does."""
    app = app or PROJECT / "src" / "app"  # (not installed: the copy in each run's root)
    eager = run_tree(python, tmp_path / "eager", config, branch, lazy=False, app=app, **extra)
    lazy = run_tree(python, tmp_path / "lazy", config, branch, lazy=True, app=app, **extra)

    # The tree really ran every kind (else equality below would prove little).
    if config in INSTALLED:  # the same installed files in both runs
        work = os.path.relpath(app / "work.py", eager.root)
        apptop = os.path.relpath(app.parent / "apptop.py", eager.root)
        assert os.path.relpath(app, lazy.root) == os.path.relpath(app, eager.root)
    else:
        work = os.path.join("src", "app", "work.py")
        apptop = os.path.join("src", "apptop.py")
    assert kinds_in(eager.lines.get(work, set())) == set(kind_lines().values())
    if config in ("dirs", "site-names", "include", *INSTALLED):
        assert apptop in eager.lines
    if config in ("site-dirs", "installed-dirs"):  # the omit globs took files out
        assert work in eager.lines
        assert not [name for name in eager.lines if "mp_" in name]
    if config == "include":  # include took files in, omit took script.py out
        assert not [name for name in eager.lines if name.endswith("script.py")]
        assert not [name for name in eager.lines if os.path.isabs(name)]
    if config in INSTALLED:  # only the installed package: nothing else of site-packages
        assert {os.path.dirname(name) for name in eager.lines} == {
            os.path.dirname(work),
            os.path.dirname(apptop),
        }

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
    assert eager.recorded == 0
    if config in RECORDED and branch:
        # The settings of issue 27 took the recorder's fast path (not coverage.py's).
        assert lazy.recorded >= 10, (lazy.recorded, lazy.files)
    return lazy
