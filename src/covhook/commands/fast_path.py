"""Which start a measured process takes for a config, and why: covhook's recorder or coverage.py.

``covhook doctor`` says it for the user's config: the recorder
(:mod:`covhook.startup.recorder`) measures a process for a fraction of
coverage.py's own start, but only for the settings it reproduces exactly;
for the others this names the setting and what to change.  The decision is
the recorder's own (:func:`covhook.startup.recorder.plan`), made on the
config as a measured process gets it (coverage's serialized config, with the
``parallel`` and ``patch`` covhook's start gives every process).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

RECORDER = "covhook's recorder"
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
    """(RECORDER, "") or (FULL, "reason. Fix: setting") for coverage's serialized config."""
    from covhook import _compat
    from covhook.startup import config, recorder

    if not recorder.wanted(environ):
        return FULL, "COVHOOK_RECORDER=0 turns the recorder off. Fix: unset COVHOOK_RECORDER"
    for name in recorder._REFUSE_ENV:
        if environ.get(name):
            return FULL, f"{name} is set. Fix: unset {name} in the test environment"
    if recorder._refused(environ):
        return FULL, "COVHOOK_FLUSH_SECONDS is set. Fix: " + fix_for("flush_seconds")
    decoded = config.decode(serialized)
    if decoded is None:
        return FULL, "the coverage config cannot be serialized. Fix: check 'coverage debug config'"
    raw: dict[str, Any] = {**decoded, "parallel": True}
    raw["patch"] = config.effective_patch(decoded.get("patch"))
    try:
        recorder.plan(raw, cwd or os.getcwd())
    except recorder.Ineligible as exc:
        return FULL, f"[run] {exc}. Fix: {fix_for(str(exc))}"
    directory = _compat.coverage_dir()
    if not directory or _compat.data_format(directory) is None:
        return FULL, (
            "this coverage.py's data format is not one the recorder writes. "
            f"Fix: use a coverage.py covhook checked ({', '.join(_compat.COVERAGE_CHECKED)})"
        )
    return RECORDER, ""


def line(path: str, why: str) -> str:
    """doctor's line: yes, or no with the reason and the setting to change."""
    if path == RECORDER:
        return (
            "covhook doctor: fast path: yes: measured processes start covhook's recorder "
            "(coverage.py's C tracer without importing coverage)"
        )
    return f"covhook doctor: fast path: no: measured processes take {FULL}: {why}"
