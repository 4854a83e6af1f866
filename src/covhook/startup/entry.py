"""Entry point of ``a0_covhook_entry.start`` (PEP 829, Python 3.15+): the .pth line, as a callable.

From 3.15, site.py calls ``covhook:start_hook`` (no arguments, listed in
``a0_covhook_entry.start``) in every interpreter start-up, after every .pth
import line; it calls :func:`main` when coverage is requested.  Through 3.17
``a0_covhook.pth`` has then started covhook already and this does nothing;
from 3.18 (import lines ignored) this starts it.  Inactive, only
``covhook/__init__.py`` (which imports nothing) is loaded; this module and
everything else wait until ``COVERAGE_PROCESS_START`` or
``COVERAGE_PROCESS_CONFIG`` is set.
"""

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

ENTRY_POINT = "covhook:start_hook"  # which calls main() here when coverage is requested


def main() -> None:
    """Start coverage with covhook, like the .pth line; never raise."""
    if not (os.environ.get("COVERAGE_PROCESS_START") or os.environ.get("COVERAGE_PROCESS_CONFIG")):
        return
    import sys

    try:
        from covhook.startup import boot as _startup
    except Exception as exc:
        sys.stderr.write(
            f"covhook: coverage is off in this process: cannot import covhook ({exc!r}). "
            f"Fix: pip install covhook into {sys.prefix}, or remove the hook with "
            "'covhook uninstall'.\n"
        )
        return
    if _startup.disabled():
        return
    started_before = _started_without_covhook(sys.modules.get("coverage"))
    if started_before:
        # site.py ran coverage's own a1_coverage.pth import line before the
        # .start entry points, and covhook's .pth did not run first (removed,
        # or Python 3.18+ ignoring import lines while coverage's still ran).
        from covhook._warn import warn

        warn(
            "coverage's own start-up hook started coverage before covhook's "
            "(a .pth import line runs before .start entry points), so this process is "
            "measured without covhook's defaults (parallel, origin tags, signals)",
            "list covhook in [run] plugins and set [run] parallel = true in your config",
        )
        return
    _startup.start()


def _started_without_covhook(coverage: "ModuleType | None") -> bool:
    """coverage.process_startup() already started a Coverage here, and covhook did not."""
    if coverage is None:
        return False
    from covhook._compat import startup_coverage

    return startup_coverage(coverage) is not None and not _attempted()


def _attempted() -> bool:
    from covhook.startup import boot as _startup

    return bool(getattr(_startup, "_attempted", False))
