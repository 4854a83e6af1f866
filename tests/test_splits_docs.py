"""docs/splits.md does what it says: its commands run and give one combined data file."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import data, docblocks

pytestmark = pytest.mark.splits


def test_splits_guide_runs(tmp_path: Path) -> None:
    assert len(docblocks.bash_blocks("splits.md")) >= 4
    docblocks.run_guide("splits.md", tmp_path)
    combined = tmp_path / ".coverage"
    # The last run was the 2-split one with a broken test: every module measured anyway.
    assert {f"m{n}.py" for n in range(1, 5)} <= set(data.lines_by_file(combined))
    splits = {c.rpartition("_")[2] for c in data.contexts(combined)}
    assert splits == {"split-1of2", "split-2of2"}
