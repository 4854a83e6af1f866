"""Other users, for real: root plus ``setpriv`` acts as them; shared and private dirs.

The tests that need these skip without root and util-linux's ``setpriv`` (or
fail under COVHOOK_REQUIRE_ALL=1: CI runs them as root).  The fixtures are
registered for every test by conftest (``pytest_plugins``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import envs, launchers

NOBODY = 65534
OTHER = 23456  # a user without a passwd entry (a container's user, one who combines)


def need_root_and_setpriv() -> str:
    """The path of ``setpriv``; skips (or fails, under COVHOOK_REQUIRE_ALL) without root."""
    setpriv = shutil.which("setpriv")
    launchers.need(
        os.geteuid() == 0 and setpriv is not None,
        "root and setpriv (util-linux), to act as another user",
        "run the tests as root with util-linux installed (as CI does)",
    )
    assert setpriv is not None
    return setpriv


def argv(user: int | None, *command: str | Path) -> list[str]:
    """``command``, run as ``user`` (its own group, no others) unless ``user`` is None."""
    if user is None:
        return [str(part) for part in command]
    return [need_root_and_setpriv(), f"--reuid={user}", f"--regid={user}", "--clear-groups",
            *(str(part) for part in command)]  # fmt: skip


def as_user(uid: int, code: str, *args: str, background: bool = False) -> subprocess.Popen[str]:
    """Run Python ``code`` as ``uid``, unmeasured; waited for (status 0) unless ``background``.

    A Popen, not support.processes.run: the hostile steps that race covhook run beside it.
    """
    command = argv(uid, launchers.PYTHON, "-c", textwrap.dedent(code), *args)
    proc = subprocess.Popen(command, env=envs.clean_env(), text=True, stderr=subprocess.PIPE)
    if not background:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    return proc


@contextlib.contextmanager
def temp_dir(mode: int, prefix: str) -> Iterator[Path]:
    """A directory under /tmp with ``mode``, removed afterwards (pytest's own tmp dirs
    are root-only: another user can reach nothing in them)."""
    path = Path(tempfile.mkdtemp(prefix=f"covhook-{prefix}-", dir="/tmp"))
    path.chmod(mode)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A 1777 directory like /tmp."""
    need_root_and_setpriv()
    with temp_dir(0o1777, "shared") as path:
        yield path


@pytest.fixture
def private() -> Iterator[Path]:
    """A root-only directory (0700) for the files a hostile user must not reach."""
    with temp_dir(0o700, "private") as path:
        yield path
