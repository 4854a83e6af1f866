"""The recorder on installed packages: what coverage.py writes, without importing it (issue 27).

Real pip installs in a fresh venv with covhook: a package installed
non-editable into site-packages, named by path (``--cov=<site-packages>/pkg``,
coverage.py's "source in third-party" rule), and a package installed
editable by setuptools' import finder (a flat layout: its finder sits in
``sys.meta_path``, the project is not on ``sys.path``), named by name
(``--cov=PKG``).  Each runs its CLI with the recorder off (coverage.py) and on
(the config cache filled by the first); the data files must be equal table by
table, and the recorder must really have been used.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_recorder import CLI, name_tail, tables

from support import data, envs, measured

COVERAGE = "coverage==7.17.3"
PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "1.0"

[tool.setuptools]
packages = ["{name}"]
"""


def package(root: Path, name: str) -> Path:
    """A flat-layout project with package ``name`` (cli.py, an unused module)."""
    project = root / f"proj-{name}"
    (project / name).mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT.format(name=name))
    (project / name / "__init__.py").write_text("")
    (project / name / "cli.py").write_text(CLI)
    (project / name / "unused.py").write_text("X = 1\n")
    return project


def site_packages(env: envs.Env) -> str:
    out = subprocess.run(
        [str(env.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.strip()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> envs.Env:
    """A venv with covhook, coverage, ``instpkg`` installed and ``edpkg`` editable."""
    root = tmp_path_factory.mktemp("installs")
    env = envs.make_env(root / "venv", envs.PYTHONS["3.11"], COVERAGE, str(wheel))
    env.pip(str(package(root, "instpkg")))
    env.pip("-e", str(package(root, "edpkg")))
    return env


@pytest.mark.parametrize("how", ["site-path", "editable-name"])
def test_recorder_on_installed_packages(installed: envs.Env, tmp_path: Path, how: str) -> None:
    if not envs.PYTHONS["3.11"].exists():
        pytest.skip("Python 3.11 is not installed")
    env = installed
    name = "instpkg" if how == "site-path" else "edpkg"
    source = f"{site_packages(env)}/instpkg" if how == "site-path" else "edpkg"
    rc = tmp_path / ".coveragerc"
    rc.write_text(
        f"[run]\nsource = {source}\nbranch = True\nparallel = True\n"
        f"data_file = {tmp_path}/data/.coverage\nomit = */unused*.py\n"
    )
    cli = ("-m", f"{name}.cli", "3", "x")
    # The installed package really is where the case says.
    where = measured.output(
        env, tmp_path, rc, "-c", f"import {name}; print({name}.__file__)", COVHOOK_RECORDER="0"
    )
    assert ("site-packages" in where) == (how == "site-path"), where
    data_dir = tmp_path / "data"
    for path in data.data_files(data_dir):
        path.unlink()

    # coverage.py itself, then a first start that fills the config cache.
    assert "IMPORTED True" in measured.output(env, tmp_path, rc, *cli, COVHOOK_RECORDER="0")
    assert "IMPORTED True" in measured.output(env, tmp_path, rc, *cli)
    full = data.data_files(data_dir)[0]
    expected = tables(full)
    assert any(row[1].endswith("cli.py") for row in expected["file"]), expected["file"]
    assert not any("unused" in str(row[1]) for row in expected["file"])  # the omit glob
    for path in data.data_files(data_dir):
        path.unlink()

    # The recorder: coverage.py never imported, the same data.
    assert "IMPORTED False CTracer" in measured.output(env, tmp_path, rc, *cli)
    (recorded,) = data.data_files(data_dir)
    assert tables(recorded) == expected
    assert name_tail(recorded) == name_tail(full)
