"""Old home of :mod:`covhook.quoting` (the note messages in :mod:`covhook.notes` use it too)."""

from __future__ import annotations

from covhook.quoting import one_line, quoted

__all__ = ["one_line", "quoted"]
