"""covhook: coverage.py for every process a test run starts, tagged with where it ran.

This module is imported at interpreter start-up (always on Python 3.15+, by
``a0_covhook.start``), so it imports nothing itself.  ``coverage_init`` makes
``covhook`` usable as a coverage.py plugin name (``[run] plugins = covhook``).

PYTEST_DONT_REWRITE: under the start-up hook covhook is imported before
pytest, which would otherwise warn that it cannot rewrite this package.
"""

# No imports at run time (not even typing or __future__): ``a0_covhook.start``
# imports this package in every interpreter start-up (Python 3.15+).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from coverage.plugin_support import Plugins

__version__ = "0.1.0"


def start_hook() -> None:
    """PEP 829 entry point (``a0_covhook_entry.start``, Python 3.15+).

    Here, not in a module of its own, so that an inactive start-up imports
    one module, not two (bench/bench_startup.py --pep829-only).
    """
    import os  # already loaded: a dict look-up

    if os.environ.get("COVERAGE_PROCESS_START") or os.environ.get("COVERAGE_PROCESS_CONFIG"):
        from covhook.startup.entry import main

        main()


def coverage_init(reg: "Plugins", options: "dict[str, Any]") -> None:
    """coverage.py's plugin entry point: register the origin-tagging configurer."""
    from covhook.startup.plugin import OriginTagger

    reg.add_configurer(OriginTagger(options))
