"""covhook.notes: the note files of a data directory, written, read and told in one place.

Measured processes write notes; ``covhook combine``, ``covhook doctor`` and the
pytest plugin read and tell them, all through this module (issue 24).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from covhook import layout, notes
from support import measured


def test_a_child_note_is_written_read_told_and_forgotten(tmp_path: Path) -> None:
    notes.note_child(str(tmp_path), ["python", "-S", "-c", "pass"], notes.SITE_DISABLED)
    notes.note_child(str(tmp_path), ["python", "child.py"], notes.SCRUBBED)
    found = notes.unmeasured(str(tmp_path))
    assert [n["kind"] for n in found] == [notes.SITE_DISABLED, notes.SCRUBBED]
    assert (tmp_path / Path(layout.note_path(str(tmp_path), found[0]["parent_pid"])).name).exists()
    line = notes.unmeasured_line(2, found[0])
    assert line == (
        "covhook: 2 Python child process(es) ran without coverage: started with python -S: "
        "no site, so no .pth file runs (neither covhook's hook nor coverage's) "
        "(e.g. 'python -S -c pass'). Fix: drop -S from the child's command line; if you "
        "wanted isolation, -I keeps site-packages' .pth files running, so the child is measured"
    )
    notes.forget(str(tmp_path))
    assert notes.unmeasured(str(tmp_path)) == []


def test_a_note_read_from_a_shared_dir_is_told_on_one_line() -> None:
    note = {"argv": ["x"], "why": "bad\nwhy\x1b[31m", "fix": "do\rthis"}
    line = notes.unmeasured_line(1, note)
    assert "\n" not in line
    assert "\r" not in line
    assert "\x1b" not in line
    assert "bad\\nwhy\\x1b[31m" in line


def test_skipped_processes_are_counted_told_and_forgotten(tmp_path: Path) -> None:
    assert notes.skipped_summary(str(tmp_path)) is None
    notes.note_skipped(str(tmp_path), "skip")
    notes.note_skipped(str(tmp_path), "not in measure")
    assert notes.skipped_count(str(tmp_path)) == 2
    assert [r["why"] for r in notes.skipped_records(str(tmp_path))] == ["skip", "not in measure"]
    assert notes.skipped_summary(str(tmp_path)) == (
        "covhook: 2 processes skipped by scope (ran no measured code)"
    )
    assert notes.skipped_line(1) == "covhook: 1 process skipped by scope (ran no measured code)"
    assert notes.skipped_line(0) is None
    notes.forget_skipped(str(tmp_path))
    assert notes.skipped_count(str(tmp_path)) == 0


PROGRAM = """\
import subprocess, sys
before = "covhook.notes" in sys.modules
if sys.argv[1:] == ["-S"]:
    subprocess.run([sys.executable, "-S", "-c", "pass"], check=True)
print(before, "covhook.notes" in sys.modules)
"""


@pytest.mark.parametrize(("argv", "loaded"), [([], "False False"), (["-S"], "False True")])
def test_a_measured_process_loads_notes_only_to_write_one(
    tmp_path: Path, argv: list[str], loaded: str
) -> None:
    """Start-up cost: the module comes in with the first note, not with the hook."""
    (tmp_path / "prog.py").write_text(PROGRAM)
    done = measured.run(sys.executable, tmp_path, "prog.py", *argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == loaded.split()
    kinds = [n["kind"] for n in notes.unmeasured(str(tmp_path))]
    assert kinds == ([notes.SITE_DISABLED] if argv else [])
