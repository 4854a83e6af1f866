"""Where data files come from: directories, single files, and CI artifact archives.

``covhook combine DIR|FILE|ARCHIVE...`` takes any mix.  A directory gives its
``<data_file>.*`` files, the way ``coverage combine`` globs; one without any
gives those in its subdirectories (an artifact download holds one directory
per job).  An archive (``.tar``, ``.tar.gz``/``.tgz``, ``.zip``) is unpacked
into a temporary directory with the rules of tarfile's data filter on every
Python (regular files and directories only, no absolute paths, no ``..``,
modes 0644/0755, no owners), bounded in size (:class:`Budget`), and read
the same way, together with the records covhook keeps beside the data
(``.covhook/``).  The temporary directory goes whatever happens.  Archives
are never deleted: only the files unpacked from them are, once combined.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from covhook import layout
from covhook.datadir import DIR_MODE, FILE_MODE
from covhook.errors import CovhookError

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".zip")


def is_archive(path: str) -> bool:
    return os.path.isfile(path) and path.lower().endswith(ARCHIVE_SUFFIXES)


@dataclass
class Found:
    """The data files of all sources, and the directories they are in."""

    files: list[str] = field(default_factory=list)
    unpacked: list[str] = field(default_factory=list)  # temporary dirs made from archives
    names: dict[str, str] = field(default_factory=dict)  # unpacked file -> "archive:member"

    def name(self, path: str) -> str:
        """How to tell the user about ``path``: archive members by archive and member."""
        return self.names.get(path, path)


def _glob(directory: str, local: str) -> list[str]:
    pattern = glob.escape(os.path.join(os.path.abspath(directory), local)) + ".*"
    return [f for f in glob.glob(pattern) if not f.endswith("-journal") and os.path.isfile(f)]


def data_files_in(directory: str, local: str) -> list[str]:
    """``<local>.*`` in ``directory``; if none, in its subdirectories (artifact layouts)."""
    found = _glob(directory, local)
    if found:
        return found
    for root, dirs, _files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d != layout.META_DIR)
        if root != directory:
            found += _glob(root, local)
    return found


# Unpacked bytes per archive byte past RATIO_FLOOR: coverage data compresses about
# 40x at most (a tar.gz or zip of near-empty data files), a zip bomb 1000x.
RATIO_FLOOR = 16 << 20


class Budget:
    """How many bytes one archive may unpack to: a ratio to its size and an absolute cap."""

    def __init__(self, archive: str, size: int) -> None:
        from covhook import settings

        self.archive = archive
        self.used = 0
        self.ratio = int(settings.value("archive_max_ratio"))
        self.cap = int(settings.value("archive_max_mb")) << 20
        by_ratio = max(self.ratio * size, RATIO_FLOOR) if self.ratio > 0 else None
        limits = [n for n in (by_ratio, self.cap if self.cap > 0 else None) if n is not None]
        self.limit = min(limits) if limits else None
        self.by_ratio = by_ratio is not None and by_ratio == self.limit

    def spend(self, n: int) -> None:
        self.used += n
        if self.limit is not None and self.used > self.limit:
            if self.by_ratio:
                raise CovhookError(
                    f"the archive {self.archive!r} unpacks to more than {self.ratio} times its "
                    f"size (past {self.limit >> 20} MiB): stopped, nothing was combined",
                    f"if it is a genuine artifact, raise COVHOOK_ARCHIVE_MAX_RATIO (now "
                    f"{self.ratio}; 0: no ratio)",
                )
            raise CovhookError(
                f"the archive {self.archive!r} unpacks to more than {self.cap >> 20} MiB: "
                "stopped, nothing was combined",
                f"if it is a genuine artifact, raise COVHOOK_ARCHIVE_MAX_MB (now "
                f"{self.cap >> 20}; 0: no cap) and make sure TMPDIR has room for it",
            )


class _CannotWrite(Exception):
    """Writing an unpacked file failed (a full TMPDIR): not the archive's fault."""


