"""Which origins contributed: from data file names before combining, contexts after.

Data file names carry the tag (``<data_file>.<tag>.<host>.pid<N>.X…x[.H…h]``),
so counting processes per origin needs no file to be opened.  After a combine
the static contexts (one per origin) say which origin ran which line.
"""

from __future__ import annotations

import glob
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from coverage import CoverageData

from covhook._compat import DATA_SUFFIX_RE
from covhook.origin import TAG_RE

UNTAGGED = "(untagged)"


def data_files(data_file: str, paths: Iterable[str] | None = None) -> list[str]:
    """The parallel data files ``coverage combine`` would pick up (same glob)."""
    data_dir, local = os.path.split(os.path.abspath(data_file))
    found: list[str] = []
    for p in list(paths or ()) or [data_dir]:
        if os.path.isfile(p):
            found.append(os.path.abspath(p))
        elif os.path.isdir(p):
            found.extend(glob.glob(glob.escape(os.path.join(os.path.abspath(p), local)) + ".*"))
    return sorted(f for f in found if not f.endswith("-journal"))


def tag_of(path: str, data_file: str) -> str | None:
    """The origin tag in a parallel data file's name, or None."""
    name = os.path.basename(path)
    local = os.path.basename(data_file) + "."
    if not name.startswith(local):
        return None
    middle = DATA_SUFFIX_RE.sub("", name[len(local) :])
    return middle if TAG_RE.match(middle) else None


def processes_by_origin(files: Sequence[str], data_file: str) -> Counter[str]:
    """How many data files (one per process) each origin wrote."""
    return Counter(tag_of(f, data_file) or UNTAGGED for f in files)


@dataclass(frozen=True)
class OriginRow:
    """One line of the per-origin table."""

    origin: str
    processes: int | None  # None: not known (the per-process files are gone)
    files: int
    lines: int


def lines_by_origin(data: CoverageData) -> dict[str, tuple[int, int]]:
    """For each measured context that is an origin tag: (source files, lines) it ran."""
    result: dict[str, tuple[int, int]] = {}
    measured = data.measured_files()
    for context in sorted(data.measured_contexts()):
        if not TAG_RE.match(context):
            continue
        data.set_query_contexts([f"^{re.escape(context)}$"])
        counts = [len(data.lines(f) or ()) for f in measured]
        result[context] = (sum(1 for c in counts if c), sum(counts))
    data.set_query_contexts(None)
    return result


def table(processes: Counter[str] | None, data: CoverageData | None) -> list[OriginRow]:
    """Join process counts (from names) with line counts (from contexts)."""
    lines = lines_by_origin(data) if data is not None else {}
    counts = processes if processes is not None else Counter[str]()
    names = sorted(set(counts) | set(lines))
    return [
        OriginRow(
            name, counts.get(name, 0) if processes is not None else None, *lines.get(name, (0, 0))
        )
        for name in names
    ]


def format_table(rows: Sequence[OriginRow]) -> str:
    """Plain-text table in the spirit of ``coverage report``."""
    header = ("Origin", "Processes", "Files", "Lines")
    body = [
        (r.origin, "-" if r.processes is None else str(r.processes), str(r.files), str(r.lines))
        for r in rows
    ]
    width = max([len(header[0]), *(len(b[0]) for b in body)])
    fmt = f"{{:<{width}}}  {{:>9}}  {{:>5}}  {{:>5}}"
    out = [fmt.format(*header), "-" * (width + 25)]
    out += [fmt.format(*b) for b in body]
    out.append("-" * (width + 25))
    if all(r.processes is not None for r in rows):
        out.append(fmt.format("TOTAL", str(sum(r.processes or 0 for r in rows)), "", ""))
    return "\n".join(out)
