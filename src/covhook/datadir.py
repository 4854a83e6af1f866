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
  make them stricter, never looser (umask 000 gives 0644, not 0666);
- records (``.covhook/``) are written only in directories that pass the same
  check, made through directory descriptors so that nothing can be swapped
  between the check and the write (:func:`write_record`);
- nothing is opened that is not a regular file, and nothing blocks: a FIFO
  or a device planted where a note or record goes is refused, not waited on
  (``O_NONBLOCK``, then ``fstat``).
"""

from __future__ import annotations

import errno
import os
import stat

from covhook.layout import TMP_PREFIX, work_dir_candidates

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: measured processes import this module
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FILE_MODE = 0o644
DIR_MODE = 0o755
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
# Records and notes are a few KB; one larger than this is not covhook's.
RECORD_LIMIT = 4 << 20


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
    try:
        st = os.lstat(path)
        if stat.S_IMODE(st.st_mode) & ~mode:
            os.chmod(path, stat.S_IMODE(st.st_mode) & mode)
    except OSError:
        pass


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
    why, odd = _unsafe_dir(path, data_dir)
    return (None if why is None else f"{path}{why}"), odd


def _unsafe_dir(path: str, data_dir: os.stat_result | None) -> tuple[str | None, bool]:
    """:func:`check_owned_dir`'s verdict, the reason said after the path."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f": {exc.strerror}", False
    return _unsafe_stat(st, data_dir)


def _unsafe_stat(st: os.stat_result, data_dir: os.stat_result | None) -> tuple[str | None, bool]:
    if stat.S_ISLNK(st.st_mode):
        return " is a symlink", True
    if not stat.S_ISDIR(st.st_mode):
        return " is not a directory", True
    owners = {os.geteuid()} | ({data_dir.st_uid} if data_dir is not None else set())
    if st.st_uid not in owners:
        return f" belongs to uid {st.st_uid}, not to this process (uid {os.geteuid()})", False
    mode = stat.S_IMODE(st.st_mode)
    shared_group = (
        data_dir is not None
        and data_dir.st_mode & 0o020
        and not data_dir.st_mode & 0o002
        and data_dir.st_gid == st.st_gid
    )
    if mode & 0o002 or (mode & 0o020 and not shared_group):
        return f" is writable by other users (mode {mode:o})", False
    if not _may_write(st):
        return " is not writable", False
    return None, False


def _may_write(st: os.stat_result) -> bool:
    """Whether this process may create files in the directory ``st`` (mode bits; no ACLs)."""
    if os.geteuid() == 0:
        return True
    if st.st_uid == os.geteuid():
        return st.st_mode & 0o300 == 0o300
    if st.st_gid == os.getegid() or st.st_gid in os.getgroups():
        return st.st_mode & 0o030 == 0o030
    return st.st_mode & 0o003 == 0o003


