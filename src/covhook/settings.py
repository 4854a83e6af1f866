"""Every covhook setting in one table: option, environment variable, type, default, doc.

Start-up, the CLI and the pytest plugin read covhook's settings through this
table only; docs/reference.md's two tables are checked against it
(tests/test_settings.py).  An environment variable wins over the
``[covhook]`` option of the same setting.  An unknown option or a bad value
gives one line ("covhook: ... Fix: ...") and the default is used: a typo
never stops measurement.

Runs at start-up in every measured process: standard library only, no
dataclasses or namedtuple (``collections``), values resolved
once per process (:func:`for_process`).  Start-up reads its variables here
too (``lean``, ``recorder``, ``lazy``, ``skip``...), never from os.environ.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


# Typed for mypy; a small tuple class at run time (typing and collections
# cost every measured process milliseconds to import, issue 9).
if TYPE_CHECKING:
    from typing import NamedTuple

    class Setting(NamedTuple):
        """One row of the table."""

        name: str
        option: str | None  # in [covhook] / [tool.coverage.covhook]; None: environment only
        env: str | None  # None: config file only
        kind: str  # flag, bool, seconds, choice, text, path, number
        default: Any
        doc: str
        choices: tuple[str, ...] = ()
        bounds: tuple[float, float] | None = None  # kind "seconds": the accepted range
        off: str = ""  # what a bad value turns off, said first in its warning

    class Resolved(NamedTuple):
        """The settings a measured process runs with."""

        origin: str | None
        signals: bool
        atomic: bool
        flush_seconds: float | None
        scrubbed_env: str

else:

    def _record(name, fields, defaults=()):
        """A namedtuple-like class without ``import collections``."""
        fields = tuple(fields.split())
        required = len(fields) - len(defaults)

        def __new__(cls, *args, **kwargs):
            values = list(args)
            for i, field in enumerate(fields[len(args) :], len(args)):
                if field in kwargs:
                    values.append(kwargs.pop(field))
                elif i >= required:
                    values.append(defaults[i - required])
                else:
                    raise TypeError(f"{name}() missing {field!r}")
            if kwargs:
                raise TypeError(f"{name}() got unexpected {sorted(kwargs)}")
            return tuple.__new__(cls, values)

        def __repr__(self):
            inner = ", ".join(f"{f}={v!r}" for f, v in zip(fields, self, strict=True))
            return f"{name}({inner})"

        body = {"__slots__": (), "_fields": fields, "__new__": __new__, "__repr__": __repr__}
        for i, field in enumerate(fields):
            body[field] = property(lambda self, i=i: self[i])
        return type(name, (tuple,), body)

    Setting = _record(
        "Setting", "name option env kind default doc choices bounds off", ((), None, "")
    )
    Resolved = _record("Resolved", "origin signals atomic flush_seconds scrubbed_env")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "disable", None, "COVHOOK_DISABLE", "flag", False,
        "`1` (any value but empty or `0`): covhook's hook does nothing",
    ),
    Setting(
        "origin", "origin", "COVHOOK_ORIGIN", "text", None,
        "the place part of every tag (`origin-<value>`) instead of the detected one",
    ),
    Setting(
        "signals", "signals", "COVHOOK_SIGNALS", "bool", True,
        "`false`/`0`: do not save on SIGTERM/SIGINT/SIGHUP, and no wakeup thread (see "
        "processes.md)",
    ),
    Setting(
        "atomic", "atomic", "COVHOOK_ATOMIC", "bool", True,
        "`false`/`0`: write data files in place, not via `.covhook-work/`",
    ),
    Setting(
        "flush_seconds", "flush_seconds", "COVHOOK_FLUSH_SECONDS", "seconds", None,
        "save every N seconds (0.01 to 86400), so SIGKILL loses at most N seconds; `0`: off",
        # Below 0.01 s the flush thread keeps a CPU busy saving; above a day (inf)
        # its wait overflows.
        bounds=(0.01, 86400.0), off="periodic flush is off",
    ),
    Setting(
        "scrubbed_env", "scrubbed_env", "COVHOOK_SCRUBBED_ENV", "choice", "report",
        "`measure`: pass coverage's config into Python children started with a scrubbed "
        "environment; `report`: only note them",
        ("report", "measure"),
    ),
    Setting(
        "lazy", "lazy", "COVHOOK_LAZY", "bool", True,
        "`false`/`0`: start coverage at start-up in every process; by default a process "
        "waits for in-scope code when the config names `source`/`source_pkgs`/"
        "`source_dirs`/`include` (docs/scoping.md)",
    ),
    Setting(
        "skip", "skip", "COVHOOK_SKIP", "text", None,
        "shell patterns (comma or newline separated): never measure a process whose main "
        "module, script or command line matches; counted as skipped by scope",
    ),
    Setting(
        "measure", "measure", "COVHOOK_MEASURE", "text", None,
        "shell patterns: measure only processes whose main module, script or command line "
        "matches; the others are counted as skipped by scope",
    ),
    Setting(
        "test_context", "test_context", "COVHOOK_TEST_CONTEXT", "bool", False,
        "`true`/`1`: under pytest, every process a test starts records its lines under "
        "`<origin>|<test id>|<phase>` (on by itself with pytest-cov's `--cov-context=test` "
        "or `dynamic_context = test_function`; docs/pytest.md)",
    ),
    Setting(
        "test", None, "COVHOOK_TEST", "text", None,
        "set by covhook's pytest plugin while a test runs, with per-test contexts on: "
        "`<test id>|<phase>`, added to the static context of every process started then "
        "(internal)",
    ),
    Setting(
        "test_file", None, "COVHOOK_TEST_FILE", "path", None,
        "set by covhook's pytest plugin with per-test contexts on: a file holding the running "
        "test, read by a measured process when it forks (internal)",
    ),
    Setting(
        "parallel", None, "COVHOOK_PARALLEL", "flag", False,
        "`1`: the first process of a tree writes a parallel, tagged data file too (set by "
        "`covhook run` and `covhook split`); by default, when the `COVERAGE_PROCESS_START` "
        "file leaves `parallel` off, it writes coverage.py's own `data_file` and a copy",
    ),
    Setting(
        "lean", None, "COVHOOK_LEAN", "bool", True,
        "`0`: measuring processes and `covhook combine` import all of coverage.py (by "
        "default its reporters, multiproc and parser load on first use)",
    ),
    Setting(
        "recorder", None, "COVHOOK_RECORDER", "bool", True,
        "`0`: measuring processes always start coverage.py itself (by default a process "
        "whose config is simple records with coverage.py's C tracer, or as its "
        "`sys.monitoring` core does, and writes its data format without importing "
        "coverage.py; see the scoping guide)",
    ),
    Setting(
        "cache_dir", None, "COVHOOK_CACHE_DIR", "path", None,
        "where measuring processes cache the resolved coverage config for the recorder "
        "(default: `$XDG_CACHE_HOME/covhook`, else `~/.cache/covhook`)",
    ),
    Setting(
        "scope_cache", None, "COVHOOK_SCOPE", "text", None,
        "set by covhook for child processes: the scope parsed from the config file "
        "(internal)",
    ),
    Setting(
        "state_dir", None, "COVHOOK_STATE_DIR", "path", None,
        "where `covhook install` records hooks (default: the platformdirs user state dir)",
    ),
    Setting(
        "debug", None, "COVHOOK_DEBUG", "flag", False,
        "`1`: an unexpected error in a `covhook` command also prints its traceback",
    ),
    Setting(
        "split", None, "COVHOOK_SPLIT", "number", None,
        "set by `covhook split`: this split's number (tag role `split-<i>of<n>`)",
    ),
    Setting(
        "splits", None, "COVHOOK_SPLITS", "number", None,
        "set by `covhook split`: the number of splits",
    ),
    Setting(
        "split_run", None, "COVHOOK_SPLIT_RUN", "text", None,
        "set by `covhook split`: the run's id, to find the run's processes left behind",
    ),
    Setting(
        "combine_workers", None, "COVHOOK_COMBINE_WORKERS", "number", None,
        "processes `covhook combine` reads data files with; unset: 2 when 60+ files, fork, "
        "a single-threaded process (not inside pytest or a measured process) and a second "
        "core no other process is running on (Linux: the runnable tasks of this instant; "
        "elsewhere the load average) are there, else 1",
    ),
    Setting(
        "progress_after", None, "COVHOOK_PROGRESS_AFTER", "text", "1",
        "seconds before `covhook combine` shows its progress bar on a terminal",
    ),
    Setting(
        "quiet", None, "COVHOOK_QUIET", "flag", False,
        "`1`: the pytest plugin prints no `covhook:` lines (by default it prints them only "
        "when children were measured, or some ran unmeasured or were skipped by scope)",
    ),
    Setting(
        "combine_wait", None, "COVHOOK_COMBINE_WAIT", "text", "600",
        "seconds a `covhook combine` waits for another one combining in the same data "
        "directory before it gives up (exit 1, nothing combined)",
    ),
    Setting(
        "archive_max_mb", None, "COVHOOK_ARCHIVE_MAX_MB", "number", 4096,
        "MiB that `covhook combine` unpacks from one archive at most (in TMPDIR); `0`: no cap "
        "(reference.md, Archive rules)",
    ),
    Setting(
        "archive_max_ratio", None, "COVHOOK_ARCHIVE_MAX_RATIO", "number", 200,
        "times its own size that one archive may unpack to, past 16 MiB (a zip bomb is "
        "1000x, near-empty data files about 40x); `0`: no ratio",
    ),
)  # fmt: skip

BY_NAME = {s.name: s for s in SETTINGS}
OPTIONS = frozenset(s.option for s in SETTINGS if s.option)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class BadValue(ValueError):
    """A value the setting's type does not accept; ``fix`` says what would."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.fix = fix


