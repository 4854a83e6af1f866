"""Recover the data files dead processes left in the work directory, before combining.

A process publishes its data file from ``<data dir>/.covhook-work/`` (see
:mod:`covhook.startup.flush`).  When it is SIGKILLed after a save, or its publish
failed (a full disk), its last complete save is only there, where
``coverage combine`` never looks.  :func:`recover` publishes every complete
file whose process is gone, removes what it consumed, and names what it
could not use (a file killed before it had a schema, an unreadable one).
Files of processes still running on this host are left alone; a file
written on another host or in a container (another name in the file name)
cannot be checked, and is taken as finished: combine after the run ends.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import socket
import stat

from covhook import datadir, layout
from covhook.quoting import quoted

_TMP = re.compile(rf"^{re.escape(layout.TMP_PREFIX)}(\d+)-")


@dataclasses.dataclass
class Recovery:
    """What :func:`recover` did: file paths (in the work dirs) and why some were not used."""

    recovered: list[str] = dataclasses.field(default_factory=list)
    empty: list[str] = dataclasses.field(default_factory=list)  # removed: never held data
    unusable: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def in_use(name: str, host: str | None = None) -> bool:
    """True if the file's writer (host and pid in coverage's name) is still running here."""
    pid = layout.pid_of(name)
    if pid is None:
        return False
    host = host if host is not None else socket.gethostname()
    if f".{host}.{pid}." not in name and f".{host}.pid{pid}." not in name:
        return False
    return pid != os.getpid() and _alive(pid)


def work_dirs(data_dir: str) -> list[str]:
    """The work directories in ``data_dir`` (real directories, never symlinks)."""
    try:
        names = sorted(os.listdir(data_dir))
    except OSError:
        return []
    found = []
    for name in names:
        if layout.is_work_dir_name(name):
            path = os.path.join(data_dir, name)
            with contextlib.suppress(OSError):
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    found.append(path)
    return found


def _never_saved(path: str) -> bool:
    """True for a file its process never saved into: it died creating the schema.

    coverage.py writes lines only after its schema (with the version row in
    ``coverage_schema``) is complete; no tables, or no version row, means no
    data.  Opening the file rolls back a transaction a killed writer left.
    """
    import sqlite3

    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return False
        if st.st_size == 0:
            return True
        con = sqlite3.connect(path)
        try:
            tables = {row[0] for row in con.execute("select name from sqlite_master")}
            if "coverage_schema" not in tables:
                return not tables
            return bool(con.execute("select count(*) from coverage_schema").fetchone()[0] == 0)
        finally:
            con.close()
    except Exception:
        return False


def _why_unusable(path: str) -> str | None:
    """None if ``path`` is a complete coverage data file, else what is wrong with it."""
    import coverage

    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        if st.st_size == 0:
            return "empty: its process was killed while creating it"
        data = coverage.CoverageData(path)
        data.read()
        data.measured_files()
        data.close()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return None


def _leftovers(data_file: str) -> list[tuple[str, str]]:
    """(work file path, name) of the data files of ``data_file`` whose process is gone."""
    data_dir, base = os.path.split(os.path.abspath(data_file))
    found = []
    for work in work_dirs(data_dir):
        try:
            names = sorted(os.listdir(work))
        except OSError:
            continue
        for name in names:
            if not name.startswith(base + ".") or name.endswith(("-journal", "-wal", "-shm")):
                continue
            if not in_use(name):
                found.append((os.path.join(work, name), name))
    return found


def discard(data_file: str) -> None:
    """Remove the leftovers of earlier runs (``covhook run`` without ``--append``)."""
    for path, _name in _leftovers(data_file):
        for stale in (path, path + "-journal"):
            with contextlib.suppress(OSError):
                os.unlink(stale)


def recover(data_file: str) -> Recovery:
    """Publish complete leftovers of ``data_file``'s dead processes next to it; remove them."""
    result = Recovery()
    data_dir = os.path.dirname(os.path.abspath(data_file))
    _remove_dead_temps(data_dir)
    for path, name in _leftovers(data_file):
        if _never_saved(path):
            # Killed while coverage.py was creating the file: nothing to recover.
            with contextlib.suppress(OSError):
                os.unlink(path)
            result.empty.append(path)
            continue
        if _already_published(path, os.path.join(data_dir, name)):
            # A process that exec'd (or left by os._exit past covhook) after publishing:
            # the working copy is the very file next to it; nothing to recover.
            with contextlib.suppress(OSError):
                os.unlink(path)
            continue
        why = _why_unusable(path)  # also rolls back a hot journal left by a killed write
        if why is not None:
            result.unusable.append((path, why))
            continue
        try:
            _publish(path, os.path.join(data_dir, name))
            os.unlink(path)
        except OSError as exc:
            result.unusable.append((path, f"cannot publish it: {exc.strerror or exc}"))
            continue
        result.recovered.append(path)
    return result


def _already_published(src: str, dst: str) -> bool:
    """``dst`` holds exactly ``src``'s bytes (never following a symlink)."""
    try:
        a, b = os.lstat(src), os.lstat(dst)
        if not (stat.S_ISREG(a.st_mode) and stat.S_ISREG(b.st_mode)) or a.st_size != b.st_size:
            return False
        return datadir.read_regular(src, None) == datadir.read_regular(dst, None)
    except OSError:
        return False


def _publish(src: str, dst: str) -> None:
    """Copy a leftover (any user's, never via a symlink) to ``dst``: temp file, then rename."""
    # A regular file only, never blocking on a FIFO planted in its place (issue 23).
    datadir.put(dst, datadir.read_regular(src, None))


def _remove_dead_temps(data_dir: str) -> None:
    """Temp copies of publishers killed between write and rename (never combined)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(data_dir):
            m = _TMP.match(name)
            if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(data_dir, name))


def messages(result: Recovery) -> list[str]:
    """The lines ``covhook combine`` prints about a recovery (none when there was nothing)."""
    lines = []
    if result.recovered:
        where = sorted({os.path.dirname(p) for p in result.recovered})
        lines.append(
            f"covhook: recovered {len(result.recovered)} data file(s) that processes killed "
            f"before they could publish left in {', '.join(map(quoted, where))}; combined "
            "with the others"
        )
    if result.unusable:
        path, why = result.unusable[0]
        lines.append(
            f"covhook: could not use {len(result.unusable)} leftover file(s) in the work "
            f"directory (e.g. {quoted(path)}: {why}); they hold no complete coverage data. "
            "Fix: delete "
            "them; to keep data from processes that get SIGKILL, set COVHOOK_FLUSH_SECONDS"
        )
    return lines
