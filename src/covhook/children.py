"""Children started with a scrubbed environment: note them, or measure them on request.

coverage.py's ``patch = subprocess`` puts its configuration in ``os.environ``;
a child started with an explicit environment that leaves it out
(``subprocess.run(..., env={})``) starts without coverage, silently.  covhook
wraps ``_posixsubprocess.fork_exec`` (what ``subprocess.Popen`` calls on
POSIX; the environment is its sixth argument on Python 3.11 to 3.13) and, when
a Python child gets such an environment:

- by default leaves the environment alone (the scrub may be deliberate) and
  records the child in ``<data dir>/.covhook-unmeasured.<pid>.json`` so that
  ``covhook`` can say which children were not measured and why;
- with ``COVHOOK_SCRUBBED_ENV=measure`` (or ``[covhook] scrubbed_env =
  measure``) adds ``COVERAGE_PROCESS_CONFIG`` to that environment, as
  coverage.py's own ``execv`` patch does for ``os.execve``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

ENV = "COVHOOK_SCRUBBED_ENV"
OPTION = "scrubbed_env"
NOTE_PREFIX = ".covhook-unmeasured."
_ENV_INDEX = 5
_KEYS = (b"COVERAGE_PROCESS_CONFIG=", b"COVERAGE_PROCESS_START=")

_data_dir = ""
_measure = False


def mode(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str:
    """``measure`` or ``report``."""
    raw = str(environ.get(ENV) or options.get(OPTION) or "report").strip().lower()
    return "measure" if raw == "measure" else "report"


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
        with contextlib.suppress(Exception):
            args = _adjust(args)
        return original(*args, **kwargs)

    fork_exec.__wrapped__ = original  # type: ignore[attr-defined]
    return fork_exec


def _adjust(args: tuple[Any, ...]) -> tuple[Any, ...]:
    env_list = args[_ENV_INDEX] if len(args) > _ENV_INDEX else None
    config = os.environ.get("COVERAGE_PROCESS_CONFIG")
    if not isinstance(env_list, list) or not config:
        return args
    if any(isinstance(e, bytes) and e.startswith(_KEYS) for e in env_list):
        return args
    executables: Sequence[bytes | str] = args[1] or ()
    argv: Sequence[bytes | str] = args[0] or ()
    candidates = [*executables[:1], *argv[:1]]
    if not any(_is_python(c) for c in candidates):
        return args
    if _measure:
        new = list(args)
        new[_ENV_INDEX] = [*env_list, b"COVERAGE_PROCESS_CONFIG=" + os.fsencode(config)]
        return tuple(new)
    _note([os.fsdecode(a) for a in argv])
    return args


def _note(argv: list[str]) -> None:
    """Append one JSON line about an unmeasured child; never raise."""
    if not _data_dir:
        return
    import json

    line = json.dumps(
        {
            "parent_pid": os.getpid(),
            "argv": argv[:8],
            "why": "started with an explicit environment without COVERAGE_PROCESS_CONFIG",
            "fix": f"pass os.environ's COVERAGE_PROCESS_CONFIG to the child, or set {ENV}=measure",
        }
    )
    from covhook import datadir

    # The data dir may be shared: never through a symlink, never another user's file.
    datadir.append_line(os.path.join(_data_dir, f"{NOTE_PREFIX}{os.getpid()}.json"), line)


def install(data_dir: str, options: Mapping[str, Any]) -> None:
    """Wrap ``fork_exec`` (before or after ``subprocess`` was imported)."""
    global _data_dir, _measure
    import _posixsubprocess

    _data_dir = data_dir
    _measure = mode(options) == "measure"
    current = _posixsubprocess.fork_exec
    if getattr(current, "__wrapped__", None) is None:
        _posixsubprocess.fork_exec = _wrap(current)
    sub = sys.modules.get("subprocess")
    if sub is not None and getattr(sub, "_fork_exec", None) is current:
        sub._fork_exec = _posixsubprocess.fork_exec  # type: ignore[attr-defined]


def unmeasured(directory: str) -> list[dict[str, Any]]:
    """Every note left in ``directory``: children that ran without coverage, and why."""
    import json

    found: list[dict[str, Any]] = []
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith(NOTE_PREFIX))
    except OSError:
        return found
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                found.extend(json.loads(line) for line in f if line.strip())
        except (OSError, ValueError):
            continue
    return found


def forget(directory: str) -> None:
    """Remove the notes once they have been reported (like combined data files)."""
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if name.startswith(NOTE_PREFIX):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))
