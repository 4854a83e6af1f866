"""Under plain ``coverage run -m pytest`` the children's data goes through covhook's combine.

A real inner pytest (pytester, a subprocess) measured by ``coverage run``
(not parallel): its test starts a measured Python child, and one test leaves
a broken data file of a "child" (as a child killed while writing its own
would) next to the real ones.  The plugin folds the children into the data
coverage saves at exit through covhook's fast combine: the child's lines are
in ``.coverage``, the broken file is named in one ``covhook:`` line with its
fix and kept, the good child files are gone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support import data, sample_project

pytestmark = pytest.mark.pytest_plugin
pytest_plugins = ("pytester",)

BIN = Path(sys.executable).parent
BROKEN = ".coverage.host-crashed.vm.pid4242.Xbrokenx"

BROKEN_TEST = f"""\
def test_a_child_left_a_broken_file():
    with open({BROKEN!r}, "wb") as f:
        f.write(b"SQLite format 3\\x00" + b"garbage" * 200)
"""


def test_children_folded_by_covhooks_combine(pytester: pytest.Pytester) -> None:
    work = sample_project.write(pytester.path)
    (pytester.path / "tests" / "test_broken.py").write_text(BROKEN_TEST)
    result = pytester.run(
        str(BIN / "coverage"), "run", "--source=pkg", "-m", "pytest", "-p", "no:cacheprovider",
        "-q", timeout=240,
    )  # fmt: skip
    assert result.ret == 0
    lines = [
        line
        for line in result.outlines + result.errlines
        if line.startswith("covhook: skipped 1 unusable data file(s) of the children")
    ]
    assert len(lines) == 1, result.outlines + result.errlines
    assert BROKEN in lines[0]
    assert "Fix: they were kept on disk" in lines[0]
    assert (pytester.path / BROKEN).exists()
    assert [p.name for p in data.data_files(pytester.path)] == [BROKEN]  # the rest combined
    ran = data.lines_of(pytester.path / ".coverage", "work.py")
    for marker in ("covered-by-test", "covered-by-child", "covered-by-shell"):
        assert data.lines_in(work, marker) <= ran, marker
