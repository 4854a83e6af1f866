"""Decide at start-up whether, and when, this process measures coverage.

coverage.py's own hook starts coverage in every process that has
``COVERAGE_PROCESS_START``/``COVERAGE_PROCESS_CONFIG``: ~100 ms and a data
file each, even for a helper script or ``pip`` that never runs a line of the
configured ``source``.  When the config names a scope (``source``,
``source_pkgs``, ``source_dirs`` or ``include``), covhook instead waits until
in-scope code is about to run (:mod:`covhook.startup.lazy`) and a process that never
runs any imports nothing of coverage.

This module runs in every process the hook reaches, before anything is
measured; it decides from what :mod:`covhook.startup.config` read (without
importing coverage or ``re``).  Whenever the config cannot be read cheaply or
names something lazy start cannot follow (other plugins, greenlet-style
concurrency), the answer is the eager start, which is always correct.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from covhook.startup.config import Config

# The table's variables (covhook.settings), named for `covhook doctor`.
LAZY_ENV = "COVHOOK_LAZY"
MEASURE_ENV = "COVHOOK_MEASURE"
SKIP_ENV = "COVHOOK_SKIP"
# Eager start: pytest itself (its plugin reports on the run from start-up).
_EAGER_PROGRAMS = ("pytest", "py.test")

EAGER = "eager"
LAZY = "lazy"
SKIP = "skip"


class Scope:
    """What the config says to measure, resolved against this process's cwd."""

    def __init__(self, raw: Mapping[str, Any], cwd: str) -> None:
        self.cwd = cwd
        self.options: dict[str, Any] = dict(raw.get("covhook") or {})
        self.plugins = [p for p in raw.get("plugins") or [] if p != "covhook"]
        self.concurrency = [c for c in raw.get("concurrency") or [] if c != "thread"]
        dirs = [str(d) for d in raw.get("source_dirs") or []]
        pkgs = [str(p) for p in raw.get("source_pkgs") or []]
        for src in raw.get("source") or []:
            (dirs if os.path.isdir(os.path.join(cwd, src)) else pkgs).append(str(src))
        self.pkgs = tuple(pkgs)
        absolute = [os.path.normpath(os.path.join(cwd, os.path.expanduser(d))) for d in dirs]
        real = [os.path.realpath(d) for d in absolute]
        self.dirs = tuple(d.rstrip(os.sep) + os.sep for d in {*absolute, *real})
        self.include: tuple[str, ...] = ()
        if not dirs and not pkgs:
            self.include = tuple(_prep_pattern(p, cwd) for p in raw.get("run_include") or [])
        self.data_file = os.path.join(
            cwd, os.path.expanduser(str(raw.get("data_file") or ".coverage"))
        )
        self._real_dirs: dict[str, str] = {}
        # Whether this process counts as "skipped by scope" if it never measures.
        self.counted = True

    @property
    def named(self) -> bool:
        """The config limits what is measured (else: eager start, as coverage does)."""
        return bool(self.dirs or self.pkgs or self.include)

    @property
    def data_dir(self) -> str:
        return os.path.dirname(self.data_file)

    def name_in_scope(self, name: object) -> bool:
        """``name`` is a module of ``source_pkgs`` (coverage matches frames by ``__name__``)."""
        if not isinstance(name, str) or not self.pkgs:
            return False
        return any(name == p or name.startswith(p + ".") for p in self.pkgs)

    def file_in_scope(self, filename: object) -> bool:
        """Code from ``filename`` may be measured: it is under a source dir or matches include.

        A superset of coverage.py's own test (which also applies ``omit`` and
        third-party rules): starting too early is harmless, too late loses lines.
        """
        if isinstance(filename, bytes):
            filename = os.fsdecode(filename)
        if not isinstance(filename, str) or not filename or filename[0] == "<":
            return False
        if not self.dirs and not self.include:
            return False
        path = os.path.normpath(os.path.join(self.cwd, filename))
        if self._matches(path):
            return True
        head, tail = os.path.split(path)
        real = self._real_dirs.get(head)
        if real is None:
            real = self._real_dirs[head] = os.path.realpath(head)
        return real != head and self._matches(os.path.join(real, tail))

    def _matches(self, path: str) -> bool:
        if self.dirs:
            return path.startswith(self.dirs)
        if self.include:
            from fnmatch import fnmatchcase

            return any(fnmatchcase(path, p) for p in self.include)
        return False

    def stem_in_scope(self, filename: object) -> bool:
        """A ``__main__`` without a spec is named after its file (coverage's rule)."""
        if not isinstance(filename, str) or not self.pkgs:
            return False
        base = os.path.basename(filename)
        return base.endswith(".py") and base[:-3] in self.pkgs

    def spec_in_scope(self, spec: Any) -> bool:
        """A module about to be loaded by the import system is in scope."""
        if self.name_in_scope(getattr(spec, "name", None)):
            return True
        return bool(getattr(spec, "has_location", False)) and self.file_in_scope(
            getattr(spec, "origin", None)
        )

    def code_in_scope(self, filename: object, namespace: Mapping[str, Any] | None) -> bool:
        """Code about to run with ``namespace`` as globals (runpy, exec) is in scope."""
        if self.file_in_scope(filename):
            return True
        if not namespace:
            return False
        name = namespace.get("__name__")
        if name == "__main__":
            spec = namespace.get("__spec__")
            return self.name_in_scope(getattr(spec, "name", None)) or self.stem_in_scope(filename)
        return self.name_in_scope(name)


def _prep_pattern(pattern: str, cwd: str) -> str:
    """coverage.py makes include patterns absolute unless they start with a wildcard."""
    pattern = os.path.expanduser(str(pattern))
    if pattern.startswith(("*", "?")):
        return pattern
    return os.path.normpath(os.path.join(cwd, pattern))


