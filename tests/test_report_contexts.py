"""``covhook report --contexts`` and the per-test view of ``report --by origin`` (issue 22).

One real inner pytest run (pytest-cov, ``--cov-context=test``) whose tests
start children of every local kind; then the ``covhook report`` command line
on its combined data, asserted against the data's own contexts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import coverage
import pytest

from support import context_project, launchers

pytestmark = pytest.mark.pytest_plugin


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The inner suite's directory, its combined data in .coverage (read-only: copy to change)."""
    root = tmp_path_factory.mktemp("suite")
    context_project.write(root)
    context_project.run_form(root, "pytest-cov")
    return root


def covhook(root: Path, *args: str) -> str:
    out = launchers.covhook(root, *args)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_contexts_filters_the_report_and_the_origin_table(suite: Path) -> None:
    out = covhook(suite, "report", "--contexts", "test_spawn\\|run")
    work = suite / "pkg" / "work.py"
    spawn = launchers.lines_by_context(suite / ".coverage", "work.py")
    ran = set().union(*(lines for ctx, lines in spawn.items() if "test_spawn|run" in ctx))
    # coverage's own table: only the lines run under test_spawn (pytest's and its child's).
    assert launchers.marked(work, "by-spawn") <= ran
    assert launchers.marked(work, "by-subprocess").isdisjoint(ran)
    line = next(x for x in out.splitlines() if x.startswith("pkg/work.py"))
    statements, missed = (int(n) for n in line.split()[1:3])
    assert missed == statements - len(ran - {0}), out
    # The origin table counts the same contexts only: the child's lines, on this host.
    child = {
        n
        for ctx, lines in spawn.items()
        if ctx.startswith("host-") and "test_spawn|run" in ctx
        for n in lines
    }
    origin = next(x for x in out.splitlines() if x.startswith(launchers.place()))
    assert origin.split()[-1] == str(len(child - {0})), out


def expand(ranges: str) -> set[int]:
    """``1-4, 8`` -> {1, 2, 3, 4, 8} (coverage's missing-lines notation)."""
    found: set[int] = set()
    for part in ranges.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        found.update(range(int(first), int(last or first) + 1))
    return found


def test_by_origin_lists_each_tests_lines_in_other_processes(suite: Path) -> None:
    out = covhook(suite, "report", "--by", "origin", "--format", "markdown")
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0].startswith("tests/test_kids.py::"):
            rows[cells[0]] = cells[1:]
    assert set(rows) == {f"tests/test_kids.py::test_{k}" for k in context_project.KINDS}
    work = suite / "pkg" / "work.py"
    by_context = launchers.lines_by_context(suite / ".coverage", "work.py")
    cov = coverage.Coverage(data_file=str(suite / ".coverage"), config_file=False)
    cov.load()
    statements = set(cov.analysis2(str(work))[1])
    for kind in context_project.KINDS:
        file, ranges, where = rows[f"tests/test_kids.py::test_{kind}"]
        assert (file, where) == ("pkg/work.py", launchers.place())
        # The lines of the test's children: those of its context, reported as statements.
        (child,) = (
            lines
            for ctx, lines in by_context.items()
            if ctx.endswith(context_project.node_id(kind))
        )
        # Ranges as coverage writes missing lines: they may span blank lines.
        assert launchers.marked(work, f"by-{kind}") <= expand(ranges)
        assert expand(ranges) & statements == child & statements


def test_by_origin_html_has_the_per_test_table(suite: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(suite, root)
    covhook(root, "report", "--html", "out/origins.html")
    page = (root / "out" / "origins.html").read_text("utf-8")
    assert "Lines each test ran in other processes" in page
    assert "tests/test_kids.py::test_forkserver" in page
    filtered = covhook(root, "report", "--by", "origin", "--contexts", "test_fork\\|")
    assert "tests/test_kids.py::test_fork " in filtered
    assert "test_spawn" not in filtered