def where(setting: Setting, from_env: bool) -> str:
    """How the user spelled the setting: the variable or the option."""
    return str(setting.env) if from_env else f"[covhook] {setting.option}"


def parse(setting: Setting, raw: Any, from_env: bool = True) -> Any:
    """The typed value of ``raw`` for ``setting``, or :class:`BadValue`."""
    name = where(setting, from_env)
    if setting.kind == "flag":
        return str(raw) not in ("", "0")
    if setting.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise BadValue(f"{name} = {raw!r} is not true or false", f"set {name} to 1 or 0")
    if setting.kind == "seconds":
        if raw in ("", "0", 0, None):
            return None
        try:
            seconds = float(raw)
        except (TypeError, ValueError):
            seconds = float("nan")
        low, high = setting.bounds or (0.0, float("inf"))
        if not (low <= seconds <= high and 0 < seconds < float("inf")):  # false for nan
            shown = f"from {low:g} to {high:g}" if setting.bounds else "above 0"
            raise BadValue(
                f"{setting.off + ': ' if setting.off else ''}{name} = {raw!r} is not a number "
                f"of seconds {shown}",
                f"set {name} to a number of seconds such as 5, or unset it",
            )
        return seconds
    if setting.kind == "choice":
        text = str(raw).strip().lower()
        if text not in setting.choices:
            raise BadValue(
                f"{name} = {raw!r} is not one of {', '.join(setting.choices)}",
                f"set {name} to {' or '.join(setting.choices)}",
            )
        return text
    if setting.kind == "number":
        try:
            return int(str(raw))
        except ValueError:
            raise BadValue(f"{name} = {raw!r} is not a whole number", f"unset {name}") from None
    return str(raw) if raw not in ("", None) else None


