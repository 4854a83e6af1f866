"""Import coverage.py without the reporting modules a measuring process never uses.

``coverage/control.py`` imports the html, xml, json, lcov, annotate and text
reporters, their shared core and ``coverage.multiproc`` (multiprocessing) at
module level: a good part of ``import coverage`` in every measured process.
While ``import coverage`` runs, those modules are stand-ins whose names
resolve to the real objects on first use (a report, or ``concurrency =
multiprocessing`` calling ``patch_multiprocessing``); the stand-ins leave
``sys.modules`` as soon as the import is done, so any later import of those
modules gets the real ones.  Measurement and data files are untouched:
plain ``coverage combine``/``report`` read them as always.

Off with ``COVHOOK_LEAN=0``.  Which modules, and the versions checked, are
in :data:`covhook._compat.COVERAGE_REPORT_MODULES`.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

from covhook import _compat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# coverage.py's reporting modules (its internals: covhook._compat owns the list).
DEFERRED = _compat.COVERAGE_REPORT_MODULES


def wanted(environ: Any = os.environ) -> bool:
    """``COVHOOK_LEAN`` (:mod:`covhook.settings`), on by default."""
    from covhook import settings

    return bool(settings.value("lean", None, environ, problems=[]))


def import_coverage() -> ModuleType:
    """``import coverage``, leanly when possible; the real thing in every other case."""
    if "coverage" in sys.modules and sys.modules["coverage"] is not None:
        return sys.modules["coverage"]
    if not wanted() or any(name in sys.modules for name in DEFERRED):
        import coverage

        return coverage
    stand_ins = {name: _StandIn(name) for name in DEFERRED}
    sys.modules.update(stand_ins)
    try:
        import coverage
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
    return coverage


class _StandIn(ModuleType):
    """A module stand-in: every attribute taken from it is a :class:`_Deferred`."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _Deferred(self.__name__, attr)


class _Deferred:
    """A name from a deferred module: the real object, imported when first used."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name

    def _real(self) -> Any:
        return getattr(importlib.import_module(self._module), self._name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._real()(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._real(), attr)

    def __repr__(self) -> str:
        return f"<covhook deferred {self._module}.{self._name}>"
