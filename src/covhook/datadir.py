"""File operations in a data directory other users may write to (CI's 1777 dirs, containers).

A data directory is often shared: world-writable with the sticky bit, or
group-writable so a container user can write there.  Anyone who can write it
can plant a symlink where covhook is about to write, or swap a file covhook
is about to copy.  So, the way careful tools treat ``/tmp``:

- files covhook creates there are opened with ``O_CREAT | O_EXCL |
  O_NOFOLLOW`` (never an existing file, never through a symlink), then
  renamed into place (``rename`` replaces a symlink, it does not follow it);
- files covhook reads back (its own working copy) are opened with
  ``O_NOFOLLOW`` and must be regular files owned by this process's user;
- the working directory must be a real directory owned by this user (or by
  the data dir's owner), writable by nobody else but the data dir's own
  group; another user's (or a symlink) is refused;
- modes are at most 0644 for files and 0755 for directories: the umask can
  make them stricter, never looser (umask 000 gives 0644, not 0666).
"""

from __future__ import annotations

import contextlib
import os
import stat

from covhook.layout import TMP_PREFIX, work_dir_candidates

FILE_MODE = 0o644
DIR_MODE = 0o755
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UnsafeWorkDir(OSError):
    """No working directory this process may safely use (the reasons are in the message)."""


def make_dirs(path: str) -> None:
    """``os.makedirs`` where every directory made is at most 0755, whatever the umask."""
    path = os.path.abspath(path)
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue
        _not_looser(directory, DIR_MODE)


def _not_looser(path: str, mode: int) -> None:
    """Mode creation under umask 000 is already ``mode``; this only guards odd filesystems."""
    with contextlib.suppress(OSError):
        st = os.lstat(path)
        if stat.S_IMODE(st.st_mode) & ~mode:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)


def check_owned_dir(path: str, data_dir: os.stat_result | None = None) -> tuple[str | None, bool]:
    """(why ``path`` is not a safe work dir for this user or None, whether that is suspicious).

    Safe: a real directory owned by this user or by the data dir's owner (who
    controls the data dir anyway), writable by nobody else, except by the
    group that may already write the data dir (``covhook docker-args`` makes
    such a group-shared data dir, so that the host user can clean up what a
    container's root or ``--user`` left).  Another user's directory, or one
    others may write to, is normal in a shared data dir: not suspicious.  A
    symlink or a file in its place is.
    """
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror}", False
    if stat.S_ISLNK(st.st_mode):
        return f"{path} is a symlink", True
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory", True
    owners = {os.geteuid()} | ({data_dir.st_uid} if data_dir is not None else set())
    if st.st_uid not in owners:
        return f"{path} belongs to uid {st.st_uid}, not to this process (uid {os.geteuid()})", False
    mode = stat.S_IMODE(st.st_mode)
    shared_group = (
        data_dir is not None
        and data_dir.st_mode & 0o020
        and not data_dir.st_mode & 0o002
        and data_dir.st_gid == st.st_gid
    )
    if mode & 0o002 or (mode & 0o020 and not shared_group):
        return f"{path} is writable by other users (mode {mode:o})", False
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{path} is not writable", False
    return None, False


def work_dir(data_dir: str) -> tuple[str, list[str]]:
    """A working directory in ``data_dir`` nobody untrusted can write (made if needed).

    Returns it and what was refused on the way that looks like an attack (a
    symlink planted where the work dir goes).  ``.covhook-work`` when it is
    (or can be made) safe (see :func:`check_owned_dir`), else
    ``.covhook-work.<uid>`` (a data dir shared by several users).  Raises
    :class:`UnsafeWorkDir` naming what was refused when neither is usable.
    """
    make_dirs(data_dir)
    parent = os.stat(data_dir)
    refused: list[str] = []
    suspicious: list[str] = []
    for path in work_dir_candidates(data_dir):
        try:
            os.mkdir(path, DIR_MODE)
            _not_looser(path, DIR_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            refused.append(f"cannot create {path} ({exc.strerror})")
            continue
        why, odd = check_owned_dir(path, parent)
        if why is None:
            return path, suspicious
        refused.append(why)
        if odd:
            suspicious.append(why)
    raise UnsafeWorkDir("; ".join(refused))


def open_new(path: str) -> int:
    """A new file at ``path`` (never an existing one, never via a symlink), mode <= 0644."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, FILE_MODE)


def read_own(path: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of this user, not a symlink."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            raise PermissionError(f"{path} is not a regular file of uid {os.geteuid()}")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_new(path: str, blob: bytes) -> None:
    """Write ``blob`` to a new file at ``path`` (see :func:`open_new`); remove it on failure."""
    fd = open_new(path)
    try:
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    os.close(fd)


def publish(src: str, dst: str) -> None:
    """Copy our own file ``src`` to ``dst`` atomically: a new temp file, then a rename.

    Raises OSError (full disk, unwritable directory, ``src`` not ours...).
    """
    blob = read_own(src)
    tmp = os.path.join(os.path.dirname(dst), f"{TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}")
    write_new(tmp, blob)
    try:
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def append_line(path: str, line: str) -> bool:
    """Append ``line`` to our own file ``path`` (created <= 0644); False if it is not ours."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, FILE_MODE)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return False
        os.write(fd, line.encode("utf-8", "replace") + b"\n")
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
