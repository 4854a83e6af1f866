"""Run covhook's command line (or coverage.py's, its neighbour) the way a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from support import envs, processes

# The test runner's venv: covhook is installed there editable, beside coverage.
VENV_BIN = Path(sys.executable).parent


def covhook(
    argv: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    bin_dir: Path = VENV_BIN,
    check: bool = False,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``covhook ARGV`` (``bin_dir``'s console script) in ``cwd``: returncode, stdout, stderr.

    The environment is clean (nothing starts coverage or covhook by accident)
    plus ``env``, with ``bin_dir`` first on PATH, as in an activated venv.
    """
    return console_script("covhook", argv, cwd, env, bin_dir=bin_dir, check=check,
                          input=input, timeout=timeout)  # fmt: skip


def coverage(
    argv: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    bin_dir: Path = VENV_BIN,
    check: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``coverage ARGV``: coverage.py's own command, as a user mixes it with covhook's."""
    return console_script("coverage", argv, cwd, env, bin_dir=bin_dir, check=check,
                          timeout=timeout)  # fmt: skip


def console_script(
    name: str,
    argv: Sequence[str | Path],
    cwd: Path | None,
    env: Mapping[str, str] | None,
    *,
    bin_dir: Path,
    check: bool,
    timeout: float,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    full = envs.clean_env(**(env or {}))
    full["PATH"] = f"{bin_dir}{os.pathsep}{full.get('PATH', '')}"
    return processes.run(
        [bin_dir / name, *argv], cwd, full, check=check, input=input, timeout=timeout
    )
