"""Decide at start-up whether, and when, this process measures coverage.

coverage.py's own hook starts coverage in every process that has
``COVERAGE_PROCESS_START``/``COVERAGE_PROCESS_CONFIG``: ~100 ms and a data
file each, even for a helper script or ``pip`` that never runs a line of the
configured ``source``.  When the config names a scope (``source``,
``source_pkgs``, ``source_dirs`` or ``include``), covhook instead waits until
in-scope code is about to run (:mod:`covhook.startup.lazy`) and a process that never
runs any imports nothing of coverage.

This module runs in every process the hook reaches, before anything is
measured, so it reads the config without importing coverage (or ``re``):
the serialized config in ``COVERAGE_PROCESS_CONFIG`` is base64 JSON (checked
in coverage 7.10.4 to 7.17.x), decoded with the C scanner; a config file is
parsed once and the result passed to child processes in ``COVHOOK_SCOPE``.
Whenever the config cannot be read cheaply or names something lazy start
cannot follow (other plugins, greenlet-style concurrency), the answer is the
eager start, which is always correct.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

LAZY_ENV = "COVHOOK_LAZY"
MEASURE_ENV = "COVHOOK_MEASURE"
SKIP_ENV = "COVHOOK_SKIP"
CACHE_ENV = "COVHOOK_SCOPE"
_FALSE = ("0", "false", "no", "off")
_CACHE_VERSION = "1"
# The config values scoping needs, under coverage's CoverageConfig attribute names.
_LIST_KEYS = ("source", "source_pkgs", "source_dirs", "run_include", "plugins", "concurrency")
_FILE_OPTIONS = {
    "source": "source",
    "source_pkgs": "source_pkgs",
    "source_dirs": "source_dirs",
    "run_include": "include",
    "plugins": "plugins",
    "concurrency": "concurrency",
}
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


# --- reading the config cheaply -------------------------------------------------


def read_raw(environ: Mapping[str, str] = os.environ) -> dict[str, Any] | None:
    """The config values scoping needs, or None when they cannot be read cheaply."""
    serialized = environ.get("COVERAGE_PROCESS_CONFIG")
    if serialized:
        return _from_serialized(serialized)
    path = environ.get("COVERAGE_PROCESS_START", "")
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None  # _startup says what is wrong
    key = f"{_CACHE_VERSION}|{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}"
    raw = _from_cache(environ.get(CACHE_ENV, ""), key)
    if raw is None:
        try:
            raw = _from_file(path)
        except Exception:
            return None
        if raw is None:
            return None
        os.environ[CACHE_ENV] = _to_cache(key, raw)
    file_value = environ.get("COVERAGE_FILE")
    if file_value:
        raw["data_file"] = file_value
    return raw


def _from_serialized(text: str) -> dict[str, Any] | None:
    """coverage's ``CoverageConfig.serialize()``: base64 of a JSON object."""
    try:
        import _json
        import binascii

        decoded = binascii.a2b_base64(text.encode("ascii")).decode("utf-8")
        scan = _json.make_scanner(_JsonContext())  # type: ignore[arg-type]
        data, _end = scan(decoded, 0)
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    raw: dict[str, Any] = {k: data.get(k) for k in _LIST_KEYS}
    raw["data_file"] = data.get("data_file")
    options = data.get("plugin_options") or {}
    raw["covhook"] = options.get("covhook") if isinstance(options, dict) else None
    return raw


class _JsonContext:
    """What ``_json.make_scanner`` reads from ``json.JSONDecoder`` (no ``re`` import)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    array_hook = None  # read by 3.15's scanner (issue 21: without it 3.15 never records)
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict[str, str] = {}  # noqa: RUF012


def _from_file(path: str) -> dict[str, Any] | None:
    """``[run]`` values of a .coveragerc / setup.cfg / tox.ini / .toml, as coverage reads them."""
    raw: dict[str, Any] = {}
    if path.endswith(".toml"):
        import tomllib

        with open(path, "rb") as f:
            doc = tomllib.load(f)
        tool = doc.get("tool", {}).get("coverage", {})
        run = tool.get("run") if "run" in tool else doc.get("run", {})
        if not isinstance(run, dict):
            return None
        for attr, option in _FILE_OPTIONS.items():
            value = run.get(option)
            if value is not None:
                raw[attr] = [_substitute(str(v)) for v in _as_list(value)]
        if "data_file" in run:
            raw["data_file"] = _substitute(str(run["data_file"]))
        from covhook.startup.options import read_section

        raw["covhook"] = read_section(path)
    else:
        with open(path, encoding="utf-8") as f:
            sections = parse_ini(f.read())
        if sections is None:
            return None
        for attr, option in _FILE_OPTIONS.items():
            value = _ini_get(sections, "run", option)
            if value is not None:
                raw[attr] = [v.strip() for line in value.split("\n") for v in line.split(",")]
                raw[attr] = [v for v in raw[attr] if v]
        data_file = _ini_get(sections, "run", "data_file")
        if data_file is not None:
            raw["data_file"] = data_file
        # covhook.startup.options.read_section's rule, without configparser.
        own: tuple[str, ...] = ("covhook",)
        if os.path.basename(path) in ("setup.cfg", "tox.ini"):
            own = ("coverage:covhook", "covhook")
        raw["covhook"] = next((dict(sections[n]) for n in own if n in sections), {})
    return raw


def parse_ini(text: str) -> dict[str, dict[str, str]] | None:
    """configparser's reading of an INI file (coverage's: no interpolation), minus ``re``.

    ``import configparser`` (and the ``re`` it needs) would cost every
    out-of-scope process milliseconds.  This covers what coverage config
    files use: sections, ``key = value`` / ``key: value``, indented
    continuation lines, full-line ``#``/``;`` comments.  Anything else
    (a duplicate, a line outside a section, a line without a delimiter)
    returns None, and the caller falls back to the eager start, where
    coverage.py reads the file and reports what is wrong.
    """
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    key: str | None = None
    key_indent = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            if current is not None and key is not None:
                current[key] += "\n"  # kept inside a value, trailing ones stripped below
            continue
        if stripped[0] in "#;":
            continue
        indent = len(line) - len(line.lstrip())
        if current is not None and key is not None and indent > key_indent:
            current[key] += "\n" + stripped
            continue
        if stripped[0] == "[":
            end = stripped.rfind("]")
            if end < 2:
                return None
            name = stripped[1:end]
            if name in sections or name == "DEFAULT":  # DEFAULT values are inherited
                return None
            current = sections[name] = {}
            key = None
            continue
        cuts = [i for i in (stripped.find("="), stripped.find(":")) if i > 0]
        if current is None or not cuts:
            return None
        cut = min(cuts)
        key = stripped[:cut].strip().lower()
        if not key or key in current:
            return None
        current[key] = stripped[cut + 1 :].strip()
        key_indent = indent
    for values in sections.values():
        for name, value in values.items():
            values[name] = value.rstrip()
    return sections


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _ini_get(sections: dict[str, dict[str, str]], section: str, option: str) -> str | None:
    for prefix in ("coverage:", ""):
        value = sections.get(prefix + section, {}).get(option)
        if value is not None:
            return _substitute(value)
    return None


def _substitute(text: str) -> str:
    """coverage.py's ``substitute_variables`` (``$VAR``, ``${VAR-default}``...)."""
    if "$" not in text:
        return text
    import re

    pattern = (
        r"\$(?:(?P<dollar>\$)|(?P<word1>\w+)"
        r"|\{(?P<word2>\w+)(?:(?P<strict>\?)|-(?P<defval>[^}]*))?\})"
    )

    def replace(match: re.Match[str]) -> str:
        word = match.group("dollar") or match.group("word1") or match.group("word2")
        if word == "$":
            return "$"
        if word in os.environ:
            return os.environ[word]
        if match.group("strict"):
            raise ValueError(f"Variable {word} is undefined: {text!r}")
        return match.group("defval") or ""

    return re.sub(pattern, replace, text)


