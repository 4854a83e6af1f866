"""The union done inside SQLite (evaluated for issue 11, not used by covhook).

Each input file is ATTACHed read-only to the output database and its rows are
OR-ed in by SQL, in C: ``INSERT OR IGNORE INTO arc SELECT <mapped file id>,
<mapped context id>, fromno, tono FROM src.arc JOIN <small id maps>`` (the id
maps are computed in Python, as covhook's [paths] mapping would); line data
with ``INSERT OR REPLACE`` of the OR of numbits (coverage's ``numbits_union``
SQL function), file tracers copied.  No [paths], no dedupe by hash: only the cost of
the union itself, for ``bench_combine.py``'s "sqlite-union" column.  Usage:
``python bench/sqlite_union.py DIR`` writes ``DIR/.coverage``.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from coverage.numbits import register_sqlite_functions
from coverage.sqldata import SCHEMA, SCHEMA_VERSION


def union(directory: Path) -> None:
    files = sorted(str(p) for p in directory.glob(".coverage.*"))
    out = directory / ".coverage"
    tmp = directory / ".sqlite-union.tmp"
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp, isolation_level=None)
    register_sqlite_functions(con)
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA temp_store = MEMORY")
    con.executescript(SCHEMA)
    con.execute("INSERT INTO coverage_schema (version) VALUES (?)", (SCHEMA_VERSION,))
    con.execute(
        "CREATE TEMP TABLE pmap (sf INTEGER, sc INTEGER, f INTEGER, c INTEGER, "
        "PRIMARY KEY (sf, sc)) WITHOUT ROWID"
    )
    file_ids: dict[str, int] = {}
    context_ids: dict[str, int] = {}
    arcs = False
    for f in files:
        # ATTACH/DETACH cannot happen inside a transaction: one per file.
        con.execute("ATTACH ? AS src", (Path(f).as_uri() + "?mode=ro&immutable=1",))
        con.execute("BEGIN")
        fmap = []
        for i, path in con.execute("SELECT id, path FROM src.file").fetchall():
            if path not in file_ids:
                file_ids[path] = len(file_ids) + 1
                con.execute("INSERT INTO file (id, path) VALUES (?, ?)", (file_ids[path], path))
            fmap.append((i, file_ids[path]))
        cmap = []
        for i, ctx in con.execute("SELECT id, context FROM src.context").fetchall():
            if ctx not in context_ids:
                context_ids[ctx] = len(context_ids) + 1
                con.execute(
                    "INSERT INTO context (id, context) VALUES (?, ?)", (context_ids[ctx], ctx)
                )
            cmap.append((i, context_ids[ctx]))
        con.execute("DELETE FROM pmap")
        con.executemany(
            "INSERT INTO pmap VALUES (?, ?, ?, ?)",
            [(sf, sc, df, dc) for sf, df in fmap for sc, dc in cmap],
        )
        # pmap outer, the input's covering (file, context, from, to) index inner.
        arcs = arcs or bool(con.execute("SELECT 1 FROM src.arc LIMIT 1").fetchone())
        con.execute(
            "INSERT OR IGNORE INTO main.arc (file_id, context_id, fromno, tono) "
            "SELECT p.f, p.c, a.fromno, a.tono FROM pmap p CROSS JOIN src.arc a "
            "ON a.file_id = p.sf AND a.context_id = p.sc"
        )
        con.execute(
            "INSERT OR REPLACE INTO main.line_bits (file_id, context_id, numbits) "
            "SELECT p.f, p.c, numbits_union(coalesce(m.numbits, x''), l.numbits) "
            "FROM pmap p CROSS JOIN src.line_bits l ON l.file_id = p.sf AND l.context_id = p.sc "
            "LEFT JOIN main.line_bits m ON m.file_id = p.f AND m.context_id = p.c"
        )
        con.execute(
            "INSERT OR IGNORE INTO main.tracer (file_id, tracer) SELECT DISTINCT p.f, t.tracer "
            "FROM src.tracer t JOIN pmap p ON p.sf = t.file_id"
        )
        con.execute("COMMIT")
        con.execute("DETACH src")
    con.execute("INSERT INTO meta (key, value) VALUES ('has_arcs', ?)", (str(int(arcs)),))
    con.close()
    os.replace(tmp, out)


if __name__ == "__main__":
    union(Path(sys.argv[1]))
