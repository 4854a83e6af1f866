"""covhook's arc bitmaps (covhook.arcbits): exact both ways, and never trusted over the rows.

The recorder writes, beside coverage's arc rows, a bitmap per (file, context)
so a combine ORs instead of merging rows.  These tests hold the encoding to
the rows it copies (every arc back, nothing added), and the combine to the
rows whenever the bitmaps do not match them (changed rows, damaged blobs):
the result is then still exactly ``coverage combine``'s.
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from coverage import CoverageData

from covhook import arcbits
from covhook.host import combine_workers, fastcombine
from support import datagen
from support.datagen import describe as dump


def random_arcs(rng: random.Random, size: int) -> list[tuple[int, int]]:
    """Arcs of every kind: next lines, short and long jumps both ways, entries, exits,
    lines near 1 (whose short backward jumps would reach line 0 or below)."""
    kinds = [
        lambda a: (a, a + 1),
        lambda a: (a, a + rng.randint(-arcbits.OFF, arcbits.LANES - arcbits.OFF - 1)),
        lambda a: (a, a + rng.randint(arcbits.LANES, 400)),
        lambda a: (a, a - rng.randint(arcbits.OFF + 1, 400)),
        lambda a: (-a, a + 1),
        lambda a: (a, -rng.randint(1, a)),
        lambda a: (rng.randint(1, 3), rng.randint(-5, 3)),
    ]
    return list({rng.choice(kinds)(rng.randint(1, 3000)) for _ in range(size)})


def code(a: int, b: int) -> int:
    return a * arcbits.MUL + b


@pytest.mark.parametrize("seed", range(20))
def test_every_arc_comes_back_once(seed: int) -> None:
    rng = random.Random(seed)
    pairs = random_arcs(rng, rng.choice([0, 1, 5, 300]))
    near, far = arcbits.encode(pairs)
    bits = int.from_bytes(near, "little")
    from_near = arcbits.near_codes(bits)
    assert from_near == sorted(from_near)  # in order: the combined file's inserts want it
    assert sorted(from_near + list(arcbits.decode_far(far))) == sorted(code(*p) for p in pairs)
    assert bits.bit_count() + len(far) // arcbits.WIDTH == len(pairs)
    # Near arcs are the short ones from a real line; the far blob holds only the others.
    for a, b in pairs:
        short = a >= 1 and -arcbits.OFF <= b - a < arcbits.LANES - arcbits.OFF
        assert (code(a, b) in from_near) is short


@pytest.mark.parametrize("seed", range(20))
def test_line_marks_are_the_lines_of_the_arcs(seed: int) -> None:
    rng = random.Random(seed)
    pairs = random_arcs(rng, rng.choice([1, 5, 300]))
    near, _far = arcbits.encode(pairs)
    bits = int.from_bytes(near, "little")
    near_pairs = [divmod(c + arcbits.MUL // 2, arcbits.MUL) for c in arcbits.near_codes(bits)]
    lines = {n for a, rest in near_pairs for n in (a, rest - arcbits.MUL // 2) if n > 0}
    assert arcbits.line_marks(bits) == arcbits.marks_of(lines)
    assert arcbits.line_marks(bits).bit_count() == len(lines)
    assert arcbits.marks_of([-3, 0]) == 0


def test_a_damaged_far_blob_is_an_error_not_data() -> None:
    with pytest.raises(ValueError, match="multiple of item size"):
        arcbits.decode_far(b"\x01" * 9)


def branch_files(where: Path, count: int) -> list[Path]:
    return datagen.write_many(where, count, root="/r", branch=True, sources=6, arc_bits=True)


def covhook_combined(files: list[Path], data_file: Path, workers: int = 1) -> dict[str, object]:
    fastcombine.combine(
        [fastcombine.Group([str(f) for f in files], {})], str(data_file), keep=True, workers=workers
    )
    return dump(data_file)


def change(path: Path, sql: str) -> None:
    con = sqlite3.connect(path)
    with con:
        con.execute(sql)
    con.close()


BREAKS = {
    # The rows changed after the bitmaps were written: the rows are the data.
    "row-deleted": "DELETE FROM arc WHERE rowid = (SELECT max(rowid) FROM arc)",
    "row-added": "INSERT INTO arc (file_id, context_id, fromno, tono) VALUES (1, 1, 7, 900)",
    # Damaged or foreign bitmaps.
    "far-blob-cut": f"UPDATE {arcbits.TABLE} SET far = x'0102' WHERE rowid = 1",
    "near-not-a-blob": f"UPDATE {arcbits.TABLE} SET near = 'text' WHERE rowid = 1",
    "a-set-under-another-sets-key": (
        f"UPDATE {arcbits.TABLE} SET (file_id, context_id) = "
        f"(SELECT file_id, context_id FROM {arcbits.TABLE} WHERE rowid = 1) WHERE rowid = 2"
    ),
    "a-set-of-no-file": f"UPDATE {arcbits.TABLE} SET file_id = 999 WHERE rowid = 1",
    "bits-cleared": f"UPDATE {arcbits.TABLE} SET near = zeroblob(length(near)) WHERE rowid = 1",
}


@pytest.mark.parametrize("damage", sorted(BREAKS))
def test_bitmaps_that_do_not_match_the_rows_are_not_used(tmp_path: Path, damage: str) -> None:
    files = branch_files(tmp_path / "d", 6)
    change(files[2], BREAKS[damage])
    expected = datagen.combined_by_coverage(files, tmp_path / "plain")
    assert covhook_combined(files, tmp_path / "fast") == expected
    if damage == "row-added":  # the extra arc is in both results: it came from the rows
        assert any((7, 900) in arcs for _lines, arcs in expected["rows"].values())  # type: ignore[attr-defined]


# Issue 23: the same number of arcs, other arcs; made by SQLite however it journals.
SAME_COUNT = "UPDATE arc SET tono = tono + 5000 WHERE rowid = (SELECT max(rowid) FROM arc)"
JOURNALS = {
    "delete": [],
    "journal-off": ["PRAGMA journal_mode = OFF"],
    "memory": ["PRAGMA journal_mode = MEMORY"],
    "exclusive-lock": ["PRAGMA locking_mode = EXCLUSIVE"],
    "wal": ["PRAGMA journal_mode = WAL"],
    "wal-then-back": ["PRAGMA journal_mode = WAL", SAME_COUNT, "PRAGMA journal_mode = DELETE"],
}


@pytest.mark.parametrize("journal", sorted(JOURNALS))
def test_rows_changed_with_the_count_kept_win_over_the_bitmaps(
    tmp_path: Path, journal: str
) -> None:
    """coverage combine reads the rows; so does covhook's, once they changed (the seal)."""
    files = branch_files(tmp_path / "d", 4)
    con = sqlite3.connect(files[1], isolation_level=None)
    for statement in [*JOURNALS[journal], SAME_COUNT]:
        con.execute(statement)
    con.close()
    if journal == "wal":  # coverage's combine reads the WAL too: fold it into the file
        con = sqlite3.connect(files[1], isolation_level=None)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
    expected = datagen.combined_by_coverage(files, tmp_path / "plain")
    assert covhook_combined(files, tmp_path / "fast") == expected
    assert all(isinstance(arcs, str) for *_ids, arcs in fastcombine.read_raw(str(files[1])).arcs)


