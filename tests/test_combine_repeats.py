"""Identical (file, context) arc sets are parsed once, and only identical ones are skipped.

Processes of a real suite run the same code the same way again and again, so
many data files hold byte-identical arc sets for a (file, context).  The fast
combine (covhook.host.fastcombine) merges such a set once and skips its
repeats; a set that differs by a single arc must still be merged.  Data files
are written with coverage's own API and the result compared with what the
real ``coverage combine`` makes of the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from coverage import CoverageData

from covhook.host import fastcombine
from support.datagen import combined_by_coverage, describe

SAME = [(-1, 1), (1, 2), (2, 3), (3, -1), (2, 7), (7, -1)]


def process(d: Path, n: int, arcs: Sequence[tuple[int, int]], path: str = "/p/mod_a.py") -> str:
    """One process's data file: ``arcs`` in mod_a (context "ctx"), its own arc in mod_b."""
    d.mkdir(parents=True, exist_ok=True)
    data = CoverageData(str(d / f".coverage.proc{n}"))
    data.set_context("ctx")
    data.add_arcs({path: list(arcs), "/p/mod_b.py": [(-1, n + 1), (n + 1, -1)]})
    data.write()
    return data.data_filename()


def fast_combined(files: Sequence[str], tmp: Path) -> fastcombine.Outcome:
    return fastcombine.combine(
        [fastcombine.Group(files, {})], str(tmp / "fast.cov"), keep=True, workers=1
    )


def test_identical_arc_sets_are_merged_once(tmp_path: Path) -> None:
    files = [process(tmp_path / "d", n, SAME) for n in range(4)]
    outcome = fast_combined(files, tmp_path)
    assert outcome.union.repeated == 3  # mod_a in processes 1-3; mod_b differs in each
    assert describe(tmp_path / "fast.cov") == combined_by_coverage(files, tmp_path / "plain")


def test_repeats_are_found_across_the_whole_combine(tmp_path: Path) -> None:
    """Not only within one batch of files (fastcombine.CHUNK): every repeat is skipped."""
    count = fastcombine.CHUNK + 5
    files = [process(tmp_path / "d", n, SAME) for n in range(count)]
    outcome = fast_combined(files, tmp_path)
    assert outcome.union.repeated == count - 1
    assert describe(tmp_path / "fast.cov") == combined_by_coverage(files, tmp_path / "plain")


def test_identical_after_paths_mapping_are_merged_once(tmp_path: Path) -> None:
    """Two runners' paths mapped to this checkout: the repeat is found after the mapping."""
    local = tmp_path / "checkout"
    local.mkdir()
    (local / "mod_a.py").write_text("a = 1\n")
    files = [
        process(tmp_path / "d", 0, SAME, path="/runner/one/mod_a.py"),
        process(tmp_path / "d", 1, SAME, path="/runner/two/mod_a.py"),
    ]
    paths = {"src": [f"{local}/", "/runner/one/", "/runner/two/"]}
    outcome = fastcombine.combine(
        [fastcombine.Group(files, paths)], str(tmp_path / "fast.cov"), keep=True, workers=1
    )
    assert outcome.union.repeated == 1
    assert describe(tmp_path / "fast.cov")["files"] == sorted([f"{local}/mod_a.py", "/p/mod_b.py"])


def test_a_set_one_arc_different_is_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping is by equal text, never by a digest alone.

    Mocked: a digest collision (cannot be produced for real here).  Every
    digest is made equal; covhook used to key its skip on a blake2b digest
    and dropped the second set's extra arc.
    """

    class Collide:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def digest(self) -> bytes:
            return b"\0" * 16

    monkeypatch.setattr(fastcombine, "blake2b", Collide, raising=False)
    one_more = [*SAME, (3, 4)]
    files = [process(tmp_path / "d", 0, SAME), process(tmp_path / "d", 1, one_more)]
    outcome = fast_combined(files, tmp_path)
    combined = describe(tmp_path / "fast.cov")
    assert combined["rows"][("/p/mod_a.py", "ctx")][1] == sorted(one_more)
    assert combined == combined_by_coverage(files, tmp_path / "plain")
    assert outcome.union.repeated == 0


def test_past_the_budget_nothing_is_skipped_and_nothing_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past SEEN_BUDGET new texts are not remembered: repeats are merged again, exactly."""
    monkeypatch.setattr(fastcombine, "SEEN_BUDGET", 0)
    files = [process(tmp_path / "d", n, SAME) for n in range(3)]
    outcome = fast_combined(files, tmp_path)
    assert outcome.union.repeated == 0
    assert describe(tmp_path / "fast.cov") == combined_by_coverage(files, tmp_path / "plain")
