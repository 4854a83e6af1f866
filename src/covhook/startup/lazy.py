"""Start coverage just before the first in-scope code of this process runs.

Installed by :mod:`covhook.startup.boot` when :mod:`covhook.startup.scope` says the
process should wait.  Until then it watches, at next to no cost, every way
in-scope code can start running without coverage having seen it:

- the import system loading a module (any finder or loader, so also
  pytest's assertion rewriter, ``-m`` parents, and the unpickling of a
  multiprocessing spawn/forkserver child's target), before its body runs;
- ``runpy`` running a code object (``python -m``, ``run_module``,
  ``run_path``, multiprocessing's re-run of the parent's main module);
- ``compile(source, in_scope_file, "exec")`` (``exec`` of a file's source);
- a thread being started: coverage.py's C tracer cannot attach to a thread
  that is already running, so the first new thread starts coverage (else
  in-scope code that thread runs later would be missed);
- a function that cloudpickle ships by value (Dask and Ray tasks defined in
  the driver script): its code arrives in the pickle, no import runs it.

The first hit removes every hook (zero cost afterwards) and calls the start
function.  A process that exits still waiting is counted as skipped.
"""

from __future__ import annotations

import builtins
import os
import sys

from covhook import startup

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

    from covhook.startup.scope import Scope

# --- Private CPython and cloudpickle names ---------------------------------------
# Listed, with the versions checked and what breaks without each, in
# covhook._compat.LAZY_PRIVATE_NAMES: used here by name because a waiting
# process does not import covhook._compat (tests/test_compat.py checks the two
# agree).
_IMPORTLIB = "_frozen_importlib"
_LOAD = "_load_unlocked"
_RUN_CODE = "_run_code"
_CLOUDPICKLE = "cloudpickle.cloudpickle"
_MAKE_FUNCTION = "_make_function"
_THREAD_STARTERS = (
    ("_thread", "start_new_thread"),
    ("_thread", "start_joinable_thread"),
    ("threading", "_start_new_thread"),
    ("threading", "_start_joinable_thread"),
)
# -------------------------------------------------------------------------------

_scope: Scope | None = None
_fire: Callable[[], object] | None = None
# (module, attribute, original) for every hook in place.
_installed: list[tuple[ModuleType, str, Any]] = []
_future_mask = 0


def pending() -> bool:
    """Hooks are in place and coverage has not started yet."""
    return _scope is not None


def install(scope: Scope, fire: Callable[[], object]) -> None:
    """Watch for in-scope code; call ``fire`` once, just before the first of it runs."""
    global _scope, _fire
    if _scope is not None:
        return
    _scope, _fire = scope, fire
    importlib = sys.modules[_IMPORTLIB]
    _patch(importlib, _LOAD, _wrap_load(getattr(importlib, _LOAD)))
    _patch(builtins, "compile", _wrap_compile(builtins.compile))
    runpy = sys.modules.get("runpy")
    if runpy is not None:
        _patch_runpy(runpy)
    wrapped: dict[int, Any] = {}  # one wrapper per function: _thread's is threading's too
    for module_name, attr in _THREAD_STARTERS:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attr):
            original = getattr(module, attr)
            if id(original) not in wrapped:
                wrapped[id(original)] = _wrap_thread(original)
            _patch(module, attr, wrapped[id(original)])
    import atexit

    atexit.register(_at_exit)


def quiet_coverage_hook() -> None:
    """Keep coverage.py's own ``a1_coverage.pth`` (coverage 7.13+) from starting coverage.

    It runs after ours, sees the same variables and would start coverage
    eagerly.  It swallows a failing ``import coverage``, so ``coverage`` is
    blocked in ``sys.modules`` until ``site`` is done with ``.pth`` files: the
    import of ``sitecustomize``, which ``site`` attempts right after them
    (CPython 3.11 to 3.13), lifts the block, and so does the start.
    """
    if "coverage" in sys.modules:
        return
    sys.modules["coverage"] = None  # type: ignore[assignment]
    sys.meta_path.insert(0, _AfterSite)


def _unblock_coverage() -> None:
    if "coverage" in sys.modules and sys.modules["coverage"] is None:
        del sys.modules["coverage"]
    if _AfterSite in sys.meta_path:
        sys.meta_path.remove(_AfterSite)


