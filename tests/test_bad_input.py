"""Never break Python: every bad input still runs the program, with one covhook line.

Each case starts a real interpreter from a real venv where covhook's wheel is
installed, runs a program that prints and exits with status 3, and checks that
the program ran, its status is unchanged, and stderr is exactly one line that
names covhook, the problem and the fix.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import data, envs, processes

PROGRAM = "import sys\nprint('program ran')\nsys.exit(3)\n"


def run_program(python: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    (cwd / "prog.py").write_text(PROGRAM)
    return processes.run([python, "prog.py"], cwd, envs.clean_env(**env), timeout=60)


def run_with_rc(
    python: Path, cwd: Path, rc_text: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Write ``cwd/.coveragerc`` and run the program with it as COVERAGE_PROCESS_START."""
    rc = cwd / ".coveragerc"
    rc.write_text(rc_text)
    return run_program(python, cwd, COVERAGE_PROCESS_START=str(rc), **env)


def assert_one_covhook_line(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 3, done.stderr
    assert done.stdout == "program ran\n"
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert line.startswith("covhook: ")
    assert "Fix: " in line
    for word in words:
        assert word in line, line
    return line


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody can create files in, not even root (chattr +i as root)."""
    directory = tmp_path / "locked"
    directory.mkdir()
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    immutable = False
    if os.access(directory, os.W_OK):  # root ignores modes
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a read-only directory")
        processes.run(["chattr", "+i", directory], check=True)
        immutable = True
    try:
        yield directory
    finally:
        if immutable:
            processes.run(["chattr", "-i", directory], check=True)
        directory.chmod(stat.S_IRWXU)


@pytest.mark.slow
def test_missing_config_file(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    done = run_program(env.python, tmp_path, COVERAGE_PROCESS_START=str(tmp_path / "nope.rc"))
    assert_one_covhook_line(done, "nope.rc", "COVERAGE_PROCESS_START")
    assert data.data_files(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".coveragerc", "[run\nparallel = True\n"),
        ("pyproject.toml", "[tool.coverage.run]\nparallel = = True\n"),
        (".coveragerc", "[run]\nparallel = maybe\n"),
    ],
    ids=["broken-ini", "broken-toml", "bad-boolean"],
)
def test_unparsable_config(make_covhook_env, tmp_path: Path, name: str, text: str) -> None:
    env = make_covhook_env()
    rc = tmp_path / name
    rc.write_text(text)
    done = run_program(env.python, tmp_path, COVERAGE_PROCESS_START=str(rc))
    assert_one_covhook_line(done, "ConfigError", "correct", f"coverage debug config --rcfile={rc}")


@pytest.mark.slow
def test_coverage_not_importable(wheel: Path, tmp_path: Path) -> None:
    venv = envs.make_env(tmp_path / "venv", envs.PYTHONS[envs.THIS_PYTHON])
    venv.pip("--no-deps", str(wheel))  # covhook without its coverage dependency
    done = run_with_rc(venv.python, tmp_path, "[run]\nparallel = True\n")
    assert_one_covhook_line(done, "cannot import coverage", "pip install coverage")


@pytest.mark.slow
def test_hook_left_behind_without_covhook(make_covhook_env, tmp_path: Path) -> None:
    """A .pth whose package is gone (e.g. copied into an image) warns once, even in a venv."""
    venv = envs.make_env(tmp_path / "venv", envs.PYTHONS[envs.THIS_PYTHON])
    shutil.copy(make_covhook_env().site_packages / "a0_covhook.pth", venv.site_packages)
    done = run_with_rc(venv.python, tmp_path, "[run]\nparallel = True\n")
    assert_one_covhook_line(done, "cannot import covhook", "covhook uninstall")


@pytest.mark.slow
def test_hook_left_behind_where_coverage_measures_alone(make_covhook_env, tmp_path: Path) -> None:
    """Without covhook, coverage's own hook still measures: the line says so, not "off"."""
    venv = envs.make_env(tmp_path / "venv", envs.PYTHONS[envs.THIS_PYTHON], "coverage==7.17.3")
    shutil.copy(make_covhook_env().site_packages / "a0_covhook.pth", venv.site_packages)
    done = run_with_rc(venv.python, tmp_path, "[run]\n")
    line = assert_one_covhook_line(done, "cannot import covhook", "without covhook")
    assert "coverage is off" not in line
    assert data.lines_of(tmp_path / ".coverage", "prog.py") == {1, 2, 3}  # one plain file


@pytest.mark.slow
def test_unwritable_data_dir(make_covhook_env, tmp_path: Path, unwritable_dir: Path) -> None:
    env = make_covhook_env()
    done = run_with_rc(
        env.python, tmp_path, f"[run]\nparallel = True\ndata_file = {unwritable_dir}/.coverage\n"
    )
    assert_one_covhook_line(done, str(unwritable_dir), "writable")
    assert list(unwritable_dir.iterdir()) == []


@pytest.mark.slow
def test_coverage_import_that_exits(make_covhook_env, tmp_path: Path) -> None:
    """coverage.core exits for a core it cannot load (COVERAGE_CORE=ctrace without its C
    tracer, a subinterpreter): the program still runs, with one covhook line."""
    env = make_covhook_env()
    fake = tmp_path / "shadow" / "coverage"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("import sys\nsys.exit(1)\n")
    done = run_with_rc(
        env.python, tmp_path, "[run]\nparallel = True\n", PYTHONPATH=str(fake.parent)
    )
    assert_one_covhook_line(done, "importing coverage exited", "covhook doctor")


@pytest.mark.slow
def test_plugin_exception(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    (tmp_path / "badplugin.py").write_text(
        "def coverage_init(reg, options):\n    raise RuntimeError('plugin exploded')\n"
    )
    done = run_with_rc(
        env.python,
        tmp_path,
        "[run]\nparallel = True\nplugins = badplugin\n",
        PYTHONPATH=str(tmp_path),
    )
    assert_one_covhook_line(done, "plugin exploded", "plugin")


@pytest.mark.slow
def test_missing_plugin_module(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    done = run_with_rc(
        env.python, tmp_path, "[run]\nparallel = True\nplugins = no_such_plugin_module\n"
    )
    assert_one_covhook_line(done, "no_such_plugin_module")


@pytest.mark.slow
def test_unknown_covhook_option(make_covhook_env, tmp_path: Path) -> None:
    """Our own config section: a typo is named, and coverage still measures."""
    env = make_covhook_env()
    done = run_with_rc(env.python, tmp_path, "[run]\nparallel = True\n[covhook]\norigni = typo\n")
    assert_one_covhook_line(done, "origni", "[covhook]")
    (only,) = data.data_files(tmp_path)
    assert data.lines_of(only, "prog.py") == {1, 2, 3}


@pytest.mark.slow
@pytest.mark.parametrize("value", ["1", "yes"])
def test_covhook_disable(make_covhook_env, tmp_path: Path, value: str) -> None:
    env = make_covhook_env()
    done = run_with_rc(env.python, tmp_path, "[run]\nparallel = True\n", COVHOOK_DISABLE=value)
    assert (done.returncode, done.stdout, done.stderr) == (3, "program ran\n", "")
    if not (env.site_packages / "a1_coverage.pth").is_file():
        assert data.data_files(tmp_path) == []  # coverage < 7.13 has no hook of its own
        return
    # coverage's own a1_coverage.pth still measures: covhook stepped aside, nothing more.
    (only,) = data.data_files(tmp_path)
    assert not only.name.startswith(".coverage.host-")