def write_record(data_dir: str, parts: tuple[str, ...], name: str, blob: bytes) -> str | None:
    """Put ``blob`` at ``<data_dir>/<parts...>/<name>``: its path, or None if a part is unsafe.

    Each part is made (0755 whatever the umask) or found, opened without
    following a symlink, and checked through that descriptor by
    :func:`check_owned_dir`'s rules; the file is created new there (random
    temp name, ``O_EXCL``) and renamed into place relative to the same
    descriptor, so a part swapped for a link after the check changes nothing.
    A part that fails is left alone and the record skipped: silently when it
    is merely another user's (a data dir shared by several users, whose
    records serve as well), in one line per process when it looks planted
    (a symlink, a file, one everybody may write to).  OSError if writing fails.
    """
    make_dirs(data_dir)
    parent = os.stat(data_dir)
    fd = os.open(data_dir, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    path = data_dir
    try:
        for part in parts:
            path = os.path.join(path, part)
            made = True
            try:
                os.mkdir(part, DIR_MODE, dir_fd=fd)
            except FileExistsError:
                made = False
            try:
                sub = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            except OSError as exc:  # a symlink or a file in its place: say which
                why, odd = _unsafe_dir(path, parent)
                _refused(path, why or f": {exc.strerror}", odd)
                return None
            os.close(fd)
            fd = sub
            st = os.fstat(fd)
            if made and stat.S_IMODE(st.st_mode) & ~DIR_MODE:  # odd filesystems only
                os.fchmod(fd, stat.S_IMODE(st.st_mode) & DIR_MODE)
                st = os.fstat(fd)
            why, odd = _unsafe_stat(st, parent)
            if why is not None:
                _refused(path, why, odd or bool(st.st_mode & 0o002))
                return None
        _put_at(fd, name, blob)
        return os.path.join(path, name)
    finally:
        os.close(fd)


def _refused(path: str, why: str, say: bool) -> None:
    if say:
        from covhook._warn import warn_once

        warn_once(
            f"record-dir:{path}",
            f"did not write covhook's record in {path!r}: it{why}",
            "remove it if you did not make it (another user may have planted it); "
            "measurement goes on, only combining on another machine may need [paths]",
        )


def _put_at(dir_fd: int, name: str, blob: bytes) -> None:
    """:func:`put` relative to the open directory ``dir_fd``."""
    tmp = f"{TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    fd = os.open(tmp, flags, FILE_MODE, dir_fd=dir_fd)
    try:
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


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


def open_regular(path: str) -> int:
    """A read-only fd on the regular file at ``path``: OSError for anything else.

    Never through a symlink, never blocking: a FIFO or a device planted under
    a name covhook reads is opened non-blocking and refused.
    """
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_fd(fd: int, path: str, limit: int | None) -> bytes:
    chunks = []
    total = 0
    while chunk := os.read(fd, 1 << 20):
        total += len(chunk)
        if limit is not None and total > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", path)
        chunks.append(chunk)
    return b"".join(chunks)


def read_regular(path: str, limit: int | None = RECORD_LIMIT) -> bytes:
    """The bytes of the regular file ``path`` (see :func:`open_regular`), at most ``limit``."""
    fd = open_regular(path)
    try:
        return _read_fd(fd, path, limit)
    finally:
        os.close(fd)


def read_text(path: str) -> str:
    """A record or note: :func:`read_regular`, decoded (undecodable bytes replaced)."""
    return read_regular(path).decode("utf-8", "replace")


def read_record(path: str, problem: Callable[[Any], str | None]) -> Any:
    """The JSON document at ``path`` if ``problem(doc)`` finds none, else None.

    A record that is not a regular file, not JSON, or not of the expected
    shape is named in one line (once per process) and skipped: the other
    records, and the data, are still used.  One that vanished is skipped quietly.
    """
    import json

    try:
        doc = json.loads(read_text(path))
        why = problem(doc)
    except FileNotFoundError:
        return None
    except OSError as exc:
        why = f"cannot read it: {exc.strerror or exc}"
    except ValueError as exc:
        why = f"not JSON: {exc}"
    if why is None:
        return doc
    skipped(path, why)
    return None


def skipped(path: str, why: str) -> None:
    """Say once per process that the record or note ``path`` was skipped, and why."""
    from covhook._warn import warn_once

    warn_once(
        f"skipped:{path}",
        f"ignored {path!r} ({why})",
        "delete it if it is not covhook's; the other records and all data files were used",
    )


def read_own(path: str) -> bytes:
    """The bytes of ``path`` if it is a regular file of this user, not a symlink."""
    fd = open_regular(path)
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            raise PermissionError(f"{path} is not a regular file of uid {os.geteuid()}")
        return _read_fd(fd, path, None)
    finally:
        os.close(fd)


def write_new(
    path: str, blob: bytes, owner: tuple[int, int] | None = None, mode: int | None = None
) -> None:
    """Write ``blob`` to a new file at ``path`` (see :func:`open_new`); remove it on failure.

    ``owner``: (uid, gid) to give it, ``mode``: exactly this mode (not the
    umask's), both by its fd (never following a name).
    """
    fd = open_new(path)
    try:
        view = memoryview(blob)
        while view:
            view = view[os.write(fd, view) :]
        if owner is not None:
            os.fchown(fd, *owner)
        if mode is not None:
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    os.close(fd)


def put(
    path: str, blob: bytes, owner: tuple[int, int] | None = None, mode: int | None = None
) -> None:
    """``blob`` at ``path``, atomically: a new temp file beside it, then a rename.

    The temp name is unique and unpredictable (:func:`open_new` refuses
    anything already there); the rename replaces whatever is at ``path``
    (a planted symlink included), it never follows it.  Raises OSError.
    """
    tmp = os.path.join(os.path.dirname(path), f"{TMP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}")
    write_new(tmp, blob, owner, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def publish(src: str, dst: str) -> None:
    """Copy our own file ``src`` to ``dst`` atomically (:func:`put`).

    Raises OSError (full disk, unwritable directory, ``src`` not ours...).
    """
    put(dst, read_own(src))


def append_line(path: str, line: str) -> bool:
    """Append ``line`` to our own file ``path`` (created <= 0644); False if it is not ours.

    Created with ``O_EXCL``, else opened without ``O_CREAT``; never through a
    symlink, never blocking (a FIFO is refused); written only when it is a
    regular file of this user with no other name (a hard link to another
    file is refused).
    """
    flags = os.O_WRONLY | os.O_APPEND | _NOFOLLOW | _NONBLOCK | _CLOEXEC
    try:
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            fd = os.open(path, flags)
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_nlink != 1:
            return False
        os.write(fd, line.encode("utf-8", "replace") + b"\n")
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
