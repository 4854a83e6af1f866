"""The .pth source, the line generated from it, and its cost when inactive."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from support import envs, processes

sys.path.insert(0, str(envs.REPO / "pth"))
from make_pth import PTH_NAME, SOURCE, make_pth_line


def test_line_is_one_import_line_with_the_guard_inline() -> None:
    line = make_pth_line(SOURCE.read_text())
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert line.startswith("import ")  # site.py runs only lines starting with import
    guard = (
        "if os.environ.get('COVERAGE_PROCESS_START') or os.environ.get('COVERAGE_PROCESS_CONFIG')"
    )
    assert guard in line


def test_pth_name_sorts_before_coverages_own_and_after_editables() -> None:
    assert sorted([PTH_NAME, "a1_coverage.pth", "__editable__.covhook-0.1.0.pth"]) == [
        "__editable__.covhook-0.1.0.pth",
        PTH_NAME,
        "a1_coverage.pth",
    ]


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\n",
        "import os\nif a:\n    pass\nif b:\n    pass\n",
        "import os\nif a:\n    pass\nelse:\n    pass\n",
        "if a:\n    pass\n",
    ],
    ids=["no-if", "two-ifs", "else", "no-import"],
)
def test_generator_rejects_sources_it_cannot_keep_cheap(source: str) -> None:
    with pytest.raises(ValueError, match="hook source"):
        make_pth_line(source)


def test_generated_line_does_what_the_source_does(tmp_path: Path) -> None:
    """exec the line as site.py would: inactive does nothing, active calls the body."""
    source = "import os\nif os.environ.get('GO'):\n    import sys\n    sys.stdout.write('ran')\n"
    line = make_pth_line(source)
    for go, expected in (("", ""), ("1", "ran")):
        done = processes.run(
            [sys.executable, "-c", f"exec({line!r})"], env=envs.clean_env(GO=go), check=True
        )
        assert done.stdout == expected


# A cell of scripts/matrix.sh tests its own Python only.
PYTHONS = [envs.THIS_PYTHON] if os.environ.get("COVHOOK_MATRIX_CELL") else ["3.11", "3.13"]


@pytest.mark.slow
@pytest.mark.parametrize("python", PYTHONS)
def test_inactive_hook_imports_nothing(make_covhook_env, python: str) -> None:
    env = make_covhook_env(python)
    done = processes.run(
        [env.python, "-X", "importtime", "-c", "pass"], env=envs.clean_env(), check=True
    )
    imported = [row.rsplit("|", 1)[-1].strip() for row in done.stderr.splitlines()]
    assert imported  # importtime did report
    assert not [m for m in imported if m.split(".")[0] in ("covhook", "coverage")]


@pytest.mark.slow
def test_active_hook_runs_once_per_process_with_both_pth_files(make_covhook_env) -> None:
    """covhook's a0 and coverage's a1 both present, each run twice by site: one start."""
    env = make_covhook_env()
    if not (env.site_packages / "a1_coverage.pth").is_file():
        pytest.skip("this coverage (< 7.13) ships no a1_coverage.pth")
    script = (
        "import coverage, covhook.startup.boot\n"
        "cov = coverage.process_startup.coverage\n"
        "print(type(cov).__name__, len(coverage.Coverage._instances))\n"
    )
    rc = Path("rc")
    rc.write_text("[run]\nparallel = True\n")
    done = processes.run(
        [env.python, "-c", script],
        env=envs.clean_env(COVERAGE_PROCESS_START=str(rc.resolve())),
        check=True,
    )
    assert done.stdout.split() == ["Coverage", "1"]
    assert done.stderr == ""