# --- the decision -----------------------------------------------------------------


def main_target(orig_argv: list[str]) -> tuple[str, str]:
    """(kind, value) of what this interpreter runs: script, module, command or stdin."""
    args = orig_argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        if arg.startswith("--"):
            i += 2 if arg == "--check-hash-based-pycs" else 1
            continue
        for j, flag in enumerate(arg[1:], start=1):
            rest = arg[j + 1 :]
            if flag in "cm":
                value = rest or (args[i + 1] if i + 1 < len(args) else "")
                return ("module" if flag == "m" else "command"), value
            if flag in "WX":
                i += 0 if rest else 1
                break
        i += 1
    if i < len(args) and args[i] == "--":
        i += 1
    if i < len(args) and args[i] != "-":
        return "script", args[i]
    return "stdin", ""


def patterns(raw: object) -> list[str]:
    """The patterns of a ``measure``/``skip`` value: comma- or line-separated, or a list."""
    if isinstance(raw, list):
        raw = ",".join(str(p) for p in raw)
    text = str(raw or "")
    return [p.strip() for line in text.split("\n") for p in line.split(",") if p.strip()]


_patterns = patterns  # the old name (covhook doctor's, until its next change)


def rule_subjects(orig_argv: list[str]) -> list[str]:
    """What ``measure``/``skip`` patterns are matched against: main module or script, argv."""
    kind, value = main_target(orig_argv)
    subjects = [" ".join(orig_argv[1:])]
    if kind == "module":
        subjects.append(value)
    elif kind == "script":
        subjects += [value, os.path.basename(value), os.path.abspath(value)]
    return subjects


def explicit_rule(
    options: Mapping[str, Any], orig_argv: list[str], environ: Mapping[str, str] = os.environ
) -> str | None:
    """``skip`` when COVHOOK_SKIP / ``[covhook] skip`` matches, or MEASURE is set and does not."""
    from covhook import settings

    skip = patterns(settings.raw("skip", options, environ, empty_wins=True))
    measure = patterns(settings.raw("measure", options, environ, empty_wins=True))
    if not skip and not measure:
        return None
    from fnmatch import fnmatchcase

    subjects = rule_subjects(orig_argv)

    def hit(patterns: list[str]) -> bool:
        return any(fnmatchcase(s, p) for p in patterns for s in subjects)

    if skip and hit(skip):
        return "skip"
    if measure and not hit(measure):
        return "not in measure"
    return None


def lazy_allowed(scope: Scope, environ: Mapping[str, str] = os.environ) -> bool:
    """Lazy start is on, and nothing in the config needs coverage from the first line."""
    from covhook import settings

    lazy = settings.value("lazy", scope.options, environ, problems=[])
    return bool(lazy) and scope.named and not scope.plugins and not scope.concurrency


def main_in_scope(scope: Scope, orig_argv: list[str]) -> bool:
    """The main script (or pytest) runs from the first line: start at start-up."""
    kind, value = main_target(orig_argv)
    if kind == "module":
        # ``python -m pkg.main``: runpy runs it as __main__, never imported under
        # its own name, so the import hook of lazy start would never see it.
        return value.split(".")[0] in _EAGER_PROGRAMS or scope.name_in_scope(value)
    if kind != "script":
        return False
    if os.path.basename(value) in _EAGER_PROGRAMS:
        return True
    return scope.file_in_scope(value) or scope.stem_in_scope(value)


_TOOLS = ("coverage", "covhook")


def is_coverage_tool(orig_argv: list[str]) -> bool:
    """``coverage report``, ``covhook combine``...: not a process of the user's run."""
    kind, value = main_target(orig_argv)
    if kind == "module":
        return value.split(".")[0] in _TOOLS
    if kind == "script":
        name = os.path.basename(value).split("-")[0].rstrip("0123456789.")
        return name in _TOOLS
    return False


def decide(
    environ: Mapping[str, str] = os.environ, config: Config | None = None
) -> tuple[str, Scope | None, str]:
    """(EAGER | LAZY | SKIP, the scope if read, why) for this process; never raises.

    ``config``: this process's configuration (:mod:`.config`), read here if None.
    """
    try:
        return _decide(environ, config)
    except Exception as exc:  # a bug here must not cost the user their data
        return EAGER, None, f"scope not decided ({exc!r})"


def _decide(environ: Mapping[str, str], config: Config | None) -> tuple[str, Scope | None, str]:
    if config is None:
        from covhook.startup import config as reader

        config = reader.read(environ)
    raw = config.values
    if raw is None:
        return EAGER, None, "config not readable cheaply"
    scope = Scope(raw, os.getcwd())
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    rule = explicit_rule(scope.options, argv, environ)
    if rule is not None:
        return SKIP, scope, rule
    if not lazy_allowed(scope, environ):
        return EAGER, scope, "no scope, or lazy start off"
    if main_in_scope(scope, argv):
        return EAGER, scope, "main is in scope"
    scope.counted = not is_coverage_tool(argv)
    return LAZY, scope, "waiting for in-scope code"


# --- counting skipped processes: the note is covhook.notes' ------------------------


def note_skipped(scope: Scope, why: str) -> None:
    """Note this process in ``<data dir>/.covhook-skipped``; never create dirs."""
    from covhook import notes

    notes.note_skipped(scope.data_dir, why)


def __getattr__(name: str) -> Any:
    """The note's old names here (``skipped_count``...): :mod:`covhook.notes` owns them."""
    if name in ("skipped_count", "skipped_summary", "forget_skipped"):
        from covhook import notes

        return getattr(notes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
