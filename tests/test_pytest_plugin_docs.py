"""docs/pytest.md does what it says: its commands run, and the children are in the data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support import data, docblocks, launchers

pytestmark = pytest.mark.pytest_plugin


def test_pytest_guide_runs(tmp_path: Path) -> None:
    assert len(docblocks.bash_blocks("pytest.md")) >= 4
    docblocks.run_guide("pytest.md", tmp_path)
    # The guide's last run is pytest-cov with --cov-context=test (issue 22): the
    # children ran in_child and in_script, and their lines are in the one
    # .coverage it wrote, under <origin>|<test id>|run.
    work = tmp_path / "pkg" / "work.py"
    ran = data.lines_of(tmp_path / ".coverage", "work.py")
    assert data.lines_in(work, "return 2") | data.lines_in(work, "return 3") <= ran
    assert not data.data_files(tmp_path)  # nothing left to combine
    by_context = launchers.lines_by_context(tmp_path / ".coverage", "work.py")
    place = launchers.place()
    for test, line in (("test_child", "return 2"), ("test_script", "return 3")):
        assert data.lines_in(work, line) <= by_context[f"{place}|tests/test_work.py::{test}|run"]
    assert (tmp_path / "htmlcov" / "index.html").exists()
    # coverage json --show-contexts: the same, per line.
    report = json.loads((tmp_path / "coverage.json").read_text("utf-8"))
    (script_line,) = data.lines_in(work, "return 3")
    assert report["files"]["pkg/work.py"]["contexts"][str(script_line)] == [
        f"{place}|tests/test_work.py::test_script|run"
    ]
