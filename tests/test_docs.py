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


def test_combining_guide(tmp_path: Path) -> None:
    done = docs.run_page(docs.DOCS / "combining.md", tmp_path)
    assert done.returncode == 0, done.stderr
    combined = tmp_path / "checkout" / ".coverage"
    lines = data.lines_by_file(combined)
    assert lines["core.py"] == {1, 2, 5, 6}  # left() on runner 1, right() on runner 2
    assert "No source" not in done.stdout + done.stderr
    assert "[paths]" in (tmp_path / "checkout" / "paths.ini").read_text()
    assert (tmp_path / "checkout" / "origins.html").exists()
    assert (tmp_path / "artifacts" / "runner-2.tar.gz").exists()
