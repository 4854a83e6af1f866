"""The root of a tree whose config has no ``parallel``: coverage.py's own file, and a copy.

coverage.py's ``process_startup()`` with a config that leaves ``parallel``
off writes ``data_file`` itself (no suffix, no context), erasing what an
earlier run left there; tools and coverage.py's own tests read that file.
covhook keeps that for the process that read ``COVERAGE_PROCESS_START``
first (the root: no measured parent passed it a config) and gives every
process below it a parallel, tagged file (covhook's defaults).

Combining replaces ``data_file`` with the parallel files, so the root's
data would be lost there, and so would a sibling root's (a script that starts
Python twice: the second run erases the first's file).  So after each save
the root also publishes a copy of its file under a parallel name,
``<data_file>.<origin tag>.<host>.pid<N>.X…x``, which ``coverage combine``
and ``covhook combine`` pick up like any child's.  The copy is atomic
(:func:`covhook.datadir.publish`) and one per process: each save replaces it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from covhook import _compat, datadir
from covhook._warn import warn_once

if TYPE_CHECKING:
    from coverage import Coverage


def is_root(cov: Coverage) -> bool:
    """This process writes coverage.py's plain ``data_file`` (set by :func:`.defaults.apply`)."""
    return not cov.get_option("run:parallel")


def copy_name(data_file: str, tag: str) -> str:
    """The parallel name of the copy: the suffix coverage.py gives this process's files."""
    return f"{data_file}.{tag}.{_compat.parallel_suffix()}"


def attach(cov: Coverage, options: Mapping[str, Any]) -> None:
    """After ``cov.start()``: publish a parallel copy after every write of the plain file."""
    data = _compat.coverage_data(cov)
    if data is None:
        return
    from covhook.startup.plugin import origin_tag

    tag = origin_tag(options)
    original: Callable[[], None] = data.write
    names: dict[int, str] = {}  # pid -> the copy's name (a forked child gets its own)

    def write() -> None:
        original()
        src = _compat.data_filename(data)
        if not src or not os.path.exists(src):
            return  # nothing measured yet: coverage.py wrote no file
        pid = os.getpid()
        if pid not in names:
            names[pid] = copy_name(os.path.abspath(str(cov.get_option("run:data_file"))), tag)
        try:
            datadir.publish(src, names[pid])
        except OSError as exc:
            warn_once(
                "rootcopy",
                f"could not copy this process's coverage data to {names[pid]!r} "
                f"({exc.strerror or exc}); it is only in {src!r}, which combining replaces",
                "free space or fix permissions in that directory, or set [run] parallel = true",
            )

    data.write = write
