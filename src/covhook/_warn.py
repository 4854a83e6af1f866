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
