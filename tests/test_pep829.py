"""PEP 829 (Python 3.15+): covhook's .start entry point, processed the way 3.15's site.py does.

No Python 3.15 exists on the machines we test on (pyenv has 3.11-3.13), so a
real 3.11-3.13 interpreter runs with ``-S`` and tests/support/pep829.py does
what 3.15's ``site.StartupState`` does, in its order: path lines, then every
.pth import line (unless a matching .start exists), then the .start entry
points.  What is simulated is site.py's order; the interpreter, covhook,
coverage and the measured program are real.
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
from support import data, envs

sys.path.insert(0, str(envs.REPO / "pth"))
from make_pth import ENTRY_POINT, PTH_NAME, START_NAME, start_text

EMULATOR = Path(__file__).resolve().parent / "support" / "pep829.py"
PROGRAM = "import sys\nprint('ran')\nsys.exit(0)\n"


@pytest.mark.fast
def test_start_file_names_a_strict_entry_point_callable_without_arguments() -> None:
    lines = [x for x in start_text().splitlines() if x and not x.startswith("#")]
    assert lines == [ENTRY_POINT] == [_start_entry.ENTRY_POINT]
    module, _, attr = ENTRY_POINT.partition(":")
    assert module
    assert attr
    assert pkgutil.resolve_name(ENTRY_POINT) is covhook.start_hook
    covhook.start_hook()  # inactive here: returns, imports nothing


@pytest.mark.fast
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
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=envs.clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "['covhook']"


def run_315(
    env: envs.Env, sitedir: Path, cwd: Path, **extra: str
) -> subprocess.CompletedProcess[str]:
    (cwd / "prog.py").write_text(PROGRAM)
    rc = cwd / ".coveragerc"
    rc.write_text("[run]\nparallel = true\n")
    return subprocess.run(
        [str(env.python), "-S", str(EMULATOR), str(sitedir), "prog.py"],
        cwd=cwd,
        env=envs.clean_env(COVERAGE_PROCESS_START=str(rc), **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def this_env(make_covhook_env) -> envs.Env:  # type: ignore[no-untyped-def]
    """covhook's wheel in a venv of this interpreter and this coverage (each matrix cell's)."""
    return make_covhook_env()


@pytest.mark.slow
@pytest.mark.parametrize("python", ["3.15", "3.18"])
def test_measured_once_with_covhook_under_315_processing(
    this_env: envs.Env, tmp_path: Path, python: str
) -> None:
    """3.15-3.17: the .pth starts covhook first; 3.18+: the entry point does."""
    sitedir = this_env.site_packages
    assert (sitedir / START_NAME).is_file(), "the wheel does not install the .start file"
    done = run_315(this_env, sitedir, tmp_path, PEP829_PYTHON=python)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran\n"
    assert done.stderr == ""
    (written,) = data.data_files(tmp_path)
    assert written.name.split(".")[2].startswith("host-"), written.name  # covhook's origin tag
    assert data.lines_of(written, "prog.py") == {1, 2, 3}


@pytest.mark.slow
def test_a_matching_start_file_would_lose_to_coverages_own_pth(
    this_env: envs.Env, tmp_path: Path
) -> None:
    """Why the .start is not named a0_covhook.start: coverage would start without covhook."""
    sitedir = this_env.site_packages
    if not (sitedir / "a1_coverage.pth").exists():
        pytest.skip(f"coverage {coverage.__version__} ships no a1_coverage.pth")
    fake = tmp_path / "site"
    fake.mkdir()
    for name in (PTH_NAME, "a1_coverage.pth"):
        shutil.copy(sitedir / name, fake / name)
    (fake / "a0_covhook.start").write_text(start_text())
    (fake / "real.pth").write_text(f"{sitedir}\n")
    work = tmp_path / "work"
    work.mkdir()
    done = run_315(this_env, fake, work)
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith("covhook: coverage's own start-up hook started coverage before")
    assert "Fix: " in line
    (written,) = data.data_files(work)
    assert not written.name.split(".")[2].startswith("host-")  # untagged: no covhook