def value(
    name: str,
    options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
    problems: list[tuple[str, str, str]] | None = None,
) -> Any:
    """One setting's value: the environment, else the option, else the default.

    A bad value gives the default; the problem is appended to ``problems``
    (or warned at once when ``problems`` is None).
    """
    setting = BY_NAME[name]
    raw, from_env = _raw(setting, options, environ)
    if raw is None:
        return setting.default
    try:
        return parse(setting, raw, from_env)
    except BadValue as exc:
        problem = (
            str(exc) if setting.off else f"{exc}; using the default ({describe_default(setting)})"
        )
        if problems is None:
            _warn(problem, exc.fix)
        else:
            problems.append((name, problem, exc.fix))
        return setting.default


def raw(
    name: str,
    options: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] = os.environ,
    empty_wins: bool = False,
) -> Any:
    """One setting's value as written (environment, else option), unparsed; None if unset.

    For values start-up reads as text or lists (``skip`` patterns, the
    worker count of ``covhook combine``).  ``empty_wins``: a variable set
    to nothing still overrides the option (``COVHOOK_SKIP=`` turns a
    configured ``skip`` off).
    """
    setting = BY_NAME[name]
    if empty_wins and setting.env is not None and setting.env in environ:
        return environ[setting.env]
    return _raw(setting, options, environ)[0]


