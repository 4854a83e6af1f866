"""The commands in docs/ run, and do what the page says."""

from __future__ import annotations

from pathlib import Path

from support import data, docs


def test_subprocesses_guide(tmp_path: Path) -> None:
    done = docs.run_page(docs.DOCS / "subprocesses.md", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Origin" in done.stdout  # covhook combine's table
    combined = tmp_path / ".coverage"
    assert data.lines_of(combined, "child.py") == {1}
    assert data.lines_in(tmp_path / "parent.py", "return n * n") <= data.lines_of(
        combined, "parent.py"
    )
    assert data.data_files(tmp_path) == []
