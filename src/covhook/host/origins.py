"""Which origins contributed: from data file names before combining, contexts after.

Data file names carry the tag (``<data_file>.<tag>.<host>.pid<N>.X…x[.H…h]``),
so counting processes per origin needs no file to be opened.  After a combine
the static contexts (one per origin) say which origin ran which line.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from coverage import CoverageData
from coverage.numbits import numbits_to_nums

from covhook import _compat, layout
from covhook.host.fastcombine import connect_read_only
from covhook.origin import is_tag

UNTAGGED = "(untagged)"


def processes_by_origin(files: Sequence[str], data_file: str) -> Counter[str]:
    """How many data files (one per process) each origin wrote."""
    return Counter(layout.tag_of(f, data_file) or UNTAGGED for f in files)


@dataclass(frozen=True)
class OriginRow:
    """One line of the per-origin table."""

    origin: str
    processes: int | None  # None: not known (the per-process files are gone)
    files: int
    lines: int


# (measured path, lines run) -> the lines coverage's report counts, or None when
# the report leaves that file out (omit/include, no source).
Counting = Callable[[str, set[int]], "set[int] | None"]
PROCESSES_KEY = "covhook_processes"
LINES_KEY = "covhook_lines"  # per origin: [files, lines], counted by the combine that wrote it


def origin_of_context(context: str) -> str:
    """The origin whose static context this is (``tag`` or ``tag|dynamic``), else untagged."""
    static = context.split("|", 1)[0]
    return static if is_tag(static) else UNTAGGED


def context_matcher(patterns: Sequence[str] | None) -> Callable[[str], bool] | None:
    """``--contexts``: coverage's rule, a context matches if any regex is found in it."""
    if not patterns:
        return None
    found = re.compile("|".join(patterns)).search
    return lambda context: found(context) is not None


def rows(data_file: str, contexts: Sequence[str] | None = None) -> list[tuple[str, str, set[int]]]:
    """:func:`_rows`, only the contexts matching ``contexts`` (``--contexts``) when given."""
    found = _rows(data_file)
    matches = context_matcher(contexts)
    return found if matches is None else [row for row in found if matches(row[1])]


def _rows(data_file: str) -> list[tuple[str, str, set[int]]]:
    """(path, context, lines) for every row of a combined data file (lines or arcs)."""
    con = connect_read_only(data_file)
    try:
        found = [
            (path, ctx, set(numbits_to_nums(bits)))
            for path, ctx, bits in con.execute(
                "SELECT file.path, context.context, numbits FROM line_bits "
                "JOIN file ON file.id = file_id JOIN context ON context.id = context_id"
            )
        ]
        # One row per (file, context), the line numbers as JSON lists: no Python per arc.
        for path, ctx, froms, tos in con.execute(
            "SELECT file.path, context.context, json_group_array(fromno), "
            "json_group_array(tono) FROM arc "
            "JOIN file ON file.id = file_id JOIN context ON context.id = context_id "
            "GROUP BY file_id, context_id"
        ):
            ends = set(json.loads(froms))
            ends.update(json.loads(tos))
            found.append((path, ctx, {n for n in ends if n > 0}))
        return found
    finally:
        con.close()


def _rows_of(data: CoverageData) -> list[tuple[str, str, set[int]]]:
    """(path, context, lines) through coverage's API (data not on disk, e.g. in memory)."""
    found = []
    for context in sorted(data.measured_contexts()):
        data.set_query_contexts([f"^{re.escape(context)}$"])
        for path in data.measured_files():
            lines = data.lines(path)
            if lines:
                found.append((path, context, set(lines)))
    data.set_query_contexts(None)
    return found


