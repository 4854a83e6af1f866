"""Run a program the way a user would with covhook installed: measured by its start-up hook."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support import envs

PARALLEL_RC = "[run]\nparallel = true\n"


def run(
    python: Path | str,
    cwd: Path,
    *argv: str,
    rc_text: str | None = PARALLEL_RC,
    timeout: float = 120,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """``python *argv`` in ``cwd``, with ``cwd/.coveragerc`` as COVERAGE_PROCESS_START.

    The rc file is written from ``rc_text`` unless it is None (then an
    existing ``cwd/.coveragerc`` is used).  The environment is clean plus
    ``env``; output is captured as text; the exit status is not checked.
    """
    rc = cwd / ".coveragerc"
    if rc_text is not None:
        rc.write_text(rc_text, "utf-8")
    return subprocess.run(
        [str(python), *argv],
        cwd=cwd,
        env=envs.clean_env(COVERAGE_PROCESS_START=str(rc), **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def output(env: envs.Env, root: Path, rc: Path, *args: str, **extra: str) -> str:
    """stdout of ``env``'s Python running ``args`` in ``root`` under the hook (``root/src`` on
    the path); it must exit 0 and covhook must say nothing."""
    done = subprocess.run(
        [str(env.python), *args],
        cwd=root,
        env=envs.clean_env(COVERAGE_PROCESS_START=str(rc), PYTHONPATH=str(root / "src"), **extra),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "covhook:" not in done.stderr, done.stderr
    return done.stdout
