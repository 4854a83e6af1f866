"""How covhook names a file (or any outside text) in a message: quoted, on one line.

A data file name may hold a newline or a terminal escape (anyone who can write
to a data dir picks the names); printed as it is, it would split covhook's
one-line message and let the rest of the name pose as covhook's own words.
"""

from __future__ import annotations

import os


def quoted(name: str | os.PathLike[str]) -> str:
    """``name`` as Python's ``repr`` writes a string: quoted, every control character
    escaped (``'a\\nb'``), so it never ends or colours the line it is in."""
    return repr(os.fspath(name))


def one_line(text: object) -> str:
    """``text`` with every control character escaped as ``repr`` would, unquoted: for
    words read from a file others can write (a note), printed inside covhook's line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