class _AfterSite:
    """A meta-path finder that finds nothing: it notices ``site`` finishing."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name in ("sitecustomize", "usercustomize") or name.startswith("coverage"):
            _unblock_coverage()


def start_now() -> None:
    """Start coverage now if it is still waiting (e.g. a test harness that must measure)."""
    _trigger()


def _patch(module: ModuleType, attr: str, value: Any) -> None:
    _installed.append((module, attr, getattr(module, attr)))
    setattr(module, attr, value)


def _uninstall() -> None:
    while _installed:
        module, attr, original = _installed.pop()
        if getattr(module, attr, None) is not original:
            setattr(module, attr, original)


def _trigger() -> None:
    """Remove every hook, then start coverage (once)."""
    global _scope, _fire
    fire = _fire
    if _scope is None or fire is None:
        return
    _scope = _fire = None
    _uninstall()
    _unblock_coverage()
    if _someone_else_measures():
        return
    try:
        fire()
    except Exception as exc:  # the user's import, thread or exec must go on regardless
        from covhook._warn import warn

        warn(
            f"coverage is off in this process: starting it failed ({exc!r})",
            "report this as a covhook bug with the line above, or set COVHOOK_LAZY=0",
        )


def _someone_else_measures() -> bool:
    """``coverage run`` (or an API user) already measures this process: leave it to them."""
    coverage = sys.modules.get("coverage")
    current = getattr(getattr(coverage, "Coverage", None), "current", None)
    try:
        return current is not None and current() is not None
    except Exception:
        return False


def _at_exit() -> None:
    scope = _scope
    if scope is not None and scope.counted:
        from covhook.startup.scope import note_skipped

        note_skipped(scope, "ran no in-scope code")


def _wrap_load(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def _load_unlocked(spec: Any) -> Any:
        scope = _scope
        if scope is not None:
            try:
                hit = scope.spec_in_scope(spec)
            except Exception:
                hit = False
            if hit:
                _trigger()
        module = original(spec)
        if _scope is not None:
            name = getattr(spec, "name", None)
            if name == "runpy":
                _patch_runpy(module)
            elif name == _CLOUDPICKLE:
                _patch_cloudpickle(module)
        return module

    return startup.dress(_load_unlocked, original)


def _patch_runpy(runpy: ModuleType) -> None:
    original = getattr(runpy, _RUN_CODE, None)
    if original is None or getattr(original, "_covhook", False):
        return

    def _run_code(code: Any, run_globals: Any, *args: Any, **kwargs: Any) -> Any:
        scope = _scope
        if scope is not None:
            try:
                hit = scope.code_in_scope(getattr(code, "co_filename", None), run_globals)
            except Exception:
                hit = False
            if hit:
                _trigger()
        return original(code, run_globals, *args, **kwargs)

    startup.dress(_run_code, original)
    _run_code._covhook = True  # type: ignore[attr-defined]
    _patch(runpy, _RUN_CODE, _run_code)


def _patch_cloudpickle(cloudpickle: ModuleType) -> None:
    original = getattr(cloudpickle, _MAKE_FUNCTION, None)
    if original is None:
        return

    def _make_function(code: Any, *args: Any, **kwargs: Any) -> Any:
        scope = _scope
        if scope is not None:
            try:
                hit = scope.file_in_scope(getattr(code, "co_filename", None))
            except Exception:
                hit = False
            if hit:
                _trigger()
        return original(code, *args, **kwargs)

    _patch(cloudpickle, _MAKE_FUNCTION, startup.dress(_make_function, original))


def _caller_future_flags() -> int:
    """The ``from __future__`` flags of compile()'s caller, which compile() inherits."""
    global _future_mask
    if not _future_mask:
        import __future__

        for name in __future__.all_feature_names:
            _future_mask |= getattr(__future__, name).compiler_flag
    return sys._getframe(2).f_code.co_flags & _future_mask


_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST: ast.parse() reads code, it does not run it


def _from_coverage() -> bool:
    """compile() called by coverage.py itself (``coverage report`` analysing a file)."""
    name = sys._getframe(2).f_globals.get("__name__", "")
    return isinstance(name, str) and name.startswith("coverage.")


_COMPILE_PARAMETERS = ("source", "filename", "mode", "flags", "dont_inherit", "optimize")
_COMPILE_DEFAULTS = (0, False, -1)
# Keyword-only: ``module`` is new in 3.15, and importlib passes it for every source
# file it compiles (``SourceLoader.source_to_code``); before 3.15 the builtin refuses it.
_COMPILE_KEYWORD_ONLY = frozenset({"_feature_version", "module"})


def _bind_compile(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]] | None:
    """compile()'s arguments as the builtin binds them; None for a call it refuses."""
    if len(args) > len(_COMPILE_PARAMETERS):
        return None
    values, rest = list(args), dict(kwargs)
    for i, name in enumerate(_COMPILE_PARAMETERS[len(args) :], len(args)):
        if name in rest:
            values.append(rest.pop(name))
        elif i < 3:
            return None
        else:
            values.append(_COMPILE_DEFAULTS[i - 3])
    if not rest.keys() <= _COMPILE_KEYWORD_ONLY:
        return None
    return values, rest


def _inherits(dont_inherit: Any) -> bool | None:
    """Whether compile() would inherit its caller's flags; None: let the builtin judge."""
    as_int = startup.index(dont_inherit)
    if as_int is not None:
        return not as_int
    if sys.version_info >= (3, 12):  # any object, by its truth value
        try:
            return not dont_inherit
        except Exception:
            return None
    return None  # 3.11 refuses it: its own TypeError


def _wrap_compile(original: Callable[..., Any]) -> Callable[..., Any]:
    def compile(*args: Any, **kwargs: Any) -> Any:
        bound = _bind_compile(args, kwargs)
        if bound is None:
            return original(*args, **kwargs)  # the builtin's own TypeError, nothing compiled
        (source, filename, mode, flags, dont_inherit, optimize), rest = bound
        as_int, inherits = startup.index(flags), _inherits(dont_inherit)
        if as_int is None or inherits is None:
            return original(*args, **kwargs)  # the builtin's own TypeError, nothing compiled
        scope = _scope
        if scope is not None and mode == "exec" and not as_int & _ONLY_AST:
            try:
                hit = scope.file_in_scope(os.fspath(filename)) and not _from_coverage()
            except Exception:
                hit = False
            if hit:
                _trigger()
        if inherits:
            # Called from here, compile() would inherit this module's flags.
            as_int |= _caller_future_flags()
        return original(source, filename, mode, as_int, True, optimize, **rest)

    return startup.dress(compile, original)


def _wrap_thread(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_thread(*args: Any, **kwargs: Any) -> Any:
        if _scope is not None:
            _trigger()
        return original(*args, **kwargs)

    return startup.dress(start_thread, original)
