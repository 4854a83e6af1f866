"""Combine coverage data files fast, with the same result as ``coverage combine``.

``coverage combine`` merges each data file into the combined database with a
dozen SQL statements, temporary tables, a commit and a re-read of the whole
combined file: about 5 ms a file, 25 ms with branch data.  Here each input is
opened read-only once, its rows read in a few queries and OR-ed into one
in-memory union (numbits as Python integers; arcs as covhook's bitmaps,
:mod:`covhook.arcbits`, when the recorder wrote them, else as sets), and the
result is written once, with coverage's own schema, to a temporary file that
replaces the data file atomically.  Memory is bounded by the size of the
union, not by the number of files.  With two processes
(:mod:`.combine_workers`), both read, each the files it claims, and a child
makes the arcs' texts while the parent writes them.

Semantics follow ``coverage.data.combine_parallel_data`` and
``CoverageData.update``: the same dedupe by data hash, the same
``[paths]`` mapping (coverage's ``PathAliases``, separators normalised the
same way), every context of every file, file tracers (a conflict is an
error), and lines and arcs never mixed.  Unreadable files are reported and
kept; nothing is deleted before the combined file is on disk.  The combined
file names the inputs it holds (:data:`INPUTS_KEY`), so a rerun after an
interrupted delete, or with an archive given again, adds to it instead of
replacing it with less.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import re
import sqlite3
import stat
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import ParamSpec, TypeVar
from urllib.parse import quote

from coverage.exceptions import DataError, NoDataError
from coverage.files import PathAliases
from coverage.version import __version__ as coverage_version

from covhook import _compat, arcbits, layout
from covhook.host import combine_workers as parallel

SCHEMA, SCHEMA_VERSION = _compat.data_schema()


def read_only_uri(filename: str) -> str:
    """coverage's way (7.12+) to open a file it must not change: read-only, journals ignored."""
    # What pathlib's as_uri() gives, without a Path per file (1000 files: 50 ms).
    return "file://" + quote(os.fsencode(os.path.abspath(filename))) + "?mode=ro&immutable=1"


