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
    # Combined again: the emptied directory is named, the archive's data already held.
    assert "'../artifacts/runner-1' holds no data files to combine" in done.stdout
    assert "nothing new to combine" in done.stdout
    assert "No source" not in done.stdout + done.stderr
    paths = (tmp_path / "checkout" / "paths.ini").read_text()
    assert "[paths]" in paths
    # In the page's order (after 'covhook combine'): both runners, and no containers.
    for root in ("runner-1/build/proj", "runner-2/home/ci/proj"):
        assert f"{tmp_path}/{root}\n" in paths, paths
        assert f"{tmp_path}/{root}/src\n" in paths, paths
    assert "container" not in paths
    assert (tmp_path / "checkout" / "origins.html").exists()
    assert (tmp_path / "artifacts" / "runner-2.tar.gz").exists()
    said = (tmp_path / "checkout" / "doctor.txt").read_text().splitlines()
    dash_s = [line for line in said if "started with python -S" in line]
    assert len(dash_s) == 1, said
    assert "1 Python child process(es)" in dash_s[0]
    assert "-c pass" in dash_s[0]
    assert not any("core.right" in line for line in said)  # the -I child was measured


def test_scoping_guide(tmp_path: Path) -> None:
    done = docs.run_page(docs.DOCS / "scoping.md", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "files.txt").read_text().strip() == "1"  # helper.py wrote nothing
    assert "1 process skipped by scope" in (tmp_path / "combine.txt").read_text()
    assert (tmp_path / "forced.txt").read_text().strip() == "1"  # COVHOOK_LAZY=0: eager
    assert "1 process skipped by scope" in (tmp_path / "rules.txt").read_text()
    combined = tmp_path / ".coverage"
    assert data.lines_of(combined, "__init__.py") == {1, 2}
    assert "helper.py" not in data.lines_by_file(combined)  # source = src only