def _to_cache(key: str, raw: Mapping[str, Any]) -> str:
    import marshal

    return key + "\n" + marshal.dumps(dict(raw)).hex()


def _from_cache(value: str, key: str) -> dict[str, Any] | None:
    head, _, body = value.partition("\n")
    if head != key or not body:
        return None
    import marshal

    try:
        raw = marshal.loads(bytes.fromhex(body))
    except Exception:
        return None
    return raw if isinstance(raw, dict) else None


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


def _truthy(raw: object) -> bool:
    return str(raw).strip().lower() not in _FALSE


def _patterns(raw: object) -> list[str]:
    if isinstance(raw, list):
        raw = ",".join(str(p) for p in raw)
    text = str(raw or "")
    return [p.strip() for line in text.split("\n") for p in line.split(",") if p.strip()]


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
    skip = _patterns(environ.get(SKIP_ENV, options.get("skip", "")))
    measure = _patterns(environ.get(MEASURE_ENV, options.get("measure", "")))
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
    raw = environ.get(LAZY_ENV)
    if raw is None:
        raw = scope.options.get("lazy", "true")
    return _truthy(raw) and scope.named and not scope.plugins and not scope.concurrency


def main_in_scope(scope: Scope, orig_argv: list[str]) -> bool:
    """The main script (or pytest) runs from the first line: start at start-up."""
    kind, value = main_target(orig_argv)
    if kind == "module":
        return value.split(".")[0] in _EAGER_PROGRAMS
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


def decide(environ: Mapping[str, str] = os.environ) -> tuple[str, Scope | None, str]:
    """(EAGER | LAZY | SKIP, the scope if read, why) for this process; never raises."""
    try:
        return _decide(environ)
    except Exception as exc:  # a bug here must not cost the user their data
        return EAGER, None, f"scope not decided ({exc!r})"


def _decide(environ: Mapping[str, str]) -> tuple[str, Scope | None, str]:
    raw = read_raw(environ)
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


# --- counting skipped processes -------------------------------------------------


def note_skipped(scope: Scope, why: str) -> None:
    """Append one line to ``<data dir>/.covhook-skipped``; never raise, never create dirs."""
    argv = getattr(sys, "orig_argv", None) or sys.argv
    line = f"{os.getpid()}\t{why}\t{' '.join(argv)[:200]}".replace("\n", " ")
    from covhook import datadir, layout

    # Never through a symlink, never another user's file, never looser than 0644 (issue 8).
    datadir.append_line(layout.skipped_note(scope.data_dir), line)


def skipped_count(data_dir: str) -> int:
    """How many processes the scope skipped (no coverage, no data file) in ``data_dir``."""
    from covhook import layout

    try:
        with open(layout.skipped_note(data_dir), "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def skipped_summary(data_dir: str) -> str | None:
    """The line ``covhook combine`` and the pytest summary print, or None."""
    n = skipped_count(data_dir)
    if not n:
        return None
    return f"covhook: {n} process{'es' if n != 1 else ''} skipped by scope (ran no measured code)"


def forget_skipped(data_dir: str) -> None:
    """Remove the note once reported (like combined data files)."""
    import contextlib

    from covhook import layout

    with contextlib.suppress(OSError):
        os.unlink(layout.skipped_note(data_dir))


def report_skipped(data_dir: str, keep: bool = False) -> None:
    """Print the skipped-by-scope line (if any) and forget the note unless ``keep``."""
    line = skipped_summary(data_dir)
    if line:
        print(line)
        if not keep:
            forget_skipped(data_dir)
