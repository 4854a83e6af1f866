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
    from typing import Any

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
    found = _why_not_recorder(environ, checked, cwd or os.getcwd())
    if found is None:
        return RECORDER, "the configuration is simple enough for coverage.py's C tracer alone"
    reason, fix = found
    if full == COVERAGE:
        reason += "; COVHOOK_LEAN=0: all of coverage.py is imported"
    return full, said(reason, fix)


def refusing_variable(environ: Mapping[str, str]) -> str | None:
    """The variable that keeps the recorder from a process of ``environ``, or None.

    The same checks as ``recorder.prepare()`` makes on the environment
    (``COVHOOK_RECORDER=0``, coverage.py's debug and core variables,
    covhook's periodic flush), for ``covhook status`` and ``covhook doctor``.
    """
    if not recorder.wanted(environ):
        return "COVHOOK_RECORDER"
    for name in recorder._REFUSE_ENV:
        if environ.get(name):
            return name
    if recorder._refused(environ):
        return "COVHOOK_FLUSH_SECONDS"
    return None


# --- the reasons, phrased once for status (explain) and doctor (decide) ---------------
# Each is (reason, the setting to change or "" when there is none).


def said(reason: str, fix: str) -> str:
    """One reason as both commands print it: "reason. Fix: setting"."""
    return f"{reason}. Fix: {fix}" if fix else reason


def variable_reason(variable: str) -> tuple[str, str]:
    """An environment variable keeps the recorder away (:func:`refusing_variable`)."""
    if variable == "COVHOOK_RECORDER":
        return "COVHOOK_RECORDER=0 turns the recorder off", "unset COVHOOK_RECORDER"
    if variable == "COVHOOK_FLUSH_SECONDS":
        return "COVHOOK_FLUSH_SECONDS is set", fix_for("flush_seconds")
    return (
        f"{variable} is set (the recorder does only coverage.py's defaults for it)",
        f"unset {variable} in the test environment",
    )


def config_reason(exc: Exception) -> tuple[str, str]:
    """The recorder's plan() refused the configuration (:class:`recorder.Ineligible`)."""
    return f"[run] {exc}", fix_for(str(exc))


def format_reason(version: str | None) -> tuple[str, str]:
    """The installed coverage.py writes a data format the recorder does not know."""
    return (
        f"coverage {version or '(this one)'}'s data format is not one the recorder writes",
        f"use a coverage.py covhook checked ({', '.join(_compat.COVERAGE_CHECKED)})",
    )


def _why_not_recorder(
    environ: Mapping[str, str], checked: tuple[str, ...], cwd: str
) -> tuple[str, str] | None:
    """Why the recorder steps aside for ``environ``: (reason, fix), or None: it records."""
    variable = refusing_variable(environ)
    if variable is not None:
        return variable_reason(variable)
    version = coverage_version()
    if version is None:
        return "coverage.py is not installed", "pip install coverage"
    if checked and _version_key(version) > max(_version_key(v) for v in checked):
        return (
            f"coverage {version} is newer than every version covhook was checked on "
            f"({', '.join(checked)}): the recorder writes only data formats it knows",
            "upgrade covhook, or pin coverage to a checked version",
        )
    directory = _compat.coverage_dir()
    if directory is None or _compat.data_format(directory) is None:
        return format_reason(version)
    from covhook.startup import config

    given = config.recorder_config(config.read(environ), environ)
    if given is None:
        return (
            "no resolved config cached yet for this config file, directory and variables "
            "(the first process starts coverage.py and caches it for the next ones)",
            "",
        )
    try:
        recorder.plan(given[1], cwd)
    except recorder.Ineligible as exc:
        return config_reason(exc)
    except Exception as exc:
        return f"the configuration could not be read ({exc!r})", "check 'coverage debug config'"
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


# --- covhook doctor: the user's config, before any process runs (issue 27) ---------------

FAST = "covhook's recorder"
FULL = "coverage.py's full start"

# The recorder's reason (its start) -> the setting to change.
FIXES = (
    ("plugins", "remove the coverage.py plugins from [run] plugins (covhook's own is fine)"),
    ("dynamic_context", "drop [run] dynamic_context (pytest-cov: --cov-context=test)"),
    ("debug", "drop [run] debug / debug_file and COVERAGE_DEBUG"),
    ("timid", "drop [run] timid and cover_pylib"),
    ("include_namespace_packages", "drop [run] include_namespace_packages"),
    ("core on 3.14+", "set [run] core = ctrace (3.14+ defaults to sys.monitoring)"),
    ("core", "set [run] core = ctrace, or unset it and COVERAGE_CORE"),
    ("concurrency", "use [run] concurrency = thread (or leave it unset)"),
    ("patch", "keep [run] patch to subprocess, _exit and execv"),
    ("sigterm", "drop [run] sigterm (covhook saves on SIGTERM itself)"),
    ("flush_seconds", "unset [covhook] flush_seconds / COVHOOK_FLUSH_SECONDS"),
    ("data_file", "set [run] data_file to a file name"),
    ("no source and no include", "name what to measure: [run] source (or --cov=DIR or PKG)"),
    ("top-level", "name the top-level package, or its directory, in [run] source"),
    ("[ or ]", "write the omit/include pattern without [...] character classes"),
    ("omit/include", "correct the omit/include pattern (see 'coverage debug config')"),
    ("source", "make each [run] source entry a directory or an importable name"),
)


def fix_for(reason: str) -> str:
    """The setting to change for one of the recorder's reasons."""
    for key, fix in FIXES:
        if key in reason:
            return fix
    return "see docs/scoping.md (which configs the recorder takes)"


def decide(
    serialized: str, cwd: str | None = None, environ: Mapping[str, str] = os.environ
) -> tuple[str, str]:
    """(FAST, "") or (FULL, "reason. Fix: setting") for coverage's serialized config (doctor).

    The decision is the recorder's own (:func:`covhook.startup.recorder.plan`),
    made on the config as a measured process gets it (``parallel`` and the
    ``patch`` covhook's start gives every process).
    """
    from covhook.startup import config

    variable = refusing_variable(environ)
    if variable is not None:
        return FULL, said(*variable_reason(variable))
    decoded = config.decode(serialized)
    if decoded is None:
        return FULL, "the coverage config cannot be serialized. Fix: check 'coverage debug config'"
    raw: dict[str, Any] = {**decoded, "parallel": True}
    raw["patch"] = config.effective_patch(decoded.get("patch"))
    try:
        recorder.plan(raw, cwd or os.getcwd())
    except recorder.Ineligible as exc:
        return FULL, said(*config_reason(exc))
    directory = _compat.coverage_dir()
    if not directory or _compat.data_format(directory) is None:
        return FULL, said(*format_reason(coverage_version()))
    return FAST, ""


def doctor_line(path: str, why: str) -> str:
    """doctor's line: yes, or no with the reason and the setting to change."""
    if path == FAST:
        return (
            "covhook doctor: fast path: yes: measured processes start covhook's recorder "
            "(coverage.py's C tracer without importing coverage)"
        )
    return f"covhook doctor: fast path: no: measured processes take {FULL}: {why}"
