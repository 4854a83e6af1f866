"""Which path measures a process of this configuration, and why (issue 21: never silently off).

covhook measures a process one of three ways: the lean recorder
(:mod:`covhook.startup.recorder`: coverage.py's C tracer and data format, no
``import coverage``), coverage.py imported without its reporters
(:mod:`covhook.startup.lean`), or all of coverage.py.  The recorder steps
aside silently in a measuring process (it must never break start-up), so the
reason is told here: ``covhook status`` prints it, ``covhook doctor`` may, and
a measuring process prints it as one line under ``COVHOOK_DEBUG=1``
(:func:`debug_line`).  Runs the same checks as ``recorder.prepare()``, in its
order, but says which one failed.  Only imported when asked: not on the hot path.
"""

from __future__ import annotations

import os
import sys

from covhook import _compat
from covhook.startup import lean, recorder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

RECORDER = "recorder"
LEAN = "lean"
COVERAGE = "coverage.py"
NONE = "none"


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits or 0))
        if not part.isdigit():
            break
    return tuple(parts)


def coverage_version() -> str | None:
    """The installed coverage.py's version, read without importing it (None: not installed)."""
    try:
        from importlib.metadata import version

        return version("coverage")
    except Exception:
        return None


def explain(
    environ: Mapping[str, str] = os.environ,
    checked: tuple[str, ...] = _compat.COVERAGE_CHECKED,
    cwd: str | None = None,
) -> tuple[str, str]:
    """(path, why) for a process started now with ``environ``: recorder, lean, coverage.py or none.

    ``checked``: the coverage versions covhook was checked on (the recorder
    writes only data formats it knows; a newer coverage is said so by name).
    """
    if environ.get("COVHOOK_DISABLE", "") not in ("", "0"):
        return NONE, "COVHOOK_DISABLE is set: covhook's hook is off"
    if not (environ.get("COVERAGE_PROCESS_START") or environ.get("COVERAGE_PROCESS_CONFIG")):
        return NONE, "COVERAGE_PROCESS_START is unset: the hook measures nothing"
    full = LEAN if lean.wanted(environ) else COVERAGE
    why = _why_not_recorder(environ, checked, cwd or os.getcwd())
    if why is None:
        return RECORDER, "the configuration is simple enough for coverage.py's C tracer alone"
    if full == COVERAGE:
        why += "; COVHOOK_LEAN=0: all of coverage.py is imported"
    return full, why


def _why_not_recorder(environ: Mapping[str, str], checked: tuple[str, ...], cwd: str) -> str | None:
    """Why the recorder steps aside for ``environ`` (None: it records)."""
    if not recorder.wanted(environ):
        return "COVHOOK_RECORDER=0"
    refused = [name for name in recorder._REFUSE_ENV if environ.get(name)]
    if refused:
        return f"{refused[0]} is set (the recorder does only coverage.py's defaults for it)"
    version = coverage_version()
    if version is None:
        return "coverage.py is not installed"
    if checked and _version_key(version) > max(_version_key(v) for v in checked):
        return (
            f"coverage {version} is newer than every version covhook was checked on "
            f"({', '.join(checked)}): the recorder writes only data formats it knows. "
            "Fix: upgrade covhook, or pin coverage to a checked version"
        )
    directory = _compat.coverage_dir()
    if directory is None or _compat.data_format(directory) is None:
        return f"coverage {version}'s data format is not one covhook knows"
    from covhook.startup import config

    given = config.recorder_config(config.read(environ), environ)
    if given is None:
        return (
            "no resolved config cached yet for this config file, directory and variables "
            "(the first process starts coverage.py and caches it for the next ones)"
        )
    try:
        recorder.plan(given[1], cwd)
    except recorder.Ineligible as exc:
        return f"the configuration asks for what the recorder does not do ({exc})"
    except Exception as exc:
        return f"the configuration could not be read ({exc!r})"
    return None


def debug_line(measured_by: str) -> None:
    """Under ``COVHOOK_DEBUG=1``: one line on stderr, this process's path and why."""
    try:
        path, why = explain()
        if path != measured_by:
            why = f"{why} (expected {path}: did the program import coverage itself?)"
        sys.stderr.write(f"covhook: debug: pid {os.getpid()} measured by {measured_by}: {why}\n")
    except Exception as exc:  # a debug line must never break start-up
        sys.stderr.write(f"covhook: debug: pid {os.getpid()} measured by {measured_by} ({exc!r})\n")
