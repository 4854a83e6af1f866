"""Children started with a scrubbed environment: note them, or measure them on request.

coverage.py's ``patch = subprocess`` puts its configuration in ``os.environ``;
a child started with an explicit environment that leaves it out
(``subprocess.run(..., env={})``) starts without coverage, silently.  covhook
wraps the two ways ``subprocess.Popen`` starts a child on POSIX:
``_posixsubprocess.fork_exec`` (the environment is its sixth argument on
Python 3.11 to 3.13) and ``os.posix_spawn`` / ``os.posix_spawnp`` (used
instead whenever it can be: on 3.13 that is the default), and, when a Python
child gets such an environment:

- by default leaves the environment alone (the scrub may be deliberate) and
  records the child in ``<data dir>/.covhook-unmeasured.<pid>.json``
  (:mod:`covhook.notes`) so that
  ``covhook`` can say which children were not measured and why;
- with ``COVHOOK_SCRUBBED_ENV=measure`` (or ``[covhook] scrubbed_env =
  measure``) adds ``COVERAGE_PROCESS_CONFIG`` to that environment, as
  coverage.py's own ``execv`` patch does for ``os.execve``.

A Python child started with ``-S`` (``python -S``, ``-IS``, ``-Sc ...``) is
never measured, whatever its environment: without ``site`` no ``.pth`` file
runs, neither covhook's hook nor coverage's own.  Such children are noted too
(the note's ``kind`` is ``site-disabled``).  ``-I`` is not noted: it ignores
``PYTHON*`` variables and the user's site-packages, but site-packages' ``.pth``
files still run and ``COVERAGE_PROCESS_CONFIG`` still reaches the hook.
"""

from __future__ import annotations

import os
import sys

