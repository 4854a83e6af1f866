"""What a run did not measure, kept in its combined data so ``covhook doctor`` can say it later.

Measured processes leave notes in the data directory (:mod:`covhook.notes`):
children started with a scrubbed environment or with ``python -S``, and
processes a scope rule or lazy start skipped.
``covhook combine`` prints them and removes the notes, as it removes the data
files it combined; before that it keeps them (at most ``LIMIT`` of each, with
the totals) in the combined file's meta table, which coverage ignores.  So
``covhook doctor`` run after the fact still sees them.
"""

from __future__ import annotations

import json
import os
import sqlite3
from typing import Any

from covhook import notes

KEY = "covhook_unmeasured"
LIMIT = 50


def collect(data_dir: str) -> dict[str, Any]:
    """The notes in ``data_dir`` now (children's and skipped processes')."""
    kids = notes.unmeasured(data_dir)
    skipped = notes.skipped_records(data_dir)
    return {
        "children": kids[:LIMIT],
        "children_total": len(kids),
        "skipped": skipped[:LIMIT],
        "skipped_total": len(skipped),
    }


def merge(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    return {
        "children": [*one.get("children", []), *other.get("children", [])][:LIMIT],
        "children_total": one.get("children_total", 0) + other.get("children_total", 0),
        "skipped": [*one.get("skipped", []), *other.get("skipped", [])][:LIMIT],
        "skipped_total": one.get("skipped_total", 0) + other.get("skipped_total", 0),
    }


def meta_row(data_file: str, record: dict[str, Any], append: bool = False) -> tuple[str, str]:
    """The meta row that keeps ``record`` in the combined file, written with its data
    (added to the one ``data_file`` holds with ``append``, read before it is replaced)."""
    if append:
        record = merge(load(data_file), record)
    return (KEY, json.dumps(record))


def load(data_file: str) -> dict[str, Any]:
    """The record the combine that wrote ``data_file`` kept (empty if none)."""
    from covhook.host.fastcombine import connect_read_only

    if not os.path.isfile(data_file):
        return {}
    try:
        con = connect_read_only(data_file)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (KEY,)).fetchone()
        finally:
            con.close()
        found = json.loads(row[0]) if row else {}
    except (sqlite3.Error, ValueError, OSError):
        return {}
    return found if isinstance(found, dict) else {}


def by_why(notes: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Children's notes grouped by why they were not measured: (count, first note)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for note in notes:
        groups.setdefault(str(note.get("why")), []).append(note)
    return [(len(group), group[0]) for group in groups.values()]