def test_rows_rewritten_through_coverages_api_win_over_bitmaps(tmp_path: Path) -> None:
    """The tool most likely to change a data file: coverage.py's own CoverageData.  A
    file's arcs purged and written again shifted, as many as before."""
    files = branch_files(tmp_path / "d", 3)

    def rows() -> int:
        return int(sqlite3.connect(files[1]).execute("SELECT count(*) FROM arc").fetchone()[0])

    before = rows()
    data = CoverageData(str(files[1]))
    data.read()
    (context,) = data.measured_contexts()  # one context: the count stays what it was
    path = sorted(data.measured_files())[0]
    arcs = sorted(data.arcs(path) or [])
    data.purge_files([path])
    data.set_context(context)
    data.add_arcs({path: [(a, b + 1000) for a, b in arcs]})
    data.write()
    assert rows() == before
    expected = datagen.combined_by_coverage(files, tmp_path / "plain")
    assert covhook_combined(files, tmp_path / "fast") == expected


def test_sealed_bitmaps_are_read_instead_of_the_rows(tmp_path: Path) -> None:
    """The fast path stays: files as the recorder writes them are read from their bitmaps."""
    files = branch_files(tmp_path / "d", 3)
    for f in files:
        read = fastcombine.read_raw(str(f)).arcs
        assert read
        assert all(isinstance(arcs, tuple) for *_ids, arcs in read)
    assert covhook_combined(files, tmp_path / "fast") == datagen.combined_by_coverage(
        files, tmp_path / "plain"
    )


def test_a_file_without_bitmaps_combines_with_files_with_them(tmp_path: Path) -> None:
    with_bits = branch_files(tmp_path / "a", 5)
    without = datagen.write_many(tmp_path / "b", 5, root="/r", branch=True, sources=6)
    files = [*with_bits, *without]
    assert covhook_combined(files, tmp_path / "fast", workers=2) == datagen.combined_by_coverage(
        files, tmp_path / "plain"
    )


def test_origin_lines_the_same_from_rows_and_from_bitmaps(tmp_path: Path) -> None:
    """The per-origin line counts (covhook's table) do not depend on how arcs were read."""
    rows = datagen.write_many(tmp_path / "rows", 12, root="/r", branch=True, sources=5)
    bits = datagen.write_many(
        tmp_path / "bits", 12, root="/r", branch=True, sources=5, arc_bits=True
    )

    def lines(files: list[Path]) -> dict[str, tuple[int, int]]:
        union = fastcombine.Union()
        for f in files:
            union.add_file(str(f), lambda p: p)
        return union.origin_lines(lambda context: context.partition("|")[0])

    from_rows = lines(rows)
    assert from_rows == lines(bits)
    # ...and are the lines of the combined arcs, counted plainly.
    data = covhook_combined(rows, tmp_path / "c")
    per_origin: dict[str, set[tuple[str, int]]] = {}
    for (path, context), (_lines, arcs) in data["rows"].items():  # type: ignore[attr-defined]
        ends = {(path, n) for arc in arcs for n in arc if n > 0}
        per_origin.setdefault(context.partition("|")[0], set()).update(ends)
    assert {o: n for o, (_files, n) in from_rows.items()} == {
        o: len(ends) for o, ends in per_origin.items()
    }


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_streamed_items_come_in_order_even_when_the_child_dies() -> None:
    parent = os.getpid()

    def make() -> Iterator[int]:
        for n in range(1000):
            if n == 300 and os.getpid() != parent:
                os._exit(9)  # the child dies part way: the parent makes the rest
            yield n

    assert list(combine_workers.streamed(make, batch=64)) == list(range(1000))


def children() -> set[int]:
    """This process's child processes, zombies included (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == os.getpid():
                found.add(int(entry))
    return found


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_stream_closed_early_leaves_no_child_behind() -> None:
    def make() -> Iterator[int]:
        yield from range(10**9)

    before = children()
    stream = combine_workers.streamed(make)
    assert next(stream) == 0
    assert len(children() - before) == 1  # the child making the items
    stream.close()
    assert children() == before  # killed and reaped: not even a zombie
