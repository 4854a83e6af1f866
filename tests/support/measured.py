"""Run a program the way a user would with covhook installed: measured by its start-up hook.

The data the processes write is read with ``support.data`` (combine, then
lines per file); this module only starts them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import envs, processes

PARALLEL_RC = "[run]\nparallel = true\n"
# The test runner's venv, where covhook is installed editable.
VENV_BIN = Path(sys.executable).parent


def env(rc: Path | None, **extra: str) -> dict[str, str]:
    """A clean environment that starts covhook with ``rc`` (or nothing, with ``rc=None``),
    the runner's venv first on PATH (a child started as ``python`` is measured too)."""
    full = envs.clean_env(**extra)
    full["PATH"] = f"{VENV_BIN}{os.pathsep}{full.get('PATH', '')}"
    if rc is not None:
        full["COVERAGE_PROCESS_START"] = str(rc)
    return full


def run(
    python: Path | str,
    cwd: Path,
    *argv: str,
    rc_text: str | None = PARALLEL_RC,
    rc: Path | None = None,
    check: bool = False,
    input: str | None = None,
    timeout: float = 120,
    **extra: str,
) -> subprocess.CompletedProcess[str]:
    """``python *argv`` in ``cwd``, measured: COVERAGE_PROCESS_START names the rc file.

    The rc file is ``rc`` if given, else ``cwd/.coveragerc``, written from
    ``rc_text`` unless that is None (then the existing file is used).  The
    environment is clean plus ``extra``; output is captured as text; the exit
    status is checked only with ``check``.
    """
    if rc is None:
        rc = cwd / ".coveragerc"
        if rc_text is not None:
            rc.write_text(rc_text, "utf-8")
    full = envs.clean_env(COVERAGE_PROCESS_START=str(rc), **extra)
    return processes.run([python, *argv], cwd, full, check=check, input=input, timeout=timeout)


def output(env: envs.Env, root: Path, rc: Path, *args: str, **extra: str) -> str:
    """stdout of ``env``'s Python running ``args`` in ``root`` under the hook (``root/src`` on
    the path); it must exit 0 and covhook must say nothing."""
    done = run(env.python, root, *args, rc=rc, check=True, PYTHONPATH=str(root / "src"), **extra)
    assert "covhook:" not in done.stderr, done.stderr
    return done.stdout
