"""covhook's declared dependencies are true: the hook needs no pytest, the build's floor works."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from support import cli, data, envs, measured, processes

PYPROJECT = tomllib.loads((envs.REPO / "pyproject.toml").read_text("utf-8"))


def test_pytest_is_an_extra_with_a_pluggy_that_has_wrappers() -> None:
    deps = PYPROJECT["project"]["dependencies"]
    assert not [d for d in deps if d.startswith(("pytest", "pluggy"))]
    extra = PYPROJECT["project"]["optional-dependencies"]["pytest"]
    assert "pluggy>=1.2" in extra  # hookimpl(wrapper=True) in covhook.pytest_plugin
    source = (envs.REPO / "src" / "covhook" / "pytest_plugin.py").read_text("utf-8")
    assert "wrapper=True" in source


@pytest.mark.slow
def test_hook_measures_in_a_venv_without_pytest(wheel: Path, tmp_path: Path) -> None:
    """A container image gets the hook without pytest; the pytest11 entry point stays inert."""
    env = envs.make_env(tmp_path / "venv", envs.PYTHONS["3.11"], str(wheel))
    no_pytest = processes.run([env.python, "-c", "import pytest"])
    assert no_pytest.returncode != 0, "pytest got installed with covhook"
    (tmp_path / "prog.py").write_text("import sys\nx = 1\nprint('ran')\n")
    done = measured.run(env.python, tmp_path, "prog.py")
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n", "")
    (written,) = data.data_files(tmp_path)
    assert ".host-" in written.name
    assert data.lines_of(written, "prog.py") == {1, 2, 3}
    # The one command that needs pytest says so in one line.
    split = cli.covhook(["split", "-n", "2", "--", "tests"], tmp_path, bin_dir=env.bin, timeout=60)
    assert split.returncode == 1  # an error: coverage's ERR status
    (line,) = split.stderr.splitlines()
    assert "covhook split runs pytest, which is not installed" in line
    assert "Fix: pip install 'covhook[pytest]'" in line
