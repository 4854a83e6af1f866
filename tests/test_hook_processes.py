"""The installed hook measures a whole process tree; plain coverage combines it.

Everything here is real: a venv with covhook's wheel installed by pip, a parent
that starts children with subprocess, os.system, os.execv, multiprocessing
spawn and fork, and ``coverage combine`` run from an environment that does not
have covhook at all.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sys
from collections import Counter
from pathlib import Path

import pytest

from support import data, envs, measured

sys.path.insert(0, str(envs.REPO / "pth"))
from make_pth import SHIP_START, START_NAME

PROGRAMS = Path(__file__).parent / "programs"

COMBOS = [
    pytest.param("3.11", "coverage==7.17.3", id="py3.11-cov7.17"),
    pytest.param("3.11", "coverage==7.10.7", id="py3.11-cov7.10"),
    pytest.param("3.12", "coverage==7.17.3", id="py3.12-cov7.17"),
    pytest.param("3.13", "coverage==7.17.3", id="py3.13-cov7.17"),
]
if os.environ.get("COVHOOK_MATRIX_CELL"):
    # A cell of scripts/matrix.sh: its own Python and coverage only.
    COMBOS = [
        pytest.param(
            envs.THIS_PYTHON, envs.THIS_COVERAGE, id=f"cell-{os.environ['COVHOOK_MATRIX_CELL']}"
        )
    ]


@pytest.fixture(scope="session")
def plain_coverage(tmp_path_factory: pytest.TempPathFactory) -> envs.Env:
    """An environment with coverage but NOT covhook: where users often combine."""
    root = tmp_path_factory.mktemp("plain-coverage")
    python = envs.PYTHONS["3.11"]
    if not python.exists():  # the matrix's 3.14/3.15 cells run in a root without pyenv
        python = envs.PYTHONS[envs.THIS_PYTHON]
    return envs.make_env(root, python, "coverage==7.17.3")


def copy_programs(dest: Path) -> None:
    for name in ("tree.py", "child.py"):
        shutil.copy(PROGRAMS / name, dest / name)


def run_under_hook(env: envs.Env, cwd: Path, script: str, **extra: str) -> None:
    """Run ``script`` in ``cwd`` with a parallel rc as COVERAGE_PROCESS_START."""
    rc = cwd / ".coveragerc"
    if not rc.exists():
        rc.write_text("[run]\nparallel = True\n")
    measured.run(env.python, cwd, script, rc=rc, check=True, **extra)


def expected_tag() -> str:
    host = re.sub(r"[^A-Za-z0-9]+", "-", socket.gethostname()).strip("-")[:40].strip("-")
    return f"host-{host}"


@pytest.mark.slow
@pytest.mark.parametrize(("python", "coverage_req"), COMBOS)
def test_process_tree_is_measured_and_tagged(
    make_covhook_env, plain_coverage: envs.Env, tmp_path: Path, python: str, coverage_req: str
) -> None:
    env = make_covhook_env(python, coverage_req)
    assert (env.site_packages / "a0_covhook.pth").is_file()
    copy_programs(tmp_path)
    run_under_hook(env, tmp_path, "tree.py")

    files = data.data_files(tmp_path)
    names = [data.parse_name(f.name) for f in files]
    assert all(names), [f.name for f in files]
    assert {m["tag"] for m in names if m} == {expected_tag()}
    # One file per Python program: parent, subprocess, os.system, spawn, fork,
    # and the forked child that then execs (two programs, one pid).  Newer
    # Pythons may add multiprocessing's resource tracker: a process too.
    per_pid = Counter(m["pid"] for m in names if m)
    assert len(per_pid) >= 6, per_pid
    assert sorted(per_pid.values())[-2:] == [1, 2], per_pid

    data.combine_with_plain_coverage(plain_coverage.bin / "coverage", tmp_path)
    combined = tmp_path / ".coverage"
    # Nothing of covhook's.  Debian's interpreters (the 3.14/3.15 cells) run their own
    # /etc/python3.X/sitecustomize.py after the .pth files: outside the stdlib dir, so
    # measured (by coverage's own hook too) when the config names no source.
    measured = set(data.lines_by_file(combined)) - {"sitecustomize.py"}
    assert measured == {"tree.py", "child.py"}
    assert data.lines_of(combined, "child.py") >= data.lines_in(
        tmp_path / "child.py", "covered-by-child"
    )
    tree_lines = data.lines_of(combined, "tree.py")
    for marker in ("covered-by-spawn", "covered-by-fork", "covered-by-exec-parent"):
        assert data.lines_in(tmp_path / "tree.py", marker) <= tree_lines, marker
    assert data.contexts(combined) == {expected_tag()}


@pytest.mark.slow
def test_user_plugins_still_load_and_their_context_wins(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    (tmp_path / "userplugin.py").write_text(
        "import coverage\n"
        "class P(coverage.CoveragePlugin):\n"
        "    def configure(self, config):\n"
        "        config.set_option('run:context', 'set-by-user-plugin')\n"
        "def coverage_init(reg, options):\n"
        "    reg.add_configurer(P())\n"
    )
    (tmp_path / "prog.py").write_text("x = 1\n")
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\nplugins = userplugin\n")
    run_under_hook(env, tmp_path, "prog.py", PYTHONPATH=str(tmp_path))
    (only,) = data.data_files(tmp_path)
    assert only.name.startswith(f".coverage.{expected_tag()}.")
    assert data.contexts(only) == {"set-by-user-plugin"}


@pytest.mark.slow
def test_pip_uninstall_leaves_no_covhook_file(wheel: Path, tmp_path: Path) -> None:
    env = envs.make_env(tmp_path / "venv", envs.PYTHONS["3.11"], "coverage==7.17.3", str(wheel))
    site = env.site_packages
    assert (site / "a0_covhook.pth").is_file()
    envs.pip(env, "uninstall", "-y", "covhook")
    leftovers = [p for p in site.rglob("*") if "covhook" in p.name.lower()]
    assert leftovers == []
    assert not (env.bin / "covhook").exists()


@pytest.mark.slow
def test_editable_install_ships_the_hook(tmp_path: Path) -> None:
    env = envs.make_env(tmp_path / "venv", envs.PYTHONS["3.11"])
    env.pip("-e", str(envs.REPO))
    pth = env.site_packages / "a0_covhook.pth"
    start = env.site_packages / START_NAME  # PEP 829: not shipped before Python 3.18 needs it
    assert pth.is_file()
    assert start.is_file() == SHIP_START
    (tmp_path / "prog.py").write_text("x = 1\n")
    run_under_hook(env, tmp_path, "prog.py")
    (only,) = data.data_files(tmp_path)
    assert data.lines_of(only, "prog.py") == {1}
    envs.pip(env, "uninstall", "-y", "covhook")
    assert not pth.exists()
    assert not start.exists()


@pytest.mark.slow
def test_child_with_another_origin_gets_its_own_tag_and_context(
    make_covhook_env, tmp_path: Path
) -> None:
    """The parent's tag travels in COVERAGE_PROCESS_CONFIG; the child must replace it."""
    env = make_covhook_env()
    (tmp_path / "parent.py").write_text(
        "import os, subprocess, sys\n"
        "env = {**os.environ, 'RANK': '1', 'WORLD_SIZE': '2'}\n"
        "subprocess.run([sys.executable, 'rank.py'], env=env, check=True)\n"
    )
    (tmp_path / "rank.py").write_text("x = 1\n")
    run_under_hook(env, tmp_path, "parent.py")
    tags = sorted(m["tag"] for f in data.data_files(tmp_path) if (m := data.parse_name(f.name)))
    assert tags == [expected_tag(), f"{expected_tag()}_dist-r1of2"]
    rank_file = next(f for f in data.data_files(tmp_path) if "_dist-r1of2." in f.name)
    assert data.contexts(rank_file) == {f"{expected_tag()}_dist-r1of2"}
    assert data.lines_of(rank_file, "rank.py") == {1}
