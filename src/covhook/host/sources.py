"""Where data files come from: directories, single files, and CI artifact archives.

``covhook combine DIR|FILE|ARCHIVE...`` takes any mix.  A directory gives its
``<data_file>.*`` files, the way ``coverage combine`` globs; one without any
gives those in its subdirectories (an artifact download holds one directory
per job).  An archive (``.tar``, ``.tar.gz``/``.tgz``, ``.zip``) is unpacked
into a temporary directory, safely (no absolute paths, no ``..``, no links),
and read the same way, together with the records covhook keeps beside the
data (``.covhook/``).  Archives are never deleted: only the files unpacked
from them are, once combined.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from covhook import layout
from covhook.errors import CovhookError

if TYPE_CHECKING:  # imported when an archive is given: 12 ms of every combine otherwise
    import tarfile

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


def _safe_tar_members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in tar.getmembers():
        name = member.name
        if (member.isfile() or member.isdir()) and not _escapes(name):
            yield member


def _escapes(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def unpack(archive: str, into: str) -> None:
    """Extract the regular files of ``archive`` under ``into``; CovhookError if unreadable."""
    import tarfile
    import zipfile

    try:
        if archive.lower().endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    if not info.is_dir() and not _escapes(info.filename):
                        zf.extract(info, into)
        else:
            with tarfile.open(archive) as tar:
                members = list(_safe_tar_members(tar))
                if hasattr(tarfile, "data_filter"):  # 3.11.4+: refuse links, modes, owners
                    tar.extractall(into, members=members, filter="data")
                else:
                    tar.extractall(into, members=members)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise CovhookError(
            f"cannot read the archive {archive} ({exc})",
            "check that it is a complete .tar, .tar.gz or .zip (re-download the artifact)",
        ) from exc


def collect(sources: Sequence[str], data_file: str) -> Found:
    """The data files of ``sources`` (default: the data file's directory)."""
    data_dir, local = os.path.split(os.path.abspath(data_file))
    found = Found()
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
    found.files = sorted(set(found.files))
    return found


def cleanup(found: Found) -> None:
    """Remove the temporary directories archives were unpacked into."""
    import shutil

    for tmp in found.unpacked:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
