"""Functions that cloudpickle ships by value keep the name of their source file.

cloudpickle 3.1.2 and later (checked: 3.1.2, 3.1.3; 3.1.1 and Ray's vendored
copy keep the name) set ``co_filename`` to ``"<dynamic-code>"`` in every code
object it pickles by value: functions defined in ``__main__`` (a Dask or Ray
driver script) or in modules registered with ``register_pickle_by_value``.
coverage.py in the worker then cannot tell which file the task's lines belong
to and drops them: a Dask task defined in the driver script was never
measured, in any worker.

In a measured process covhook puts the real file name back into what
cloudpickle writes, so the measured workers attribute the task's lines to the
driver's file.  The payload is then no longer independent of where the
function was defined (cloudpickle's reason for the change), which matters for
caching pickles across machines, not for a test run.

Nothing is imported here: a finder at the front of ``sys.meta_path`` waits
for ``cloudpickle.cloudpickle`` to be imported (one string comparison per
import until then) and patches its reducer for code objects right after.
"""

from __future__ import annotations

import sys
import types

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (issue 9: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from typing import Any

DYNAMIC = "<dynamic-code>"
MODULE = "cloudpickle.cloudpickle"


def keep_filenames(reduce: Callable[[types.CodeType], Any]) -> Callable[[types.CodeType], Any]:
    """Wrap cloudpickle's ``_code_reduce``: the real ``co_filename`` instead of DYNAMIC."""

    def covhook_code_reduce(code: types.CodeType) -> Any:
        reduced = reduce(code)
        try:
            factory, args = reduced[0], reduced[1]
            if DYNAMIC in args:
                args = tuple(code.co_filename if a == DYNAMIC else a for a in args)
                return (factory, args, *reduced[2:])
        except (TypeError, IndexError):
            pass
        return reduced

    covhook_code_reduce.__wrapped__ = reduce  # type: ignore[attr-defined]
    return covhook_code_reduce


def patch(module: types.ModuleType) -> bool:
    """Patch an imported ``cloudpickle.cloudpickle``; False when its layout is not known."""
    from covhook._compat import cloudpickle_dispatch_table

    table = cloudpickle_dispatch_table(module)
    if table is None:
        return False
    reduce = table.get(types.CodeType)
    if reduce is None or hasattr(reduce, "__wrapped__"):
        return reduce is not None
    table[types.CodeType] = keep_filenames(reduce)
    return True


class _Finder:
    """A meta path finder that only waits for ``cloudpickle.cloudpickle``."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> ModuleSpec | None:
        if name != MODULE:
            return None
        uninstall()
        # Imported here, not at the top: importlib.machinery brings the
        # ``importlib`` package, and on 3.11 ``warnings`` (issue 21).
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path, target)
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if spec is None or loader is None or run is None:
            return spec

        def exec_module(module: types.ModuleType) -> None:
            run(module)
            patch(module)

        loader.exec_module = exec_module
        return spec


_finder = _Finder()


def install() -> None:
    """Patch cloudpickle now if it is already imported, else when it is."""
    module = sys.modules.get(MODULE)
    if module is not None:
        patch(module)
    elif _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Stop waiting for cloudpickle (done once it is found)."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
