"""covhook: coverage.py for every process a test run starts, tagged with where it ran.

This module is imported at interpreter start-up when coverage is requested, so it
imports nothing itself.  ``coverage_init`` makes ``covhook`` usable as a
coverage.py plugin name (``[run] plugins = covhook``).

PYTEST_DONT_REWRITE: under the start-up hook covhook is imported before
pytest, which would otherwise warn that it cannot rewrite this package.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs every process milliseconds
if TYPE_CHECKING:
    from typing import Any

    from coverage.plugin_support import Plugins

__version__ = "0.1.0"


def coverage_init(reg: Plugins, options: dict[str, Any]) -> None:
    """coverage.py's plugin entry point: register the origin-tagging configurer."""
    from covhook.plugin import OriginTagger

    reg.add_configurer(OriginTagger(options))
