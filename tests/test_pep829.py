"""PEP 829 (Python 3.15+): covhook's start-up on 3.15, and its .start entry point for 3.18+.

The wheel ships the .pth only (issue 21): on 3.15 a .start file makes every
process import pkgutil; 3.15-3.17 run .pth import lines without a warning.
On a real 3.15 (the matrix's 3.15 cells, Debian's python3.15) the hook
measures once, quietly under ``-X dev -W error``, and inactive imports what a
bare venv imports.  The entry point for 3.18+ (import lines ignored) is
checked with tests/support/pep829.py, which does what 3.15's
``site.StartupState`` does, in its order (path lines, .pth import lines unless
a matching .start exists, then entry points), on a real interpreter run with
``-S``; with ``PEP829_PYTHON=3.18`` it ignores the import lines.
"""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

import covhook
from covhook.startup import entry as _start_entry
from support import data, envs, processes

sys.path.insert(0, str(envs.REPO / "pth"))
from make_pth import ENTRY_POINT, PTH_NAME, SHIP_START, START_NAME, start_text

EMULATOR = Path(__file__).resolve().parent / "support" / "pep829.py"
PROGRAM = "import sys\nprint('ran')\nsys.exit(0)\n"


def test_start_file_names_a_strict_entry_point_callable_without_arguments() -> None:
    lines = [x for x in start_text().splitlines() if x and not x.startswith("#")]
    assert lines == [ENTRY_POINT] == [_start_entry.ENTRY_POINT]
    module, _, attr = ENTRY_POINT.partition(":")
    assert module
    assert attr
    assert pkgutil.resolve_name(ENTRY_POINT) is covhook.start_hook
    covhook.start_hook()  # inactive here: returns, imports nothing


def test_start_file_does_not_match_the_pth_and_sorts_before_coverages() -> None:
    # A matching name would suppress the .pth's import line (see make_pth.py).
    assert START_NAME.removesuffix(".start") != PTH_NAME.removesuffix(".pth")
    assert START_NAME < "a1_coverage.start"


def test_inactive_entry_point_imports_only_covhooks_init(tmp_path: Path) -> None:
    code = (
        # site.py on 3.15 has pkgutil, and resolve_name's own regex, loaded already.
        "import pkgutil, sys; pkgutil.resolve_name('os:getcwd'); before = set(sys.modules)\n"
        f"pkgutil.resolve_name({ENTRY_POINT!r})()\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    done = processes.run([sys.executable, "-c", code], tmp_path, envs.clean_env(), check=True)
    assert done.stdout.strip() == "['covhook']"


def run_315(
    env: envs.Env, sitedir: Path, cwd: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    (cwd / "prog.py").write_text(PROGRAM)
    rc = cwd / ".coveragerc"
    rc.write_text("[run]\nparallel = true\n")
    return processes.run(
        [env.python, "-S", EMULATOR, sitedir, "prog.py"],
        cwd,
        envs.clean_env(COVERAGE_PROCESS_START=str(rc), **extra),
    )


@pytest.fixture
def this_env(make_covhook_env) -> envs.Env:  # type: ignore[no-untyped-def]
    """covhook's wheel in a venv of this interpreter and this coverage (each matrix cell's)."""
    return make_covhook_env()


def site_with_start_file(sitedir: Path, root: Path) -> Path:
    """A site dir as a wheel that ships the .start would install it (tests/support/pep829.py)."""
    fake = root / "site"
    fake.mkdir()
    for name in (PTH_NAME, "a1_coverage.pth"):
        if (sitedir / name).exists():
            shutil.copy(sitedir / name, fake / name)
    (fake / START_NAME).write_text(start_text())
    (fake / "real.pth").write_text(f"{sitedir}\n")
    return fake


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.15", "3.18"])
def test_measured_once_with_covhook_under_315_processing(
    this_env: envs.Env, tmp_path: Path, python: str
) -> None:
    """3.15-3.17: the .pth starts covhook (a .start would find it done); 3.18+: the entry point."""
    sitedir = this_env.site_packages
    assert (sitedir / START_NAME).is_file() == SHIP_START
    if python == "3.18":
        sitedir = site_with_start_file(sitedir, tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    done = run_315(this_env, sitedir, work, PEP829_PYTHON=python)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran\n"
    assert done.stderr == ""
    (written,) = data.data_files(work)
    assert written.name.split(".")[2].startswith("host-"), written.name  # covhook's origin tag
    assert data.lines_of(written, "prog.py") == {1, 2, 3}


needs_315 = pytest.mark.skipif(
    sys.version_info < (3, 15), reason="a real Python 3.15 site.py (the matrix's 3.15 cells)"
)


@pytest.mark.slow
@needs_315
def test_real_315_measures_once_and_quietly_under_dev_mode(
    this_env: envs.Env, tmp_path: Path
) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nparallel = true\n")
    done = processes.run(
        [this_env.python, "-X", "dev", "-W", "error", "prog.py"],
        tmp_path,
        envs.clean_env(COVERAGE_PROCESS_START=str(rc)),
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n", "")
    (written,) = data.data_files(tmp_path)
    assert written.name.split(".")[2].startswith("host-"), written.name  # covhook's origin tag
    assert data.lines_of(written, "prog.py") == {1, 2, 3}


def imported_modules(python: Path) -> set[str]:
    done = processes.run(
        [python, "-X", "importtime", "-c", "pass"], env=envs.clean_env(), check=True
    )
    return {row.rsplit("|", 1)[-1].strip() for row in done.stderr.splitlines()[1:]}


@pytest.mark.slow
@needs_315
def test_real_315_inactive_imports_what_a_bare_venv_imports(
    this_env: envs.Env, tmp_path: Path
) -> None:
    """Issue 21: a .start file made every 3.15 process import pkgutil, re, enum ... (~10 ms).

    The bare venv gets one .pth (a comment): reading any non-empty .pth loads
    the utf-8-sig codec, which every venv with a package that ships one pays.
    """
    bare = envs.make_env(tmp_path / "bare", Path(sys.executable))
    (bare.site_packages / "other.pth").write_text("# another package's .pth\n")
    assert imported_modules(this_env.python) == imported_modules(bare.python)


@pytest.mark.slow
def test_a_matching_start_file_would_lose_to_coverages_own_pth(
    this_env: envs.Env, tmp_path: Path
) -> None:
    """Why the .start is not named a0_covhook.start: coverage would start without covhook."""
    sitedir = this_env.site_packages
    if not (sitedir / "a1_coverage.pth").exists():
        pytest.skip(f"coverage {coverage.__version__} ships no a1_coverage.pth")
    fake = site_with_start_file(sitedir, tmp_path)
    (fake / START_NAME).rename(fake / "a0_covhook.start")
    work = tmp_path / "work"
    work.mkdir()
    done = run_315(this_env, fake, work)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("covhook: coverage's own start-up hook started coverage before")
    assert "Fix: " in line
    (written,) = data.data_files(work)
    assert not written.name.split(".")[2].startswith("host-")  # untagged: no covhook