def lines_by_origin(
    data: CoverageData, count: Counting | None = None, contexts: Sequence[str] | None = None
) -> dict[str, tuple[int, int]]:
    """For each origin: (source files, lines) it ran, counted the way the report counts.

    Without ``count``, the lines the combine counted (saved in the data file)
    are used when there; else every line run but line 0 counts.  ``contexts``:
    only lines run in contexts matching one of these regexes.
    """
    per_origin: dict[str, dict[str, set[int]]] = {}
    data_file = data.data_filename()
    on_disk = os.path.exists(data_file)
    if count is None and on_disk and not contexts:
        saved = _load_meta(data_file, LINES_KEY)
        if isinstance(saved, dict):
            return {str(k): (int(v[0]), int(v[1])) for k, v in saved.items()}
    found = _rows(data_file) if on_disk else _rows_of(data)
    matches = context_matcher(contexts)
    for path, context, lines in found:
        if matches is not None and not matches(context):
            continue
        per_origin.setdefault(origin_of_context(context), {}).setdefault(path, set()).update(lines)
    result: dict[str, tuple[int, int]] = {}
    for origin, files in per_origin.items():
        counted = [
            count(path, lines) if count is not None else {n for n in lines if n > 0}
            for path, lines in files.items()
        ]
        real = [c for c in counted if c]
        result[origin] = (len(real), sum(len(c) for c in real))
    return result


def table(
    processes: Counter[str] | None,
    data: CoverageData | None,
    count: Counting | None = None,
    contexts: Sequence[str] | None = None,
) -> list[OriginRow]:
    """Join process counts (from names, or saved at combine) with line counts (from contexts)."""
    lines = lines_by_origin(data, count, contexts) if data is not None else {}
    if processes is None and data is not None:
        processes = load_processes(data.data_filename())
    counts = processes if processes is not None else Counter[str]()
    names = sorted(set(counts) | set(lines))
    return [
        OriginRow(
            name, counts.get(name, 0) if processes is not None else None, *lines.get(name, (0, 0))
        )
        for name in names
    ]


def meta_rows(
    data_file: str,
    processes: Counter[str],
    append: bool = False,
    lines: dict[str, tuple[int, int]] | None = None,
) -> list[tuple[str, str]]:
    """The meta rows that keep processes (and lines) per origin in the combined file.

    Written with the combined data, in its transaction (fastcombine's ``meta``);
    with ``append``, the counts already in ``data_file`` (read before it is
    replaced) are added.  coverage ignores meta keys it does not know, and its
    combine does not copy them.
    """
    total = Counter(processes)
    if append:
        total.update(load_processes(data_file) or {})
    rows = [(PROCESSES_KEY, json.dumps(dict(sorted(total.items()))))]
    if lines is not None:
        rows.append((LINES_KEY, json.dumps({k: list(v) for k, v in sorted(lines.items())})))
    return rows


def _load_meta(data_file: str, key: str) -> Any:
    try:
        con = connect_read_only(data_file)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            con.close()
        return json.loads(row[0]) if row else None
    except (sqlite3.Error, ValueError, OSError):
        return None


def load_processes(data_file: str) -> Counter[str] | None:
    """The processes per origin saved by the combine that made ``data_file``, if any."""
    saved = _load_meta(data_file, PROCESSES_KEY)
    if not isinstance(saved, dict):
        return None
    return Counter({str(k): int(v) for k, v in saved.items() if isinstance(v, int)})


def report_counting(cov: Any) -> Counting:
    """Count lines as ``coverage report`` does: executed statements of reported files.

    Files the report leaves out (``[report] omit``/``include``) count for
    nothing; a file whose source cannot be analysed counts its raw lines.
    """
    reported: dict[str, Any] = {}
    try:
        for reporter, analysis in _compat.analysis_to_report(cov):
            reported[analysis.filename] = (reporter, analysis.statements)
    except Exception:  # no data, no source: the table still says what it can
        reported = {}

    def count(path: str, lines: set[int]) -> set[int] | None:
        found = reported.get(path)
        if found is None:
            return None if reported else {n for n in lines if n > 0}
        reporter, statements = found
        executed: set[int] = reporter.translate_lines(lines) & statements
        return executed

    return count


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


def format_markdown(rows: Sequence[OriginRow]) -> str:
    """The per-origin table as Markdown (CI job summaries)."""
    out = ["| Origin | Processes | Files | Lines |", "|---|---:|---:|---:|"]
    for r in rows:
        processes = "-" if r.processes is None else str(r.processes)
        out.append(f"| {r.origin} | {processes} | {r.files} | {r.lines} |")
    if rows and all(r.processes is not None for r in rows):
        out.append(f"| **TOTAL** | **{sum(r.processes or 0 for r in rows)}** | | |")
    return "\n".join(out)
