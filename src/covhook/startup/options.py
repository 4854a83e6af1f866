"""Old home of ``read_section``: the ``[covhook]`` section is read by :mod:`.config`."""

from __future__ import annotations

from covhook.startup.config import read_section

__all__ = ["read_section"]
