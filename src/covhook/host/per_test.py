"""``covhook report --by origin``'s per-test view: each test's lines in other processes.

With per-test contexts on (docs/pytest.md), a process a test started records
under ``<origin>|<test id>|<phase>`` (issue 22).  This groups those contexts
by test: which files and lines the test's child processes ran, and where
(origins).  pytest's own lines are not in it: under pytest-cov they carry no
origin (``<test id>|<phase>``), under ``dynamic_context = test_function`` only
the function's name.  Lines are counted as the report counts them (executed
statements of reported files).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from coverage.results import format_lines

from covhook import _compat
from covhook.host import origins
from covhook.origin import is_tag


@dataclass
class TestRow:
    """One test: per reported file, the statements its child processes ran."""

    test: str
    origins: set[str] = field(default_factory=set)
    phases: set[str] = field(default_factory=set)
    files: dict[str, tuple[set[int], set[int]]] = field(default_factory=dict)  # name: (ran, stmts)

    @property
    def lines(self) -> int:
        return sum(len(ran) for ran, _ in self.files.values())


def split_context(context: str) -> tuple[str, str, str] | None:
    """(origin, test id, phase) of a child's per-test context, else None."""
    origin, sep, rest = context.partition("|")
    test, sep2, phase = rest.rpartition("|")
    if not (sep and sep2 and test and is_tag(origin)):
        return None
    return origin, test, phase


def by_test(cov: Any, contexts: list[str] | None = None) -> list[TestRow]:
    """A row per test whose child processes ran reported statements, sorted by test id."""
    data = cov.get_data()
    raw: dict[str, list[tuple[str, str, str, set[int]]]] = {}
    for path, context, lines in origins.rows(data.data_filename(), contexts):
        parts = split_context(context)
        if parts is not None:
            raw.setdefault(path, []).append((*parts, lines))
    found: dict[str, TestRow] = {}
    if not raw:
        return []
    for reporter, analysis in _compat.analysis_to_report(cov):
        for origin, test, phase, lines in raw.get(analysis.filename, []):
            ran = reporter.translate_lines(lines) & analysis.statements
            if not ran:
                continue
            row = found.setdefault(test, TestRow(test))
            row.origins.add(origin)
            row.phases.add(phase)
            name = reporter.relative_filename()
            before = row.files.get(name, (set(), analysis.statements))[0]
            row.files[name] = (before | ran, analysis.statements)
    return [found[t] for t in sorted(found)]


def text(rows: list[TestRow], markdown: bool = False) -> str:
    """One line per test and file: the lines its child processes ran, and where."""
    header = ["Test", "File", "Lines", "Origins"]
    body = [
        [r.test, name, format_lines(stmts, ran), ", ".join(sorted(r.origins))]
        for r in rows
        for name, (ran, stmts) in sorted(r.files.items())
    ]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|---|---|---|---|"]
        out += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(out)
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    out += [fmt.format(*b) for b in body]
    return "\n".join(out)


def html_section(rows: list[TestRow]) -> str:
    """The HTML page's per-test table (empty when no test started a measured child)."""
    if not rows:
        return ""
    body = []
    for r in rows:
        files = sorted(r.files.items())
        for i, (name, (ran, stmts)) in enumerate(files):
            first = (
                f'<td rowspan="{len(files)}">{html.escape(r.test)}</td>'
                f'<td rowspan="{len(files)}">{html.escape(", ".join(sorted(r.origins)))}</td>'
                if i == 0
                else ""
            )
            body.append(
                f"<tr>{first}<td>{html.escape(name)}</td>"
                f"<td>{html.escape(format_lines(stmts, ran))}</td></tr>"
            )
    return (
        "<h2>Lines each test ran in other processes</h2>"
        "<p>Processes a test started (subprocesses, multiprocessing, ranks, containers) "
        "record under <code>&lt;origin&gt;|&lt;test id&gt;|&lt;phase&gt;</code>.</p>"
        '<table class="tests"><tr><th>Test</th><th>Origins</th><th>File</th><th>Lines</th></tr>'
        f"{''.join(body)}</table>"
    )
