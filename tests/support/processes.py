"""The one place the tests start a process and wait for it (coverage.py's ``run_command``).

``measured.run`` (a program under covhook's hook) and ``cli.covhook`` (the
command line) build on it; a test calls ``subprocess`` itself only for what
this cannot do: a process it signals while it runs (``Popen``), inherited
file descriptors, a raw interpreter check.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def run(
    argv: Sequence[str | Path],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    *,
    check: bool = False,
    input: str | None = None,
    timeout: float = 120,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """``argv`` in ``cwd`` with exactly ``env``: stdin empty (or ``input``), output as text.

    ``umask`` is set in the child (modes it creates must not depend on the runner's).
    With ``check`` a non-zero exit fails the test with the command, its status
    and both streams (a CalledProcessError would hide the output).
    """
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=None if env is None else dict(env),
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )
    if check:
        assert done.returncode == 0, (
            f"{' '.join(done.args)} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
        )
    return done