def connect_read_only(filename: str) -> sqlite3.Connection:
    """SQLite on ``filename``, read-only (:func:`read_only_uri`), never blocked by a FIFO.

    In a shared data directory another user may swap a file for a FIFO after
    it was listed as a regular file: SQLite's own open would wait for a writer
    for ever.  The file is opened here without blocking and must be a regular
    file; SQLite then opens that very file (through ``/proc/self/fd`` where
    there is one), not whatever the name leads to a moment later.  A file that
    is not a regular one raises ``sqlite3.OperationalError``, as a missing one does.
    """
    try:
        fd = os.open(filename, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise sqlite3.OperationalError(f"unable to open database file: {exc.strerror}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise sqlite3.OperationalError("not a regular file")
        same_file = f"/proc/self/fd/{fd}"
        path = same_file if os.path.exists(same_file) else filename
        return sqlite3.connect(read_only_uri(path), uri=True)  # (SQLite opens it here)
    finally:
        os.close(fd)


CHUNK = 25
# Characters of arc text a union remembers to skip identical groups (Union.seen):
# 64 M; every text of 300 data files of 0.2 MB is 20 M (bench/combine.md).
SEEN_BUDGET = 1 << 26

MapPath = Callable[[str], str]
P = ParamSpec("P")
R = TypeVar("R")
# One (file, context)'s arcs as read: a JSON list of codes (from coverage's rows), or
# covhook's bitmaps (covhook.arcbits): the near and far blobs.
ArcSet = str | tuple[bytes, bytes]
Progress = Callable[[int, int], None]


class Unusable(Exception):
    """A data file that cannot be combined: corrupt, empty, foreign or of another schema."""


def make_aliases(paths: Mapping[str, Sequence[str]], relative: bool) -> PathAliases:
    """coverage's ``Coverage._make_aliases``: first value is the result, the rest patterns."""
    aliases = PathAliases(relative=relative)
    for values in paths.values():
        result = values[0]
        for pattern in values[1:]:
            aliases.add(pattern, result)
    return aliases


def path_mapper(paths: Mapping[str, Sequence[str]], relative: bool) -> MapPath:
    """The ``map_path`` ``CoverageData.update`` applies: aliases, then maybe ``os.sep`` only."""
    aliases = make_aliases(paths, relative)
    slashes = re.compile(r"[/\\]") if _compat.combine_fixes_separators() else None

    @functools.cache
    def map_path(path: str) -> str:
        mapped = aliases.map(path)
        return mapped if slashes is None else slashes.sub(re.escape(os.sep), mapped)

    return map_path


class Repeats:
    """The (file, context, arcs' text) already merged: a process that ran a file exactly as
    an earlier one did costs no parsing and no set update (as coverage skips whole files
    with the same data hash).  Keyed by the whole text, not a digest of it, so equal means
    equal: a collision cannot drop arcs.  The texts kept are bounded by SEEN_BUDGET
    characters; past it, new texts are merged and not remembered.  One record serves
    every share merged into the same result (the chunks of :func:`_in_process`)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str, ArcSet]] = set()
        self.chars = 0

    def first(self, key: tuple[str, str], arcs: ArcSet, size: int) -> bool:
        """True (and remembered, within the budget) if this set was not merged before."""
        mark = (*key, arcs)
        if mark in self.seen:
            return False
        if self.chars < SEEN_BUDGET:
            self.seen.add(mark)
            self.chars += size
        return True


@dataclass
class Union:
    """The union of several data files' measurements, keyed by (mapped) path."""

    mode: str = ""  # "", "lines" or "arcs": what the rows are (coverage's _choose_lines_or_arcs)
    declared: set[str] = field(default_factory=set)  # what the files' meta said they measured
    tracers: dict[str, str] = field(default_factory=dict)  # every file; "" = no tracer
    contexts: dict[str, None] = field(default_factory=dict)
    lines: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # bits, bytes
    # Arcs, encoded (see arc_code); those read from covhook's bitmaps (covhook.arcbits) may
    # be in ``near`` instead, OR-ed bitmaps: a key's arcs are both (Union.sorted_codes).
    arcs: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    near: dict[tuple[str, str], int] = field(default_factory=dict)
    # Arc sets already merged into this union or one it will be merged into.
    merged: Repeats = field(default_factory=Repeats, repr=False)
    repeated: int = 0  # arc sets skipped because an identical one was merged
    # Whether ``arcs`` holds arcs read from rows: those may also be in ``near``; arcs
    # read from bitmaps never are (the far blob has only arcs a bitmap cannot hold).
    from_rows: bool = False

    def _choose(self, mode: str, where: str) -> None:
        if self.mode and self.mode != mode:
            raise DataError(
                f"Can't combine {_kind(mode)} data with {_kind(self.mode)} data: "
                f"data file {where!r} measured {_kind(mode)}, the others didn't"
            )
        other = "lines" if mode == "arcs" else "arcs"
        if other in self.declared:
            raise DataError(
                f"Can't combine {_kind(mode)} data with {_kind(other)} data ({where!r})"
            )
        self.mode = mode

    def _declare(self, mode: str, where: str) -> None:
        other = "lines" if mode == "arcs" else "arcs"
        if self.mode == other:
            raise DataError(
                f"Can't combine {_kind(mode)} data with {_kind(other)} data: "
                f"data file {where!r} measured {_kind(mode)}, the others didn't"
            )
        self.declared.add(mode)

    def _tracer(self, path: str, tracer: str) -> None:
        known = self.tracers.get(path)
        if known is None:
            self.tracers[path] = tracer
        elif known != tracer:
            raise DataError(f"Conflicting file tracer name for {path!r}: {known!r} vs {tracer!r}")

    def add_file(self, filename: str, map_path: MapPath) -> None:
        """OR one data file into the union; Unusable if it cannot be read as coverage data."""
        raw = read_raw(filename)
        if raw.declared:
            self._declare(raw.declared, filename)
        paths = {fid: map_path(p) for fid, p in raw.files.items()}
        mapped_tracers: dict[str, str] = {}
        for fid, path in paths.items():
            mapped_tracers.setdefault(path, raw.tracers.get(fid, ""))
        for path, tracer in mapped_tracers.items():
            self._tracer(path, tracer)
        for context in raw.contexts.values():
            self.contexts.setdefault(context, None)
        if raw.arcs:
            self._choose("arcs", filename)
            merged, near = self.merged, self.near
            for fid, cid, arcs in raw.arcs:
                key = (paths[fid], raw.contexts[cid])
                if isinstance(arcs, str):
                    if not merged.first(key, arcs, len(arcs)):
                        self.repeated += 1
                        continue
                    codes: Iterable[int] = json.loads(arcs)
                    self.from_rows = True
                else:
                    bits, far = arcs
                    if not merged.first(key, arcs, len(bits) + len(far)):
                        self.repeated += 1
                        continue
                    if bits:
                        near[key] = near.get(key, 0) | int.from_bytes(bits, "little")
                    if not far:
                        continue
                    codes = arcbits.decode_far(far)
                found = self.arcs.get(key)
                if found is None:
                    self.arcs[key] = set(codes)
                else:
                    found.update(codes)
        if raw.lines:
            self._choose("lines", filename)
            for fid, cid, numbits in raw.lines:
                self._or_lines((paths[fid], raw.contexts[cid]), numbits)

    def _or_lines(self, key: tuple[str, str], numbits: bytes) -> None:
        bits = int.from_bytes(numbits, "little")
        old = self.lines.get(key)
        if old is None:
            self.lines[key] = (bits, len(numbits))
        else:
            self.lines[key] = (old[0] | bits, max(old[1], len(numbits)))

    def merge(self, other: Union) -> None:
        """OR another union (a worker's share) into this one."""
        for mode in other.declared:
            self._declare(mode, "(another share)")
        if other.mode:
            self._choose(other.mode, "(another share)")
        for path, tracer in other.tracers.items():
            self._tracer(path, tracer)
        for context in other.contexts:
            self.contexts.setdefault(context, None)
        self.repeated += other.repeated
        self.from_rows |= other.from_rows
        for key, arcs in other.arcs.items():
            found = self.arcs.get(key)
            if found is None:
                self.arcs[key] = arcs
            else:
                found |= arcs
        near = self.near
        for key, bits in other.near.items():
            near[key] = near.get(key, 0) | bits
        for key, (bits, size) in other.lines.items():
            old = self.lines.get(key)
            self.lines[key] = (bits, size) if old is None else (old[0] | bits, max(old[1], size))

    def origin_lines(self, origin_of: Callable[[str], str]) -> dict[str, tuple[int, int]]:
        """Per origin (from a context): source files it ran lines of, and those lines.

        Line 0 (an empty module) is not a line; exits (negative) are not either.
        """
        bits: dict[tuple[str, str], int] = {}
        for (path, context), (value, _size) in self.lines.items():
            key = (origin_of(context), path)
            bits[key] = bits.get(key, 0) | value
        codes: dict[tuple[str, str], set[int]] = {}
        for (path, context), arcs in self.arcs.items():
            codes.setdefault((origin_of(context), path), set()).update(arcs)
        near: dict[tuple[str, str], int] = {}
        for (path, context), value in self.near.items():
            key = (origin_of(context), path)
            near[key] = near.get(key, 0) | value
        counts: dict[tuple[str, str], int] = {
            key: bin(value >> 1).count("1") for key, value in bits.items()
        }
        for key in {*codes, *near}:
            marks = arcbits.line_marks(near.get(key, 0))
            items = list(codes.get(key, ()))
            if items:
                # Decoded with C-level callables only: each end is the line number + _LIMIT.
                froms = list(map(int.__floordiv__, map(_UNBIAS.__add__, items), repeat(_MUL)))
                shifted = map((_LIMIT * _MUL + _LIMIT).__add__, items)
                ends = set(froms)
                ends.update(map(int.__sub__, shifted, map(_MUL.__mul__, froms)))
                marks |= arcbits.marks_of(map(_LIMIT.__rsub__, ends))
            counts[key] = marks.bit_count()
        result: dict[str, tuple[int, int]] = {}
        for (origin, _path), n in counts.items():
            files, lines = result.get(origin, (0, 0))
            result[origin] = (files + (1 if n else 0), lines + n)
        return result

    def sorted_codes(self, key: tuple[str, str]) -> list[int]:
        """Every arc of ``key``, encoded, in order (bitmap arcs come out in order)."""
        near = arcbits.near_codes(self.near.get(key, 0))
        other = self.arcs.get(key)
        if not other:
            return near
        if self.from_rows and near:
            return sorted(other.union(near))
        near += other
        near.sort()  # two sorted runs: merged in linear time
        return near

    def arc_count(self) -> int:
        """Arcs in the union (as many rows as the combined file will hold)."""
        return sum(len(self.sorted_codes(key)) for key in {*self.arcs, *self.near})

    def write(
        self,
        data_file: str,
        forks: bool = False,
        meta: Callable[[], Iterable[tuple[str, str]]] | None = None,
    ) -> None:
        """Write an ordinary coverage data file, atomically (the old one stays until then).

        With ``forks``, a forked child makes the arcs' texts while this process
        inserts them.  ``meta()``: more rows for the meta table (covhook's own
        keys), asked for once the child is at work.
        """
        directory = os.path.dirname(os.path.abspath(data_file))
        tmp = layout.combining_path(directory)
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        keys = sorted({*self.arcs, *self.near})

        def texts() -> Generator[str, None, None]:
            return (json.dumps(self.sorted_codes(key)) for key in keys)

        # Making the texts (decoding bitmaps, sorting) costs about what SQLite's
        # inserts cost: with two processes, a child makes them while this one
        # works out the meta rows and inserts.  Forked before the file is open.
        made = parallel.streamed(texts) if forks and len(keys) > 1 else texts()
        try:
            with contextlib.closing(made):
                con = sqlite3.connect(tmp)
                try:
                    self._fill(con, list(meta()) if meta else [], zip(keys, made, strict=True))
                    con.commit()
                finally:
                    con.close()
            os.replace(tmp, data_file)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            if isinstance(exc, sqlite3.Error):
                # As coverage.py says it (its DataError), so the CLI names it the same way.
                raise DataError(f"Couldn't use data file {tmp!r}: {exc}") from exc
            raise

    def _fill(
        self,
        con: sqlite3.Connection,
        extra: Iterable[tuple[str, str]],
        arcs: Iterable[tuple[tuple[str, str], str]],
    ) -> None:
        # Pages of 16 KB instead of 4: a fifth less time inserting the arcs (their
        # unique index), and coverage reads a database of any page size.
        con.execute("PRAGMA page_size = 16384")
        # A private temporary file, renamed into place when complete: no journal needed.
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("BEGIN")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute("INSERT INTO coverage_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        meta = [("version", coverage_version)]
        if self.mode:
            meta.append(("has_arcs", str(int(self.mode == "arcs"))))
        meta += extra
        con.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta)
        file_ids = {path: n for n, path in enumerate(sorted(self.tracers), 1)}
        context_ids = {ctx: n for n, ctx in enumerate(sorted(self.contexts), 1)}
        con.executemany("INSERT INTO file (path, id) VALUES (?, ?)", file_ids.items())
        con.executemany("INSERT INTO context (context, id) VALUES (?, ?)", context_ids.items())
        con.executemany(
            "INSERT INTO line_bits (file_id, context_id, numbits) VALUES (?, ?, ?)",
            (
                (file_ids[path], context_ids[ctx], bits.to_bytes(size, "little"))
                for (path, ctx), (bits, size) in sorted(self.lines.items())
            ),
        )
        # Arcs go in as one JSON list of codes per (file, context), decoded by SQLite.
        insert = (
            "INSERT INTO arc (file_id, context_id, fromno, tono) "
            f"SELECT ?, ?, {_FROMNO_SQL}, {_TONO_SQL} FROM json_each(?)"
        )
        for (path, ctx), text in arcs:
            con.execute(insert, (file_ids[path], context_ids[ctx], text))
        con.executemany(
            "INSERT INTO tracer (file_id, tracer) VALUES (?, ?)",
            ((file_ids[p], t) for p, t in sorted(self.tracers.items()) if t),
        )


def _kind(mode: str) -> str:
    return "branch" if mode == "arcs" else "statement"


@dataclass
class Raw:
    """One data file's rows, as stored (ids are that file's own)."""

    declared: str
    files: dict[int, str]
    contexts: dict[int, str]
    tracers: dict[int, str]
    lines: list[tuple[int, int, bytes]]
    # File id, context id, and the arcs: a JSON list of codes, or covhook's bitmaps.
    arcs: list[tuple[int, int, ArcSet]]


# An arc (from, to) as one integer, fromno * 2**25 + tono, so a file's arcs come
# out of SQLite as one JSON list per (file, context) and merge as sets of ints:
# several times faster than a Python tuple per row.  Line numbers (and exits,
# negative) are assumed below 2**24 in absolute value: coverage's never are.
_MUL = arcbits.MUL
_LIMIT = 1 << 24
_UNBIAS = _LIMIT * _MUL + _MUL // 2  # makes every code positive before dividing
_ARCS_SQL = f"""
    SELECT file_id, context_id, json_group_array(fromno * {_MUL} + tono)
    FROM arc GROUP BY file_id, context_id
"""
# SQL that turns a code back into (fromno, tono); integer division truncates.
_FROMNO_SQL = f"((value + {_UNBIAS}) / {_MUL} - {_LIMIT})"
_TONO_SQL = f"(value - {_FROMNO_SQL} * {_MUL})"


def arc_code(fromno: int, tono: int) -> int:
    return fromno * _MUL + tono


def arc_of(code: int) -> tuple[int, int]:
    fromno = (code + _UNBIAS) // _MUL - _LIMIT
    return fromno, code - fromno * _MUL


def _read_arcs(
    con: sqlite3.Connection,
    files: Mapping[int, str],
    contexts: Mapping[int, str],
    filename: str,
) -> list[tuple[int, int, ArcSet]]:
    """Each (file, context)'s arcs: covhook's bitmaps if they hold every arc row, else the rows."""
    try:
        found = con.execute(_BITS_SQL).fetchall()
    except sqlite3.OperationalError:  # no such table: not written by covhook's recorder
        found = []
    seal = found[0][5] if found else None
    if isinstance(seal, str) and seal.isdigit() and int(seal) == arcbits.change_counter(filename):
        coded = _complete_bits(found, files, contexts)
        if coded is not None:
            return coded
    return con.execute(_ARCS_SQL).fetchall()


# covhook's bitmaps, how many arc rows the file holds and its seal (computed once, not per row).
_BITS_SQL = arcbits.SELECT.replace(
    " FROM ",
    f", (SELECT count(*) FROM arc), ({arcbits.SEAL_SELECT}) FROM ",
    1,
)


def _complete_bits(
    rows: list[tuple[int, int, object, object, int, object]],
    files: Mapping[int, str],
    contexts: Mapping[int, str],
) -> list[tuple[int, int, ArcSet]] | None:
    """The bitmaps, if they are well formed, one per (file, context), as many arcs as the rows.

    Called once the seal showed the rows unchanged since the recorder wrote
    them with the bitmaps, in one transaction, each arc once (covhook.arcbits);
    a count that differs means the file was changed some other way (a bitmap
    edited, bytes written by hand), and the rows win (None).
    """
    coded: list[tuple[int, int, ArcSet]] = []
    nears: list[bytes] = []
    far_bytes = 0
    for fid, cid, near, far, _rows, _seal in rows:
        if not isinstance(near, bytes) or not isinstance(far, bytes) or len(far) % arcbits.WIDTH:
            return None
        if fid not in files or cid not in contexts:
            return None
        nears.append(near)
        far_bytes += len(far)
        coded.append((fid, cid, (near, far)))
    if len({(fid, cid) for fid, cid, _arcs in coded}) != len(coded):
        return None
    near_arcs = int.from_bytes(b"".join(nears), "little").bit_count()
    return coded if rows[0][4] == near_arcs + far_bytes // arcbits.WIDTH else None


def read_raw(filename: str) -> Raw:
    """Every row of one data file, opened read-only (journals ignored, like coverage)."""
    try:
        con = connect_read_only(filename)
    except sqlite3.Error as exc:
        raise Unusable(f"cannot open it: {exc}") from exc
    try:
        try:
            row = con.execute("SELECT version FROM coverage_schema").fetchone()
        except sqlite3.Error as exc:
            raise Unusable(f"not a coverage data file ({exc})") from exc
        version = row[0] if row else None
        if version != SCHEMA_VERSION:
            newer = isinstance(version, int) and version > SCHEMA_VERSION
            raise Unusable(
                f"data schema {version}, {'newer than' if newer else 'not'} this coverage's "
                f"{SCHEMA_VERSION} (coverage {coverage_version})"
            )
        try:
            meta = con.execute("SELECT value FROM meta WHERE key = 'has_arcs'").fetchone()
            declared = "" if meta is None else ("arcs" if int(meta[0]) else "lines")
            files = dict(con.execute("SELECT id, path FROM file"))
            contexts = dict(con.execute("SELECT id, context FROM context"))
            return Raw(
                declared,
                files,
                contexts,
                dict(con.execute("SELECT file_id, tracer FROM tracer")),
                con.execute("SELECT file_id, context_id, numbits FROM line_bits").fetchall(),
                _read_arcs(con, files, contexts, filename),
            )
        except (sqlite3.Error, ValueError) as exc:
            raise Unusable(f"damaged coverage data ({exc})") from exc
    finally:
        con.close()


@dataclass
class Outcome:
    """What a combine did with each input file."""

    combined: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # same data hash as one combined
    unusable: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    union: Union = field(default_factory=Union)
    lines: dict[str, tuple[int, int]] = field(default_factory=dict)  # Union.origin_lines
    # Inputs the existing data file already holds (INPUTS_KEY): not read again, deleted.
    held: list[str] = field(default_factory=list)
    appended: bool = False  # added to the existing data file (--append, or inputs it held)
    written: bool = False  # False: nothing new, the data file was left as it was
    undeleted: list[tuple[str, str]] = field(default_factory=list)  # (file, why) kept


@dataclass(frozen=True)
class Group:
    """Files combined with one ``[paths]`` setting (the user's, maybe plus learned aliases)."""

    files: Sequence[str]
    paths: Mapping[str, Sequence[str]]


Share = tuple[Union, list[str], list[tuple[str, str]]]
Job = tuple[Iterable[str], dict[str, Sequence[str]], bool]


def _union_of(
    files: Iterable[str],
    map_path: MapPath,
    done: Callable[[], None],
    merged: Repeats | None = None,
) -> Share:
    union = Union(merged=merged or Repeats())
    combined: list[str] = []
    unusable: list[tuple[str, str]] = []
    for f in files:
        try:
            union.add_file(f, map_path)
        except Unusable as exc:
            unusable.append((f, str(exc)))
        else:
            combined.append(f)
        done()
    union.merged = Repeats()  # only needed while reading; not sent back from a worker
    return union, combined, unusable


def data_hash(filename: str) -> str | None:
    """coverage's identity of a data file's data (:func:`covhook._compat.data_hash`), as
    its combine dedupes by; None if unreadable (then combined, and reported if unusable,
    as coverage's ``DataFileClassifier`` does)."""
    try:
        return _compat.data_hash(filename)
    except Exception:
        return None


def plan_files(
    groups: Sequence[Group], data_file: str, hashes: dict[str, str] | None = None
) -> tuple[list[tuple[list[str], Group]], list[str]]:
    """Per group: the files to read (deduped by coverage's data hash), and the duplicates.

    ``hashes`` (if given) gets each file's :func:`input_key` (of its :func:`data_hash`).
    """
    target = os.path.abspath(data_file)
    planned: list[tuple[list[str], Group]] = []
    skipped: list[str] = []
    for group in groups:
        seen: set[str] = set()  # per group, as coverage's DataFileClassifier per combine
        chosen = []
        for f in group.files:
            if os.path.abspath(f) == target:
                continue
            sha = data_hash(f)
            if sha is None:
                chosen.append(f)
                continue
            if hashes is not None:
                hashes[f] = input_key(f, sha)
            if sha in seen:
                skipped.append(f)
            else:
                seen.add(sha)
                chosen.append(f)
        planned.append((chosen, group))
    return planned, skipped


# The meta row of a combined file naming the inputs it holds (their input_key, as a
# JSON list): a rerun skips those still on disk instead of replacing the file with less.
INPUTS_KEY = "covhook_inputs"


def input_key(filename: str, sha: str) -> str:
    """An input's identity in :data:`INPUTS_KEY`: its name and data hash, digested (16 hex).

    The name too: another process whose data happens to be identical is another
    process (counted per origin), not one the combined file holds.
    """
    import hashlib

    text = f"{os.path.basename(filename)}\0{sha}".encode("utf-8", "surrogateescape")
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def held_inputs(data_file: str) -> set[str]:
    """The :func:`input_key` of the inputs ``data_file`` already holds (none if unrecorded)."""
    if not os.path.isfile(data_file):
        return set()
    try:
        con = connect_read_only(data_file)
        try:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (INPUTS_KEY,)).fetchone()
        finally:
            con.close()
        found = json.loads(row[0]) if row else []
    except (sqlite3.Error, ValueError, OSError):
        return set()
    return {h for h in found if isinstance(h, str)} if isinstance(found, list) else set()


def remove_inputs(files: Iterable[str]) -> list[tuple[str, str]]:
    """Delete combined inputs; those that cannot be deleted are returned (file, why).

    A file already gone is fine (another combine, a user); one that may not be
    deleted (another user's file in a sticky directory, a read-only mount) is
    kept and named: its data is in the combined file, and a rerun skips it.
    """
    kept: list[tuple[str, str]] = []
    for f in files:
        try:
            os.remove(f)
        except FileNotFoundError:
            pass
        except OSError as exc:
            kept.append((f, exc.strerror or str(exc)))
    return kept


def _cycle_collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` with Python's cycle collector paused while it runs (restored after).

    A combine makes hundreds of thousands of objects and no garbage cycles;
    the collector's passes over all of them cost it 4-9% (more with two
    processes: a pass also copies the memory pages a forked child shares).
    """

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


@_cycle_collector_paused
def combine(
    groups: Sequence[Group],
    data_file: str,
    *,
    relative: bool = False,
    keep: bool = False,
    append: bool = False,
    replace: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    origin_of: Callable[[str], str] | None = None,
    meta: Callable[[Outcome], list[tuple[str, str]]] | None = None,
) -> Outcome:
    """Combine the groups' files into ``data_file`` like ``coverage combine`` (strict).

    Raises NoDataError (and leaves ``data_file`` alone) when no file could be
    used.  Deletes the inputs that were combined or were duplicates, unless
    ``keep``; unusable files are always kept.  With ``origin_of``, also the
    lines each origin ran (``Outcome.lines``); ``meta`` gives rows for the
    combined file's meta table, written with the data (called once all is read).

    The combined file names the inputs it holds (:data:`INPUTS_KEY`).  Inputs
    an existing ``data_file`` already holds (a combine interrupted while it
    deleted its inputs, an archive combined again) are not read again: the
    others are added to it (as with ``append``), or, if there are none,
    nothing is written (``Outcome.written`` False).  ``replace`` ignores what
    it holds: the inputs alone make the new file.
    """
    hashes: dict[str, str] = {}
    planned, skipped = plan_files(groups, data_file, hashes)
    outcome = Outcome(skipped=skipped)
    planned, kept = _start_from(data_file, outcome, planned, hashes, append=append, replace=replace)
    total = sum(len(chosen) for chosen, _group in planned)
    if total == 0 and outcome.held:  # everything is in data_file already: left as it is
        if not keep:
            outcome.undeleted = remove_inputs([*outcome.held, *outcome.skipped])
        return outcome
    n_workers = workers if workers is not None else default_workers(total)
    forks = n_workers > 1 and parallel.can_fork()
    shares: Generator[Share, None, None]
    claims = [parallel.Claims(chosen) for chosen, _group in planned] if forks else []
    if forks:  # each process reads the files it claims, each share merged as it arrives
        per_process: list[list[Job]] = [
            [
                (files, dict(group.paths), relative)
                for files, (_, group) in zip(claims, planned, strict=True)
            ]
            for _ in range(n_workers)
        ]
        shares = parallel.run(per_process, share_of, total, progress)
    else:
        shares = _in_process(planned, relative, total, progress)
    try:
        with contextlib.closing(shares):  # a failed merge stops (and reaps) the workers
            for union, combined, unusable in shares:
                outcome.union.merge(union)
                outcome.combined += combined
                outcome.unusable += unusable
    finally:
        for claim in claims:
            claim.close()
    if forks:  # in the order given, whichever process read them
        order = {f: n for n, f in enumerate(f for chosen, _group in planned for f in chosen)}
        outcome.combined.sort(key=order.__getitem__)
        outcome.unusable.sort(key=lambda found: order.get(found[0], -1))  # -1: --append's
    if not outcome.combined:
        raise NoDataError("No usable data files")
    holds = kept | {hashes[f] for f in [*outcome.combined, *outcome.skipped] if f in hashes}

    def meta_rows() -> list[tuple[str, str]]:
        if origin_of is not None:
            outcome.lines = outcome.union.origin_lines(origin_of)
        rows = meta(outcome) if meta else []
        return [*rows, (INPUTS_KEY, json.dumps(sorted(holds)))]

    outcome.union.write(data_file, forks=forks, meta=meta_rows)
    outcome.written = True
    if not keep:
        outcome.undeleted = remove_inputs(
            f for f in [*outcome.combined, *outcome.skipped, *outcome.held] if f != data_file
        )
    return outcome


def _start_from(
    data_file: str,
    outcome: Outcome,
    planned: list[tuple[list[str], Group]],
    hashes: Mapping[str, str],
    *,
    append: bool,
    replace: bool,
) -> tuple[list[tuple[list[str], Group]], set[str]]:
    """What the existing ``data_file`` gives the result: its data (into ``outcome.union``)
    with ``append`` or when it holds some inputs (those move to ``outcome.held``), and the
    inputs it holds; returns the files still to read, and those inputs."""
    ledger = held_inputs(data_file) if append or not replace else set()
    # Only the inputs given again make this a rerun: others are a new measurement.
    held = set() if replace else ledger & set(hashes.values())
    kept: set[str] = set()
    if (append or held) and os.path.exists(data_file):
        try:
            outcome.union.add_file(data_file, lambda p: p)
        except Unusable as exc:
            if append:
                outcome.unusable.append((data_file, str(exc)))
            held = set()  # its data cannot be kept: the inputs it names are read again
        else:
            outcome.appended = True
            kept = ledger
    if held:
        everything = [*outcome.skipped, *(f for chosen, _group in planned for f in chosen)]
        outcome.held = [f for f in everything if hashes.get(f) in held]
        planned = [([f for f in c if hashes.get(f) not in held], g) for c, g in planned]
        outcome.skipped = [f for f in outcome.skipped if hashes.get(f) not in held]
    return planned, kept


def default_workers(files: int) -> int:
    """Worker processes for ``files`` inputs: ``COVHOOK_COMBINE_WORKERS``, else automatic.

    Automatic: two when this process may run on two or more cores, fork is
    available and there are enough files to pay for the start (bench/combine.md).
    """
    from covhook import settings  # issue 24: every covhook variable through the table

    forced = str(settings.raw("combine_workers") or "")
    if forced.isdigit():
        return max(1, int(forced))
    return parallel.auto_workers(files)


def _in_process(
    planned: Sequence[tuple[list[str], Group]],
    relative: bool,
    total: int,
    progress: Progress | None,
) -> Generator[Share, None, None]:
    count = [0]

    def done() -> None:
        count[0] += 1

    merged = Repeats()  # every chunk's union goes into one result: repeats across chunks
    for chosen, group in planned:
        map_path = path_mapper(group.paths, relative)
        for i in range(0, len(chosen), CHUNK):
            share = _union_of(chosen[i : i + CHUNK], map_path, done, merged)
            if progress is not None:
                progress(count[0], total)
            yield share


def share_of(job: Job, done: Callable[[], None]) -> Share:
    """One worker's share: the union of its files (runs in a worker process)."""
    files, paths, relative = job
    return _union_of(files, path_mapper(paths, relative), done)


class Bar:
    """A one-line progress bar on a terminal (rate and ETA), shown after ``delay`` seconds."""

    def __init__(self, stream: object, delay: float = 1.0, width: int = 30) -> None:
        self.stream = stream
        self.delay = delay
        self.width = width
        self.start = time.monotonic()
        self.shown = False

    @classmethod
    def for_stream(cls, stream: object) -> Bar | None:
        """A bar when ``stream`` is a terminal; None (quiet) otherwise."""
        isatty = getattr(stream, "isatty", None)
        try:
            delay = float(os.environ.get("COVHOOK_PROGRESS_AFTER", "") or 1.0)
        except ValueError:
            delay = 1.0
        try:
            return cls(stream, delay) if isatty is not None and isatty() else None
        except (OSError, ValueError):
            return None

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self.start
        if elapsed < self.delay or not total:
            return
        rate = done / elapsed if elapsed else 0.0
        eta = (total - done) / rate if rate else 0.0
        filled = self.width * done // total
        line = (
            f"\rcovhook: combining [{'#' * filled}{'.' * (self.width - filled)}] "
            f"{done}/{total} files, {rate:.0f} files/s, ETA {eta:.1f}s"
        )
        self._write(line)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self._write("\n")

    def _write(self, text: str) -> None:
        write = getattr(self.stream, "write", None)
        flush = getattr(self.stream, "flush", None)
        with contextlib.suppress(OSError, ValueError):
            if write is not None:
                write(text)
            if flush is not None:
                flush()
