"""covhook's fast combine gives exactly the data ``coverage combine`` gives (differential).

Data files are generated with coverage's own API (support/datagen.py: many
processes, origins as static contexts, dynamic-like contexts, a file tracer,
duplicates by hash) and combined twice: by the real ``coverage combine``
command and by covhook.  Every file, context, line, arc and file tracer must
be the same.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from coverage.exceptions import DataError, NoDataError

from covhook.cli import main
from covhook.host import fastcombine
from support import cli, datagen
from support.datagen import describe as dump


def both(
    src: Path, tmp: Path, rc: str = "[run]\nparallel = True\n", *args: str
) -> tuple[Path, Path]:
    """Combine copies of ``src`` with coverage and with covhook; return both data files."""
    plain, fast = tmp / "plain", tmp / "fast"
    for where in (plain, fast):
        shutil.copytree(src, where, dirs_exist_ok=True)
        (where / ".coveragerc").write_text(rc)
    cli.coverage(["combine", "-q", *args], plain, check=True)
    cli.covhook(["combine", "--no-map", *args], fast, check=True)
    return plain / ".coverage", fast / ".coverage"


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one-process", "two-processes"])
@pytest.mark.parametrize(
    ("branch", "bits"),
    [(False, False), (True, False), (True, True)],
    ids=["lines", "arcs", "arcs-and-covhook-bitmaps"],
)
def test_same_data_as_coverage_combine(
    tmp_path: Path, branch: bool, bits: bool, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two worker processes (each ORs a share, the parent ORs the shares) change nothing;
    nor does reading covhook's bitmaps (covhook.arcbits) instead of the arc rows."""
    monkeypatch.setenv("COVHOOK_COMBINE_WORKERS", workers)
    src = tmp_path / "src"
    datagen.write_many(src, 40, root="/runner/a/proj", branch=branch, dups=6, arc_bits=bits)
    plain, fast = both(src, tmp_path)
    expected = dump(plain)
    assert expected["has_arcs"] is branch
    assert len(expected["contexts"]) > 8  # origins and dynamic contexts
    assert any(expected["tracers"].values())
    assert dump(fast) == expected
    # combined and duplicate files are gone, as with coverage
    assert not list((tmp_path / "fast").glob(".coverage.*"))


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one-process", "two-processes"])
def test_paths_remapping_is_coverages(
    tmp_path: Path, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[paths] maps two runners' roots to this checkout, only where the files exist here."""
    monkeypatch.setenv("COVHOOK_COMBINE_WORKERS", workers)
    src = tmp_path / "src"
    datagen.write_many(src, 12, root="/runner/one/proj", sources=6, dups=0)
    for i in range(12, 24):
        datagen.write_process(src, i, root="C:\\runner\\two\\proj", sources=6)
    local = tmp_path / "checkout"
    datagen.write_sources(local, 4)  # two of the six files are not here: they stay unmapped
    rc = (
        "[run]\nparallel = True\n[paths]\nsource =\n"
        f"    {local}\n    /runner/one/proj\n    C:\\runner\\two\\proj\n"
    )
    plain, fast = both(src, tmp_path, rc)
    expected = dump(plain)
    assert any(f.startswith(str(local)) for f in expected["files"])
    assert any(f.startswith("/runner/one") for f in expected["files"])
    assert dump(fast) == expected


def test_relative_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    datagen.write_many(src, 10, root="/elsewhere/proj", sources=5)
    rc = (
        "[run]\nparallel = True\nrelative_files = True\n"
        "[paths]\nsource =\n    ./\n    /elsewhere/proj/\n"
    )
    for where in ("plain", "fast"):
        datagen.write_sources(tmp_path / where, 5)
    plain, fast = both(src, tmp_path, rc)
    assert dump(fast) == dump(plain)


def test_append_adds_to_existing_data(tmp_path: Path) -> None:
    src = tmp_path / "src"
    datagen.write_many(src, 6, root="/r", sources=4)
    first = tmp_path / "first"
    datagen.write_many(first, 3, root="/r2", sources=4)
    for name in ("plain", "fast"):
        shutil.copytree(first, tmp_path / name)
        (tmp_path / name / ".coveragerc").write_text("[run]\nparallel = True\n")
        cli.coverage(["combine", "-q"], tmp_path / name, check=True)
        for f in src.iterdir():
            shutil.copy(f, tmp_path / name)
    cli.coverage(["combine", "-q", "--append"], tmp_path / "plain", check=True)
    cli.covhook(["combine", "--append"], tmp_path / "fast", check=True)
    expected = dump(tmp_path / "plain" / ".coverage")
    assert any(f.startswith("/r2/") for f in expected["files"])
    assert dump(tmp_path / "fast" / ".coverage") == expected


def test_two_workers_same_as_one(tmp_path: Path) -> None:
    """Worker processes (one or two forked children), [paths] mapping included: the same
    data, the same files combined."""
    files = [str(p) for p in datagen.write_many(tmp_path / "d", 30, root="/r", branch=True)]
    # Some with covhook's bitmaps: a (file, context) gets arcs from rows and from bitmaps.
    e = datagen.write_many(tmp_path / "e", 9, root="/s", branch=True, arc_bits=True)
    files += [str(p) for p in e]
    local = tmp_path / "checkout"
    datagen.write_sources(local, 40)
    paths = {"src": [str(local), "/s", "/r"]}  # both roots: the same files here
    one = fastcombine.combine(
        [fastcombine.Group(files, paths)], str(tmp_path / "one"), keep=True, workers=1
    )
    two = fastcombine.combine(
        [fastcombine.Group(files, paths)], str(tmp_path / "two"), keep=True, workers=2
    )
    three = fastcombine.combine(
        [fastcombine.Group(files, paths)], str(tmp_path / "three"), keep=True, workers=3
    )
    assert sorted(one.combined) == sorted(two.combined) == sorted(three.combined)
    assert not any(f.startswith(("/s/", "/r/")) for f in dump(tmp_path / "two")["files"])
    assert dump(tmp_path / "one") == dump(tmp_path / "two") == dump(tmp_path / "three")
    # The union of rows and bitmaps is coverage's own union of the rows.
    plain = tmp_path / "plain"
    plain.mkdir()
    for f in files:
        shutil.copy(f, plain)
    (plain / ".coveragerc").write_text(
        f"[run]\nparallel = True\n[paths]\nsrc =\n    {local}\n    /s\n    /r\n"
    )
    cli.coverage(["combine", "-q", "--keep"], plain, check=True)
    assert dump(plain / ".coverage") == dump(tmp_path / "two")


@pytest.mark.parametrize(
    "workers",
    [1, pytest.param(2, marks=pytest.mark.processes)],
    ids=["one-process", "two-processes"],
)
def test_lines_and_arcs_do_not_mix(tmp_path: Path, workers: int) -> None:
    """coverage refuses to combine statement and branch data; so do we, writing nothing
    (also when the two kinds meet in different worker processes' shares)."""
    d = tmp_path / "d"
    files = [
        str(datagen.write_process(d, 0, root="/r")),
        str(datagen.write_process(d, 1, root="/r", branch=True)),
    ]
    with pytest.raises(Exception, match=r"[Cc]an't combine"):
        fastcombine.combine([fastcombine.Group(files, {})], str(tmp_path / "out"), workers=workers)
    assert not (tmp_path / "out").exists()
    assert all(Path(f).exists() for f in files)


@pytest.mark.parametrize(
    "workers",
    [1, pytest.param(2, marks=pytest.mark.processes)],
    ids=["one-process", "two-processes"],
)
def test_conflicting_file_tracers_are_an_error(tmp_path: Path, workers: int) -> None:
    """With two processes the conflict is inside the forked worker's share (files 1 and
    3): its error comes back through the pipe and is raised as coverage's."""
    d = tmp_path / "d"
    tracers = [None, "one.Tracer", None, "two.Tracer"]
    files = [
        str(datagen.write_process(d, n, root="/r", sources=1, tracer=tracer))
        for n, tracer in enumerate(tracers)
    ]
    with pytest.raises(DataError, match="Conflicting file tracer"):
        fastcombine.combine([fastcombine.Group(files, {})], str(tmp_path / "out"), workers=workers)
    assert not (tmp_path / "out").exists()
    assert all(Path(f).exists() for f in files)


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_a_worker_that_dies_fails_the_combine_and_keeps_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forked worker is SIGKILLed (for real) as it starts reading: the combine
    says so in one line with the fix, writes no data file and deletes no input."""
    files = datagen.write_many(tmp_path, 20, root="/r", branch=True)
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    parent, share_of = os.getpid(), fastcombine.share_of

    def killed_in_the_worker(job: fastcombine.Job, done: Callable[[], None]) -> object:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return share_of(job, done)

    monkeypatch.setattr(fastcombine, "share_of", killed_in_the_worker)
    monkeypatch.setenv("COVHOOK_COMBINE_WORKERS", "2")
    assert main(["combine"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("covhook: error: a combine worker process (pid ")
    assert "ended with status -9" in err[0]
    assert "Fix: the data files were kept" in err[0]
    assert not (tmp_path / ".coverage").exists()
    assert all(f.exists() for f in files)


def unusable_files(d: Path) -> dict[str, Path]:
    """One of each kind of file combine cannot use, named like data files."""
    files = {
        "corrupt": d / ".coverage.host-x.x.pid1.Xaaaaaax",
        "empty": d / ".coverage.host-x.x.pid2.Xbbbbbbx",
        "foreign": d / ".coverage.host-x.x.pid3.Xccccccx",
        "newer": d / ".coverage.host-x.x.pid4.Xddddddx",
    }
    files["corrupt"].write_bytes(b"SQLite format 3\x00" + b"garbage" * 200)
    files["empty"].write_bytes(b"")
    con = sqlite3.connect(files["foreign"])
    con.execute("CREATE TABLE users (name text)")
    con.commit()
    con.close()
    newer = datagen.write_process(d, 99, root="/r", sources=2)
    con = sqlite3.connect(newer)
    con.execute("UPDATE coverage_schema SET version = 99")
    con.commit()
    con.close()
    newer.rename(files["newer"])
    return files


@pytest.mark.parametrize(
    "workers",
    ["1", pytest.param("2", marks=pytest.mark.processes)],
    ids=["one-process", "two-processes"],
)
def test_unusable_files_named_once_and_kept(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    workers: str,
) -> None:
    monkeypatch.setenv("COVHOOK_COMBINE_WORKERS", workers)
    good = datagen.write_many(tmp_path, 5, root="/r", sources=3)
    bad = unusable_files(tmp_path)
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    assert main(["combine"]) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("covhook: skipped")]
    assert len(warnings) == 1, out
    assert "4 unusable data file(s)" in warnings[0]
    for path in bad.values():
        assert path.name in warnings[0]
        assert path.exists()
    assert "schema 99, newer than" in warnings[0]
    assert not any(p.exists() for p in good)
    assert len(dump(tmp_path / ".coverage")["files"]) == 3


def test_nothing_usable_keeps_the_old_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """#10 item 6: coverage says "No usable data files", exits 1 and keeps .coverage."""
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    datagen.write_many(tmp_path, 3, root="/r", sources=3)
    assert main(["combine"]) == 0
    before = dump(tmp_path / ".coverage")
    bad = unusable_files(tmp_path)
    assert main(["combine"]) != 0
    err = capsys.readouterr().err
    assert err.startswith("covhook: error: no usable data files")
    assert "Fix:" in err
    assert dump(tmp_path / ".coverage") == before
    assert all(p.exists() for p in bad.values())


def test_the_cycle_collector_is_paused_while_combining_and_restored(tmp_path: Path) -> None:
    files = [str(p) for p in datagen.write_many(tmp_path / "d", 3, root="/r", sources=2)]
    seen = []
    read = fastcombine.read_raw

    def watched(filename: str) -> fastcombine.Raw:
        seen.append(gc.isenabled())
        return read(filename)

    fastcombine.read_raw = watched  # type: ignore[assignment]
    try:
        fastcombine.combine([fastcombine.Group(files, {})], str(tmp_path / "a"), keep=True)
        assert seen == [False, False, False]
        assert gc.isenabled()
        with pytest.raises(NoDataError):  # restored on error too
            fastcombine.combine([fastcombine.Group([], {})], str(tmp_path / "b"))
        assert gc.isenabled()
        gc.disable()  # and left off when it was off
        try:
            fastcombine.combine([fastcombine.Group(files, {})], str(tmp_path / "c"), keep=True)
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        fastcombine.read_raw = read
