"""What runs inside every measured process: start-up, tagging, scope, signals, saves.

Nothing here may import the host side (:mod:`covhook.host`, the CLI): a measured
process must load only what measuring needs.

The helpers below make covhook's wrappers look and fail like the functions
they wrap (issue 23).  They live here, in a module every measured process
imports anyway, because a module of their own cost 70 µs of every start.

covhook wraps a few functions a program may call (``compile``,
``signal.signal``, ``os.execve``, ``os.close`` ...).  A wrapper must not be
seen: it keeps the original's ``__name__``, ``__qualname__`` and ``__doc__``,
and names the module it is installed in, so ``help()``, ``inspect`` (through
``__wrapped__``) and ``pickle`` (which stores a function as module and name,
and checks the name leads back to it) see the function the program knows.
A call the original would refuse goes to the original untouched, so the
error (type and text) is its own, raised before any covhook logic.

``functools.wraps`` would do the copying, but this runs in every measured
process before its program: the few attributes are set by hand.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: typing costs every measured process
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])


def dress(wrapper: F, original: Any, module: str | None = None) -> F:
    """``wrapper`` with ``original``'s name, doc and module (or ``module``)."""
    for name in ("__name__", "__qualname__", "__doc__"):
        try:  # contextlib is not imported yet in every process
            setattr(wrapper, name, getattr(original, name))
        except (AttributeError, TypeError):
            pass
    wrapper.__module__ = module or getattr(original, "__module__", None) or wrapper.__module__
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    return wrapper


def install(module: Any, name: str, wrapper: Any) -> None:
    """``module.<name> = wrapper``, and in the module the original names as its home.

    ``os.close`` is ``posix.close`` (``__module__`` ``"posix"``): pickle looks a
    function up by ``__module__`` and name and refuses one that is not there,
    so the wrapper replaces it in both places.
    """
    original = getattr(wrapper, "__wrapped__", None)
    setattr(module, name, wrapper)
    home = sys.modules.get(getattr(original, "__module__", None) or "")
    if home is not None and home is not module and getattr(home, name, None) is original:
        setattr(home, name, wrapper)


def uninstall(module: Any, name: str, wrapper: Any) -> None:
    """Undo :func:`install` (where the wrapper is still in place)."""
    original = getattr(wrapper, "__wrapped__", None)
    home = sys.modules.get(getattr(original, "__module__", None) or "")
    for where in (module, home):
        if where is not None and getattr(where, name, None) is wrapper:
            setattr(where, name, original)


def bind(
    names: Sequence[str], args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The values of required parameters ``names`` (positional or keyword), in order.

    None when the call is not exactly that (a missing, unknown or repeated
    argument): the caller then lets the original raise its own TypeError.
    """
    if len(args) > len(names) or len(args) + len(kwargs) != len(names):
        return None
    try:
        return (*args, *(kwargs[name] for name in names[len(args) :]))
    except KeyError:
        return None


def index(value: Any) -> int | None:
    """``value`` as an int where CPython accepts an integer argument (``__index__``), else None."""
    if type(value) is int:
        return value
    try:
        result = type(value).__index__(value)
    except Exception:
        return None
    return result if type(result) is int else None
