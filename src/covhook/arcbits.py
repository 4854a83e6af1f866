"""covhook's second copy of a data file's arcs, as bitmaps, so that combining is OR-ing.

coverage.py stores branch data as one SQLite row per arc (file, context,
from, to); combining reads every row back and merges them one by one, most
of a combine's time (bench/combine.md).  For lines coverage.py stores one
bitmap per (file, context) ("numbits"), and combining them is OR-ing
integers.  covhook's recorder (:mod:`covhook.startup.recorder`) gives arcs
the same: in the same transaction as coverage.py's rows it writes the table
:data:`TABLE`, per (file id, context id):

- ``near``: a bitmap (little-endian bytes) of the arcs that go from a line
  ``a >= 1`` to a line ``b`` with ``-OFF <= b - a < LANES - OFF``, the next
  lines and short jumps, most arcs of most code: bit ``(a - 1) * LANES +
  (b - a + OFF)``;
- ``far``: every other arc as a 64-bit little-endian integer ``a * MUL + b``
  (exits, entries, long jumps).

coverage.py ignores a table it does not know.  The rows stay the data; the
blobs are a faster way to read them, trusted only while the rows are as they
were written with them.  To know that without reading every row, the writer
seals the file: the ``meta`` row :data:`SEAL` holds the value SQLite's file change
counter (header bytes 24-27, :func:`change_counter`) has once the writer's
last transaction is committed.  SQLite adds one to it with every transaction
that changes the file (a file in WAL mode, whose counter may not move, has
header bytes 18-19 at 2 and is never trusted), so any later change to the
rows through SQLite (coverage.py's API, the sqlite3 shell, any tool) leaves
the counter past the seal.  covhook's combine reads the blobs only when the
seal equals the counter and the blobs hold as many arcs as the rows; else it
reads the rows, as ``coverage combine`` does.

Measured processes import this module when they save: it imports ``array``
and ``sys`` only.
"""

from __future__ import annotations

import operator
import sys
from array import array
from itertools import compress, count

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

TABLE = "covhook_arc_bits_v1"
CREATE = f"CREATE TABLE {TABLE} (file_id integer, context_id integer, near blob, far blob)"
SELECT = f"SELECT file_id, context_id, near, far FROM {TABLE}"
INSERT = f"INSERT INTO {TABLE} (file_id, context_id, near, far) VALUES (?, ?, ?, ?)"
# The seal: a row of coverage's meta table (which its data hash and combine ignore), not
# a table of its own: no page more in every data file.
SEAL = "covhook_arc_bits_seal"
SEAL_INSERT = f"INSERT OR REPLACE INTO meta (key, value) VALUES ('{SEAL}', ?)"
SEAL_SELECT = f"SELECT value FROM meta WHERE key = '{SEAL}'"

LANES = 16  # bits per "from" line: 2 bytes
OFF = 4  # lane of an arc to the same line; lane OFF + 1: to the next line
# Line numbers (and exits, negative) are below 2**24 in absolute value.
MUL = 1 << 25
WIDTH = 8  # bytes per far code
_SWAP = sys.byteorder != "little"


def encode(pairs: Sequence[tuple[int, int]]) -> tuple[bytes, bytes]:
    """The (near, far) blobs of a set's arcs (equal lists give equal blobs).

    One pass, each near arc a bit of its line's 16-bit word: a measured process
    pays about 0.15 microseconds an arc for it; with the table written, the save
    costs 0.2-0.3 microseconds an arc more (bench/combine.md).
    """
    top = max(map(operator.itemgetter(0), pairs), default=0)
    words = array("H", bytes(2 * top)) if top > 0 else array("H")
    far = array("q")
    keep = far.append
    for a, b in pairs:
        lane = b - a + OFF
        if 0 <= lane < LANES and a > 0:
            words[a - 1] |= 1 << lane
        else:
            keep(a * MUL + b)
    if _SWAP:  # pragma: no cover - big-endian machines
        words.byteswap()
        far.byteswap()
    return words.tobytes().rstrip(b"\0"), far.tobytes()


def change_counter(path: str) -> int | None:
    """SQLite's file change counter of the database ``path``; None if unreadable or in WAL mode.

    Read before a transaction's first write, the counter once it is committed
    is this plus one (SQLite's file format, "file change counter").
    """
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError:
        return None
    if len(head) < 100 or head[18:20] != b"\x01\x01":  # not a rollback-journal database
        return None
    return int.from_bytes(head[24:28], "big")


def decode_far(blob: bytes) -> array[int]:
    """The codes of a far blob; ValueError if it is not a whole number of codes."""
    codes = array("q")
    codes.frombytes(blob)  # ValueError unless len(blob) % 8 == 0
    if _SWAP:  # pragma: no cover - big-endian machines
        codes.byteswap()
    return codes


_LANES_OF: dict[int, tuple[int, ...]] = {}
# A word with one lane set (most lines: one arc from them) -> that arc's b - a.
_ONE_LANE = {1 << lane: lane - OFF for lane in range(LANES)}


def _lanes(word: int) -> tuple[int, ...]:
    found = _LANES_OF.get(word)
    if found is None:
        found = _LANES_OF[word] = tuple(n - OFF for n in range(LANES) if word >> n & 1)
    return found


def near_codes(bits: int) -> list[int]:
    """The arcs of a near bitmap (as an integer), as codes ``a * MUL + b``, in order."""
    if not bits:
        return []
    words = array("H")  # one 16-bit word of lanes per "from" line
    words.frombytes(bits.to_bytes((bits.bit_length() + 15) // 16 * 2, "little"))
    if _SWAP:  # pragma: no cover - big-endian machines
        words.byteswap()
    step = MUL + 1  # code of (a, a + d) = a * (MUL + 1) + d
    starts = map(step.__mul__, compress(count(1), words))  # a * (MUL + 1), a = 1, 2...
    used = compress(words, words)
    distances = list(map(_ONE_LANE.get, used))
    if None not in distances:  # one arc from each line: C-level all the way
        return list(map(operator.add, starts, distances))
    codes: list[int] = []
    for start, word, distance in zip(starts, compress(words, words), distances, strict=True):
        if distance is None:
            codes.extend(map(start.__add__, _lanes(word)))
        else:
            codes.append(start + distance)
    return codes


def _every_word(nbits: int) -> int:
    """Bit 0 of every 16-bit word, over ``nbits`` bits."""
    return int.from_bytes(b"\x01\x00" * ((nbits + 15) // 16), "little")


def line_marks(bits: int) -> int:
    """The lines a near bitmap's arcs touch (both ends, lines >= 1), as bit ``16 * (line - 1)``.

    Computed on the whole bitmap at once (a line's word, shifted by each lane's
    distance), so counting the lines of a union decodes no arc one by one.
    """
    if not bits:
        return 0
    every = _every_word(bits.bit_length() + 16 * LANES)
    folded = bits | bits >> 1
    folded |= folded >> 2
    folded |= folded >> 4
    folded |= folded >> 8
    marks = folded & every  # the "from" lines: a word with any lane set
    for lane in range(LANES):
        targets = bits >> lane & every
        if targets:  # "to" lines, lane - OFF lines away (below line 1: shifted out)
            shift = 16 * (lane - OFF)
            marks |= targets << shift if shift >= 0 else targets >> -shift
    return marks


def marks_of(lines: Iterable[int]) -> int:
    """Lines (those >= 1) as :func:`line_marks` gives them."""
    found = [line for line in lines if line > 0]
    if not found:
        return 0
    marks = bytearray(2 * max(found))
    for line in found:
        marks[2 * (line - 1)] = 1
    return int.from_bytes(marks, "little")