from covhook import _compat, startup

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (issue 9: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

ENV = "COVHOOK_SCRUBBED_ENV"
OPTION = "scrubbed_env"
_ENV_INDEX = _compat.FORK_EXEC_ENV_INDEX
_KEYS = (b"COVERAGE_PROCESS_CONFIG=", b"COVERAGE_PROCESS_START=")

_data_dir = ""
_measure = False


def mode(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str:
    """``measure`` or ``report``."""
    from covhook import settings

    return str(settings.value("scrubbed_env", options, environ, problems=[]))


def _is_python(executable: bytes | str) -> bool:
    name = os.path.basename(os.fsdecode(executable))
    if name.startswith(("python", "pypy")):
        return True
    try:
        return os.path.realpath(os.fsdecode(executable)) == os.path.realpath(sys.executable)
    except (OSError, ValueError):
        return False


def _wrap(original: Callable[..., int]) -> Callable[..., int]:
    def fork_exec(*args: Any, **kwargs: Any) -> int:
        try:
            args = _adjust(args)
        except Exception:
            pass
        return original(*args, **kwargs)

    return startup.dress(fork_exec, original)


def _adjust(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``fork_exec``'s arguments, with COVERAGE_PROCESS_CONFIG added when wanted."""
    env_list = args[_ENV_INDEX] if len(args) > _ENV_INDEX else None
    executables: Sequence[bytes | str] = args[1] or ()
    argv: Sequence[bytes | str] = args[0] or ()
    if not isinstance(env_list, list):  # the child inherits our environment
        if site_disabled(argv):  # cheap first: most children are not "... -S ..."
            _config_to_add(list(os.environ), [*executables[:1], *argv[:1]], argv)
        return args
    keys = [e.split(b"=", 1)[0] for e in env_list if isinstance(e, bytes)]
    config = _config_to_add(keys, [*executables[:1], *argv[:1]], argv)
    if config is None:
        return args
    new = list(args)
    new[_ENV_INDEX] = [*env_list, b"COVERAGE_PROCESS_CONFIG=" + os.fsencode(config)]
    return tuple(new)


def _config_to_add(
    keys: Sequence[bytes | str], candidates: Sequence[bytes | str], argv: Sequence[bytes | str]
) -> str | None:
    """The config to add to a child's explicit environment, or None (noting the child)."""
    config = os.environ.get("COVERAGE_PROCESS_CONFIG")
    if not config:
        return None
    if not any(_is_python(c) for c in candidates):
        return None
    if site_disabled(argv):
        _note([os.fsdecode(a) for a in argv], site=True)
        return None
    if any(os.fsencode(k) + b"=" in _KEYS for k in keys):
        return None
    if _measure:
        return config
    _note([os.fsdecode(a) for a in argv], site=False)
    return None


def site_disabled(argv: Sequence[bytes | str]) -> bool:
    """Whether a Python command line has ``-S`` among the interpreter's own options."""
    rest = iter(argv[1:])
    for raw in rest:
        arg = os.fsdecode(raw)
        if arg == "--" or not arg.startswith("-") or arg == "-":
            return False  # the script (or stdin) and its arguments follow
        if arg.startswith("--"):
            if arg == "--check-hash-based-pycs":
                next(rest, None)
            continue
        for i, flag in enumerate(arg[1:], 1):
            if flag == "S":
                return True
            if flag in "cm":
                return False  # the rest is the code or module, then its arguments
            if flag in "WX":
                if i == len(arg) - 1:
                    next(rest, None)  # the value is the next argument
                break
    return False


def _wrap_spawn(original: Callable[..., int]) -> Callable[..., int]:
    """``os.posix_spawn(path, argv, env, /, ...)``; ``subprocess`` uses it where it can.

    A call the original refuses (not three positional arguments, an ``argv``
    that is not a list or tuple, an ``env`` without ``keys``) reaches it
    unchanged, for its own error.  The caller's ``env`` is never changed: a
    new dict is passed when the configuration is added.
    """

    def posix_spawn(*args: Any, **kwargs: Any) -> int:
        if len(args) == 3 and isinstance(args[1], (list, tuple)) and hasattr(args[2], "keys"):
            path, argv, env = args
            try:
                keys = list(env.keys())
                config = _config_to_add(keys, [path, *argv[:1]], list(argv))
                if config is not None:
                    bytes_keys = any(isinstance(k, bytes) for k in keys)
                    key = b"COVERAGE_PROCESS_CONFIG" if bytes_keys else "COVERAGE_PROCESS_CONFIG"
                    value = os.fsencode(config) if bytes_keys else config
                    args = (path, argv, {**env, key: value})
            except Exception:
                pass
        return original(*args, **kwargs)

    return startup.dress(posix_spawn, original)


def _wrap_exec(
    name: str, inner: Callable[..., Any], real: Callable[..., Any]
) -> Callable[..., Any]:
    """coverage.py's ``execv`` or ``_exit`` patch, called the way it expects.

    Those patches (and covhook's copies of them for the lean start and the
    atomic saves) take ``env`` as the last positional argument and add
    ``COVERAGE_PROCESS_CONFIG`` to it in place: keywords raised IndexError,
    a read-only mapping TypeError, and a failed ``execve`` left the variable
    in the caller's dict.  Here the call is bound like the real function's
    (:data:`_PARAMETERS`), ``execve``'s patch gets a private dict copy made
    the way ``execve`` reads a mapping (``keys()`` then ``values()``), and a
    call the real function would refuse goes straight to it, for its own
    error (and without a save: the process goes on).
    """
    names, positional_only = _PARAMETERS[name]

    def exec_or_exit(*args: Any, **kwargs: Any) -> Any:
        bound = None if positional_only and kwargs else startup.bind(names, args, kwargs)
        if bound is not None and name == "execve":
            env = _env_copy(bound[2])
            bound = None if env is None else (bound[0], bound[1], env)
        if bound is None:
            return real(*args, **kwargs)
        return inner(*bound)

    return startup.dress(exec_or_exit, real)


_PARAMETERS = {
    "execv": (("path", "argv"), True),
    "execve": (("path", "argv", "env"), False),
    "_exit": (("status",), False),
}


def _env_copy(env: Any) -> dict[Any, Any] | None:
    """A new dict with ``env``'s items, read as ``execve`` reads them; None if it cannot be."""
    if type(env) is dict:
        return dict(env)
    try:
        keys, values = list(env.keys()), list(env.values())
        return dict(zip(keys, values, strict=True))
    except Exception:
        return None  # execve raises its own error for it


def _guard_exec() -> None:
    """Put :func:`_wrap_exec` around the patches of ``os.execv``, ``execve`` and ``_exit``."""
    posix = sys.modules.get("posix")
    for name in _PARAMETERS:
        real, current = getattr(posix, name, None), getattr(os, name, None)
        if real is None or current is None or current is real:
            continue
        if getattr(current, "__name__", "") in _compat.EXEC_PATCH_NAMES:
            startup.install(os, name, _wrap_exec(name, current, real))


def _note(argv: list[str], site: bool) -> None:
    """Note an unmeasured child (:mod:`covhook.notes`, imported only when one is noted)."""
    if not _data_dir:
        return
    from covhook import notes

    notes.note_child(_data_dir, argv, notes.SITE_DISABLED if site else notes.SCRUBBED)


def install(data_dir: str, options: Mapping[str, Any]) -> None:
    """Wrap ``fork_exec`` (before or after ``subprocess`` was imported)."""
    global _data_dir, _measure
    _data_dir = data_dir
    _measure = mode(options) == "measure"
    module = _compat.fork_exec_module()
    current = module.fork_exec
    if getattr(current, "__wrapped__", None) is None:
        module.fork_exec = _wrap(current)
    _compat.rebind_subprocess_fork_exec(current, module.fork_exec)
    for name in ("posix_spawn", "posix_spawnp"):
        spawn = getattr(os, name, None)
        if spawn is not None and getattr(spawn, "__wrapped__", None) is None:
            startup.install(os, name, _wrap_spawn(spawn))
    _guard_exec()


def __getattr__(name: str) -> Any:
    """The notes' old names here (``unmeasured``, ``forget``): :mod:`covhook.notes` owns them."""
    if name in ("unmeasured", "forget", "SCRUBBED", "SITE_DISABLED"):
        from covhook import notes

        return getattr(notes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
