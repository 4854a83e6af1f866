"""The one line covhook writes to stderr when something stops it from measuring."""

from __future__ import annotations

import sys


def warn(problem: str, fix: str) -> None:
    """Write ``covhook: <problem>. Fix: <fix>`` as a single line; never raise."""
    line = f"covhook: {problem}. Fix: {fix}".replace("\n", " ")
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except Exception:  # stderr closed or broken: nothing better to do
        pass


_said: set[str] = set()


def warn_once(key: str, problem: str, fix: str) -> None:
    """:func:`warn`, at most once per process and ``key``: saves repeat, warnings must not."""
    if key in _said:
        return
    _said.add(key)
    warn(problem, fix)


def forget() -> None:
    """In a forked child: it is another process, with its own one line to say."""
    _said.clear()