def _raw(
    setting: Setting, options: Mapping[str, Any] | None, environ: Mapping[str, str]
) -> tuple[Any, bool]:
    """(the value as written, whether it came from the environment); an empty value is unset."""
    if setting.env is not None and environ.get(setting.env) not in (None, ""):
        return environ[setting.env], True
    if setting.option is not None and options and options.get(setting.option) not in (None, ""):
        return options[setting.option], False
    return None, False


def describe_default(setting: Setting) -> str:
    if setting.default is None:
        return "off" if setting.kind == "seconds" else "unset"
    if isinstance(setting.default, bool):
        return "true" if setting.default else "false"
    return str(setting.default)


def unknown_options(options: Mapping[str, Any]) -> list[str]:
    """The ``[covhook]`` options the table does not have."""
    return sorted(set(options) - OPTIONS)


def check_options(options: Mapping[str, Any]) -> None:
    """One line naming every unknown ``[covhook]`` option."""
    unknown = unknown_options(options)
    if unknown:
        _warn(
            f"unknown option{'s' if len(unknown) > 1 else ''} in [covhook]: "
            f"{', '.join(unknown)}; ignored",
            f"use only {', '.join(sorted(OPTIONS))} (see docs/reference.md)",
        )


def resolve(
    options: Mapping[str, Any], environ: Mapping[str, str] = os.environ, warn: bool = True
) -> Resolved:
    """Every process setting at once; bad values and unknown options warned (once each)."""
    problems: list[tuple[str, str, str]] = []
    resolved = Resolved(*(value(name, options, environ, problems) for name in Resolved._fields))
    if warn:
        check_options(options)
        for _name, problem, fix in problems:
            _warn(problem, fix)
    return resolved


_process: Resolved | None = None


def for_process(options: Mapping[str, Any]) -> Resolved:
    """The settings of this measured process, resolved (and warned about) once."""
    global _process
    if _process is None:
        _process = resolve(options)
    return _process


def forget() -> None:
    """Resolve again on the next :func:`for_process` (tests; a forked child keeps them)."""
    global _process
    _process = None


def disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """``COVHOOK_DISABLE`` turns covhook off (start-up reads it as ``boot.disabled``)."""
    return bool(value("disable", None, environ))


def _warn(problem: str, fix: str) -> None:
    from covhook._warn import warn

    warn(problem, fix)


def options_markdown() -> str:
    """docs/reference.md's ``[covhook]`` table."""
    rows = ["| option | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        if s.option:
            env = f" (like `{s.env}`, which wins)" if s.env else ""
            rows.append(f"| `{s.option}` | {describe_default(s)} | {s.doc}{env} |")
    return "\n".join(rows) + "\n"


def environment_markdown() -> str:
    """docs/reference.md's covhook environment variables table."""
    rows = ["| variable | default | effect |", "|---|---|---|"]
    for s in SETTINGS:
        if s.env:
            rows.append(f"| `{s.env}` | {describe_default(s)} | {s.doc} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(options_markdown())
    print(environment_markdown())