def clean_name(name: str) -> str | None:
    """A member's name relative to the unpack dir, or None if it could point outside it."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        return None
    kept = [p for p in parts if p not in ("", ".")]
    return "/".join(kept) or None


def _make_dirs(into: str, relative: str) -> str | None:
    """``into/relative`` as real directories, each 0755 (whatever the umask); None if in the way."""
    path = into
    for part in relative.split("/") if relative else []:
        path = os.path.join(path, part)
        try:
            os.mkdir(path, 0o700)
            os.chmod(path, DIR_MODE)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return None  # a file of the archive has that name: skip what goes under it
    return path


def _write_member(source: IO[bytes], into: str, name: str, mode: int, budget: Budget) -> None:
    """One regular file, streamed, counted against ``budget``, with exactly ``mode``."""
    parent = _make_dirs(into, os.path.dirname(name))
    if parent is None:
        return
    path = os.path.join(parent, os.path.basename(name))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:  # the same name twice: the later member wins, as with tar
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return
            os.unlink(path)
            fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise _CannotWrite(exc) from exc
    try:
        while chunk := source.read(1 << 20):
            budget.spend(len(chunk))
            view = memoryview(chunk)
            while view:
                try:
                    view = view[os.write(fd, view) :]
                except OSError as exc:
                    raise _CannotWrite(exc) from exc
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _unpack_tar(archive: str, into: str, budget: Budget) -> None:
    """The data filter's rules (``tarfile.data_filter``, 3.11.4+) on every Python.

    Regular files and directories only (no links, devices or FIFOs), no
    absolute or ``..`` names, modes 0644 or 0755 (0755 when the owner may
    execute), no owners: the files are made by this process, as this user.
    Where the stdlib has the filter, a member it refuses is skipped too.
    """
    import tarfile

    stdlib_filter = getattr(tarfile, "data_filter", None)
    with tarfile.open(archive) as tar:
        for member in tar:
            name = clean_name(member.name)
            if name is None or not (member.isreg() or member.isdir()):
                continue
            if stdlib_filter is not None:
                try:
                    stdlib_filter(member, into)
                except tarfile.FilterError:
                    continue
            if member.isdir():
                _make_dirs(into, name)
                continue
            source = tar.extractfile(member)
            if source is not None:
                with source:
                    mode = DIR_MODE if member.mode & 0o100 else FILE_MODE
                    _write_member(source, into, name, mode, budget)


def _unpack_zip(archive: str, into: str, budget: Budget) -> None:
    """Regular files and directories (a zip's symlinks and others are skipped), 0644/0755."""
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = clean_name(info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no type said (not from Unix)
            if name is None or kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                continue
            if info.is_dir():
                _make_dirs(into, name)
                continue
            with zf.open(info) as source:
                _write_member(source, into, name, FILE_MODE, budget)


def _read_errors() -> tuple[type[BaseException], ...]:
    import tarfile
    import zipfile
    import zlib

    found: list[type[BaseException]] = [
        OSError, EOFError, ValueError, RuntimeError, tarfile.TarError, zipfile.BadZipFile,
        zlib.error,
    ]  # fmt: skip
    for module, name in (("lzma", "LZMAError"),):
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def unpack(archive: str, into: str) -> None:
    """Extract the regular files of ``archive`` under ``into``; CovhookError if unreadable.

    Bounded (:class:`Budget`); what was unpacked before an error stays in
    ``into`` for the caller to remove (:func:`collect` does).
    """
    budget = Budget(archive, os.path.getsize(archive))
    try:
        if archive.lower().endswith(".zip"):
            _unpack_zip(archive, into, budget)
        else:
            _unpack_tar(archive, into, budget)
    except _CannotWrite as exc:
        cause = exc.args[0]
        raise CovhookError(
            f"cannot unpack the archive {archive!r} into {into!r} ({cause.strerror or cause})",
            "free space there, or set TMPDIR to a directory with room for the unpacked files",
        ) from exc
    except _read_errors() as exc:
        raise CovhookError(
            f"cannot read the archive {archive!r} ({exc})",
            "check that it is a complete .tar, .tar.gz or .zip (re-download the artifact)",
        ) from exc


def collect(sources: Sequence[str], data_file: str) -> Found:
    """The data files of ``sources`` (default: the data file's directory)."""
    data_dir, local = os.path.split(os.path.abspath(data_file))
    found = Found()
    try:
        for source in list(sources) or [data_dir]:
            if is_archive(source):
                import tempfile  # with shutil, bz2, lzma: only when an archive is given

                tmp = tempfile.mkdtemp(prefix="covhook-archive-")
                found.unpacked.append(tmp)
                unpack(source, tmp)
                for f in data_files_in(tmp, local):
                    found.names[f] = f"{source}:{os.path.relpath(f, tmp)}"
                    found.files.append(f)
            elif os.path.isfile(source):
                found.files.append(os.path.abspath(source))
            elif os.path.isdir(source):
                found.files += data_files_in(source, local)
            else:
                raise CovhookError(
                    f"cannot combine from {source}: no such file or directory",
                    "name data directories, data files, or .tar/.tar.gz/.zip archives",
                )
    except BaseException:  # a bad archive, a full TMPDIR, Ctrl-C: no unpacked data left behind
        cleanup(found)
        raise
    found.files = sorted(set(found.files))
    return found


def cleanup(found: Found) -> None:
    """Remove the temporary directories archives were unpacked into."""
    import shutil

    for tmp in found.unpacked:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
