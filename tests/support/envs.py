"""Real virtual environments with covhook installed, built once per test session.

Building the wheel and a venv costs seconds, so they are cached per session
(keyed by interpreter and coverage version); every test still runs its own
processes in its own temp dir.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from support import processes

REPO = Path(__file__).resolve().parents[2]
PYENV = Path("/root/.pyenv/versions")
THIS_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
THIS_COVERAGE = f"coverage=={importlib.metadata.version('coverage')}"
# coverage versions whose data format covhook's recorder writes; on others it
# steps aside and coverage.py starts as usual.
RECORDER_KNOWS = ("7.10.4", "7.13.5", "7.17.3", "7.17.5", "7.18.0")
RECORDER_WRITES_HERE = importlib.metadata.version("coverage") in RECORDER_KNOWS
PYTHONS = {
    "3.11": PYENV / "3.11.7/bin/python3",
    "3.12": PYENV / "3.12.1/bin/python3",
    "3.13": PYENV / "3.13.0/bin/python3",
    THIS_PYTHON: Path(sys.executable),  # the test runner's (each matrix cell's) interpreter
}


@dataclass(frozen=True)
class Env:
    """A venv: its interpreter and site-packages."""

    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def site_packages(self) -> Path:
        out = processes.run(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
        )
        return Path(out.stdout.strip())

    def pip(self, *args: str) -> None:
        """``pip install`` into this venv (with the test runner's pip: see ``pip``).

        Everything but coverage (which each test names) at the version pinned in
        constraints.txt, so a fresh machine builds the venvs that were tested.
        """
        pip(self, "install", "--no-compile", "-c", str(test_constraints()), *args)


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without anything that would start coverage or covhook by accident."""
    drop = ("COVERAGE_", "COVHOOK_", "PYTEST_XDIST", "VIRTUAL_ENV", "PYTHONPATH")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    # The recorder's config cache stays in the test's own directory (conftest).
    if os.environ.get("COVHOOK_CACHE_DIR"):
        env["COVHOOK_CACHE_DIR"] = os.environ["COVHOOK_CACHE_DIR"]
    # The matrix's ctrace cells (scripts/matrix.sh): coverage's core for every process.
    if os.environ.get("COVERAGE_CORE"):
        env["COVERAGE_CORE"] = os.environ["COVERAGE_CORE"]
    env.update(extra)
    return env


@functools.cache
def test_constraints() -> Path:
    """constraints.txt without its coverage pin (tests ask for other coverage versions)."""
    lines = (REPO / "constraints.txt").read_text("utf-8").splitlines()
    kept = [line for line in lines if not line.lower().startswith("coverage==")]
    fd, name = tempfile.mkstemp(prefix="covhook-constraints-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(kept) + "\n")
    atexit.register(os.unlink, name)
    return Path(name)


def build_wheel(out_dir: Path) -> Path:
    """Build covhook's wheel from this checkout, the way pip would.

    One build at a time: setuptools builds in the checkout's build/, and
    pytest-xdist workers (or matrix cells) would otherwise collide there.
    """
    import fcntl

    with open(REPO / ".wheel-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        processes.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out_dir, REPO],
            env=clean_env(),
            check=True,
            timeout=900,
        )
    (wheel,) = out_dir.glob("covhook-*.whl")
    return wheel


def pip(env: Env, command: str, *args: str) -> None:
    """Run a pip command against ``env`` with ``pip --python``.

    The venvs are made without pip of their own: bootstrapping pip costs
    seconds per venv, and pip can install into any interpreter's environment.
    """
    processes.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            env.python,
            command,
            "-q",
            "--disable-pip-version-check",
            *args,
        ],
        env=clean_env(),
        check=True,
        timeout=900,
    )


def make_env(root: Path, python: Path, *requirements: str) -> Env:
    """A fresh venv (without pip) for ``python`` with ``requirements`` pip-installed."""
    processes.run(
        [python, "-m", "venv", "--without-pip", root], env=clean_env(), check=True, timeout=300
    )
    env = Env(root)
    if requirements:
        env.pip(*requirements)
    return env
