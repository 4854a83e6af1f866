"""Generated coverage data files, written with coverage's own API (for combine tests and bench).

Each "process" measures ``sources`` files of a project under ``root`` (which
need not exist: data measured on another machine), in its origin's static
context (covhook's tag), sometimes with a second, dynamic-like context, and
one file with a file tracer.  Files are named as covhook names them
(``<data_file>.<tag>.<host>.pid<N>.X…x.H…h``); every ``dups``-th process
repeats an earlier one's data exactly (coverage dedupes those by hash).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from coverage import CoverageData

from covhook import arcbits
from support import processes

LINES = 220


def source_names(sources: int) -> list[str]:
    return [f"src/pkg/mod_{k:03d}.py" for k in range(sources)]


def write_sources(root: Path, sources: int, lines: int = LINES) -> None:
    """Real source files for the generated data, so [paths] mapping finds them."""
    for name in source_names(sources):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"x_{n} = {n}\n" for n in range(1, lines + 1)))


def _lines(rng: random.Random, size: int) -> list[int]:
    start = rng.randint(1, 40)
    return sorted(n for n in range(start, size + 1) if rng.random() < 0.6)


def _graph(name: str, size: int) -> list[tuple[int, int]]:
    """A source file's possible arcs: fixed per file, like a real control-flow graph."""
    rng = random.Random(name)
    arcs = [(-1, 1), (size, -1)] + [(n, n + 1) for n in range(1, size)]
    arcs += [(n, n + rng.randint(2, 9)) for n in range(1, size - 10) if rng.random() < 0.25]
    arcs += [(n, -1) for n in range(1, size) if rng.random() < 0.05]
    return arcs


def _arcs(name: str, rng: random.Random, size: int) -> list[tuple[int, int]]:
    """The arcs one process took: a random part of the file's graph."""
    keep = rng.uniform(0.3, 0.9)
    return [arc for arc in _graph(name, size) if rng.random() < keep]


def write_process(
    directory: Path,
    index: int,
    *,
    root: str,
    origins: int = 8,
    sources: int = 40,
    branch: bool = False,
    dups: int = 0,
    tracer: str = "fake.Tracer",
    base: str = ".coverage",
    repeat: float = 0.0,
    lines: int = LINES,
    arc_bits: bool = False,
) -> Path:
    """One process's data file in ``directory``; returns its path.

    With ``repeat``, that share of the files runs exactly as in one of three
    "scenarios" of its origin (as processes of a real suite re-run the same
    code); the rest at random.  With ``arc_bits`` (branch data), the file
    also holds the bitmaps covhook's recorder writes beside the arc rows.
    """
    directory.mkdir(parents=True, exist_ok=True)
    seed = index - index % dups if dups and index % dups == 1 else index
    rng = random.Random(seed)
    origin = f"origin-r{seed % origins}"
    data = CoverageData(str(directory / f"{base}.{origin}"), suffix=True)
    contexts = [origin] + ([f"{origin}|test_{seed % 5}"] if seed % 10 == 0 else [])
    names = source_names(sources)
    chosen = [n for n in names if rng.random() < 0.8] or names[:1]
    for context in contexts:
        data.set_context(context)
        rngs = {
            n: random.Random(f"{n}-{context}-{rng.randint(0, 2)}") if rng.random() < repeat else rng
            for n in chosen
        }
        if branch:
            data.add_arcs({f"{root}/{n}": _arcs(n, rngs[n], lines) for n in chosen})
        else:
            data.add_lines({f"{root}/{n}": _lines(rngs[n], lines) for n in chosen})
    if tracer and names[0] in chosen:
        data.add_file_tracers({f"{root}/{names[0]}": tracer})
    data.write()
    if branch and arc_bits:
        add_arc_bits(Path(data.data_filename()))
    return Path(data.data_filename())


def add_arc_bits(data_file: Path) -> None:
    """Add what covhook's recorder writes beside the arc rows (covhook.arcbits): per
    (file, context), the bitmaps of its arcs in the order they were written, sealed."""
    con = sqlite3.connect(data_file, isolation_level=None)
    try:
        sets: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for fid, cid, a, b in con.execute(
            "SELECT file_id, context_id, fromno, tono FROM arc ORDER BY rowid"
        ):
            sets.setdefault((fid, cid), []).append((a, b))
        con.execute("BEGIN")
        counter = arcbits.change_counter(str(data_file))
        assert counter is not None
        con.execute(arcbits.CREATE)
        con.executemany(arcbits.INSERT, [(f, c, *arcbits.encode(p)) for (f, c), p in sets.items()])
        con.execute(arcbits.SEAL_INSERT, (str(counter + 1),))
        con.execute("COMMIT")
    finally:
        con.close()


def write_many(directory: Path, count: int, **kwargs: object) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [write_process(directory, i, **kwargs) for i in range(count)]  # type: ignore[arg-type]


def combined_by_coverage(files: Iterable[str | Path], where: Path) -> dict[str, Any]:
    """What ``coverage combine`` makes of copies of ``files`` in ``where`` (described)."""
    where.mkdir()
    for f in files:
        shutil.copy(f, where)
    (where / ".coveragerc").write_text("[run]\nparallel = True\n")
    coverage = Path(sys.executable).parent / "coverage"
    processes.run([coverage, "combine", "-q"], where, check=True)
    return describe(where / ".coverage")


def describe(data_file: Path) -> dict[str, Any]:
    """Everything a combined data file says, through coverage's API (to compare two)."""
    data = CoverageData(str(data_file))
    data.read()
    contexts = sorted(data.measured_contexts())
    rows: dict[tuple[str, str], Any] = {}
    for path in sorted(data.measured_files()):
        for context in contexts:
            data.set_query_contexts([f"^{context.replace('|', '[|]')}$"])
            lines = sorted(data.lines(path) or [])
            arcs = sorted(data.arcs(path) or []) if data.has_arcs() else []
            if lines or arcs:
                rows[(path, context)] = (lines, arcs)
    data.set_query_contexts(None)
    return {
        "has_arcs": data.has_arcs(),
        "files": sorted(data.measured_files()),
        "tracers": {p: data.file_tracer(p) for p in sorted(data.measured_files())},
        "contexts": contexts,
        "rows": rows,
    }
