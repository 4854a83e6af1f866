"""One ``covhook combine`` at a time in a data directory: an exclusive lock on a file there.

Two combines at once (two CI steps, pytest-cov plus a script) would each read
the inputs the other deletes and each replace the combined file with its part.
So a combine holds ``<data dir>/.covhook-combine.lock`` (``flock``, released
by the kernel when the process ends however it ends) from before it looks for
inputs until the combined file is written and the inputs are deleted.  A
second combine waits for it (one line, naming the holder's pid), then finds
what is left and adds it to the combined file the first one wrote.

The lock file is opened, never followed: ``O_NOFOLLOW`` (a planted link is an
error), ``O_NONBLOCK`` (a planted FIFO cannot hang the open) and it must be a
regular file.  Another user's lock file (a shared 1777 dir) is locked through
a read-only descriptor: ``flock`` needs no write access.  It is left in place:
deleting a lock file another process may have just opened would let a third
lock a new one at the same time.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from covhook import layout
from covhook.errors import CovhookError
from covhook.quoting import quoted

WAIT_ENV = "COVHOOK_COMBINE_WAIT"
DEFAULT_WAIT = 600.0  # seconds: a combine of thousands of large files takes a minute or two
POLL = 0.05


def wait_limit() -> float:
    """Seconds to wait for another combine: ``COVHOOK_COMBINE_WAIT``, else 600."""
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, "") or DEFAULT_WAIT))
    except ValueError:
        return DEFAULT_WAIT


def _open(path: str) -> int | None:
    """The lock file, opened safely; None where no lock can be made (no such dir, read-only)."""
    flags = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o644)
        except PermissionError:  # another user's lock file: locking needs no write access
            fd = os.open(path, os.O_RDONLY | flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CovhookError(
                f"{quoted(path)} is a symbolic link, not covhook's lock file; nothing was combined",
                "remove it (someone planted it), then combine again",
            ) from exc
        return None  # nothing can be written there: the combine will say why when it writes
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CovhookError(
            f"{quoted(path)} is not a regular file, so it cannot be covhook's lock file; "
            "nothing was combined",
            "remove it (someone planted it), then combine again",
        )
    return fd


def _holder(fd: int) -> str:
    """`` (pid N)`` as the holder wrote it in the lock file, or ''."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


@dataclass(frozen=True)
class Held:
    """What taking the lock found."""

    locked: bool  # False: no lock file can be made there (no such dir, read-only)
    waited: bool  # another combine held it first: this one adds to its result


@contextlib.contextmanager
def held(data_dir: str, limit: float | None = None) -> Iterator[Held]:
    """Hold the data dir's combine lock while the block runs.

    Waits up to ``limit`` seconds (default :func:`wait_limit`) for another
    combine, then raises CovhookError: nothing is combined without the lock.
    """
    path = os.path.join(data_dir, layout.COMBINE_LOCK)
    fd = _open(path)
    if fd is None:
        yield Held(locked=False, waited=False)
        return
    try:
        waited = _acquire(fd, path, wait_limit() if limit is None else limit)
        with contextlib.suppress(OSError):  # who holds it, for a combine that waits
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield Held(locked=True, waited=waited)
    finally:
        os.close(fd)  # the lock goes with the last descriptor (forked workers have ended)


def _acquire(fd: int, path: str, limit: float) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        pass
    who = _holder(fd)
    print(
        f"covhook: another covhook combine{who} is combining in "
        f"{quoted(os.path.dirname(path))}; waiting for it to finish (up to {limit:g} s)",
        file=sys.stderr,
        flush=True,
    )
    deadline = time.monotonic() + limit
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise CovhookError(
                    f"another covhook combine{_holder(fd) or who} still holds {quoted(path)} "
                    f"after {limit:g} s; nothing was combined",
                    f"let it finish, then combine again (or set {WAIT_ENV} to wait longer)",
                ) from None
            time.sleep(POLL)
