"""Fold data files into a running Coverage's data, through covhook's fast combine.

Under a plain (not parallel) ``coverage run -m pytest``, the children's data
files must end up in the one data file coverage will save at exit.  coverage's
own ``combine_parallel_data`` would update the running data once per file;
here the files are first combined by :mod:`covhook.host.fastcombine` (the same
``[paths]`` mapping, dedupe by hash, unusable files named in one line and
kept) into one temporary file, and that single file updates the running data.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from coverage import CoverageData
from coverage.exceptions import NoDataError

from covhook import _warn, layout
from covhook.host import fastcombine
from covhook.quoting import quoted


def fold_into(
    data: Any,
    files: Sequence[str],
    paths: Mapping[str, Sequence[str]],
    relative: bool,
) -> fastcombine.Outcome | None:
    """OR ``files`` into ``data`` (a CoverageData) and delete them; None if none was usable."""
    if not files:
        return None
    directory = os.path.dirname(os.path.abspath(files[0]))
    tmp = layout.fold_path(directory)
    try:
        try:
            outcome = fastcombine.combine(
                [fastcombine.Group(files, paths)], tmp, relative=relative, workers=1
            )
        except NoDataError:
            outcome = None
        else:
            combined = CoverageData(tmp)
            combined.read()
            data.update(combined)
    finally:
        with contextlib.suppress(OSError):
            os.remove(tmp)
    unusable = (
        [(f, "") for f in files if os.path.exists(f)] if outcome is None else outcome.unusable
    )
    if unusable:
        _warn.warn(
            f"skipped {len(unusable)} unusable data file(s) of the children: {_names(unusable)}",
            "they were kept on disk; delete them once you no longer need them, "
            "the others were combined",
        )
    if outcome is not None and outcome.undeleted:
        _warn.warn(
            f"could not delete {len(outcome.undeleted)} data file(s) of the children once "
            f"their data was taken in: {_names(outcome.undeleted)}",
            "delete them as a user allowed to, or a later combine counts them again",
        )
    return outcome


def _names(files: Sequence[tuple[str, str]]) -> str:
    return ", ".join(quoted(os.path.basename(f)) + (f" ({why})" if why else "") for f, why in files)
