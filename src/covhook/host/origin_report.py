"""``covhook report --by origin``: per source file, which origins ran which of its lines.

Origins are the static contexts covhook gives each host, container, rank or
split; lines are counted as ``coverage report`` counts them (executed
statements of the files it reports).  Text and Markdown tables, or one
self-contained HTML page: a row per file, a column per origin, each cell a
bar of the statements that origin ran, plus the lines only that origin ran
(what would be lost without it).  With per-test contexts, a second table:
for each test, the lines its child processes ran (:mod:`covhook.host.per_test`).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from typing import Any

from covhook import _compat
from covhook.host import origins


@dataclass
class FileRow:
    """One reported source file."""

    name: str
    statements: int
    executed: set[int] = field(default_factory=set)
    by_origin: dict[str, set[int]] = field(default_factory=dict)

    def only(self, origin: str) -> int:
        """Lines no other origin ran."""
        others: set[int] = set()
        for name, lines in self.by_origin.items():
            if name != origin:
                others |= lines
        return len(self.by_origin.get(origin, set()) - others)


def matrix(cov: Any, contexts: list[str] | None = None) -> tuple[list[str], list[FileRow]]:
    """The origins, and a row per reported file with the lines each origin ran.

    ``contexts`` (``--contexts``): only lines run in contexts matching these regexes.
    """
    data = cov.get_data()
    raw: dict[str, dict[str, set[int]]] = {}
    for path, context, lines in origins.rows(data.data_filename(), contexts):
        origin = origins.origin_of_context(context)
        raw.setdefault(path, {}).setdefault(origin, set()).update(lines)
    rows: list[FileRow] = []
    seen: set[str] = set()
    for reporter, analysis in _compat.analysis_to_report(cov):
        row = FileRow(reporter.relative_filename(), len(analysis.statements))
        for origin, lines in raw.get(analysis.filename, {}).items():
            ran = reporter.translate_lines(lines) & analysis.statements
            if ran:
                row.by_origin[origin] = ran
                row.executed |= ran
                seen.add(origin)
        rows.append(row)
    return sorted(seen), sorted(rows, key=lambda r: r.name)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def text(names: list[str], rows: list[FileRow], markdown: bool = False) -> str:
    """Statements each origin ran, per file (``covered/statements`` first)."""
    header = ["File", "Covered", *names]
    body = [
        [r.name, f"{len(r.executed)}/{r.statements}", *(_cell(r, n) for n in names)] for r in rows
    ]
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
        out += ["| " + " | ".join(b) + " |" for b in body]
        return "\n".join(out)
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
    out += [fmt.format(*b) for b in body]
    return "\n".join(out)


def _cell(row: FileRow, origin: str) -> str:
    ran = len(row.by_origin.get(origin, set()))
    if not ran:
        return "-"
    only = row.only(origin)
    return f"{ran}" + (f" ({only} only)" if only else "")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; font-family: monospace; }
th { position: sticky; top: 0; background: #f7f7f7; }
.bar { display: inline-block; height: 10px; background: #4c9a2a; vertical-align: middle; }
.only { color: #b35c00; font-size: 85%; }
.none { color: #bbb; }
table.tests td { text-align: left; font-family: monospace; vertical-align: top; }
"""


def page(
    names: list[str], rows: list[FileRow], title: str = "Coverage by origin", extra: str = ""
) -> str:
    """A self-contained HTML page: a bar per file and origin (share of its statements)."""
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = []
    for r in rows:
        cells = []
        for n in names:
            ran = len(r.by_origin.get(n, set()))
            if not ran:
                cells.append('<td class="none">-</td>')
                continue
            width = max(1, round(60 * ran / r.statements)) if r.statements else 1
            only = r.only(n)
            note = f' <span class="only">{only} only</span>' if only else ""
            cells.append(
                f'<td title="{ran} of {r.statements} statements">'
                f'<span class="bar" style="width:{width}px"></span> {ran}{note}</td>'
            )
        body.append(
            f"<tr><td>{html.escape(r.name)}</td>"
            f"<td>{_pct(len(r.executed), r.statements)}</td>{''.join(cells)}</tr>"
        )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        "<p>Statements of each file run by each origin (host, container, rank, split); "
        "<span class='only'>only</span>: run by no other origin.</p>"
        f"<table><tr><th>File</th><th>Covered</th>{head}</tr>{''.join(body)}</table>"
        f"{extra}</body></html>\n"
    )


def run(
    cov: Any, contexts_given: str | None, html_file: str | None, output_format: str | None
) -> int:
    """The per-origin report: an HTML page at ``html_file``, else text or Markdown."""
    from covhook.host import per_test
    from covhook.host.report import patterns

    contexts = patterns(contexts_given)
    names, rows = matrix(cov, contexts)
    tests = per_test.by_test(cov, contexts)
    if html_file:
        os.makedirs(os.path.dirname(os.path.abspath(html_file)), exist_ok=True)
        with open(html_file, "w", encoding="utf-8") as f:
            f.write(page(names, rows, extra=per_test.html_section(tests)))
        print(f"Wrote per-origin HTML report to {html_file}")
        return 0
    markdown = output_format == "markdown"
    print(text(names, rows, markdown=markdown))
    if tests:
        print()
        print(per_test.text(tests, markdown=markdown))
    return 0
