"""Which files the recorder traces: coverage.py's own rules, without importing coverage.

The recorder (:mod:`.recorder`) must trace exactly the files coverage.py's
``InOrOut`` would (coverage/inorout.py, coverage/files.py, 7.10-7.17):

- ``[run] source`` entries that are directories (relative to the cwd) and
  ``source_dirs`` trace the files under them; the other ``source`` entries and
  ``source_pkgs`` are importable names that trace the modules whose name is
  the package or below it (``name_for_module``: ``__name__``, the ``-m`` spec
  name, or the file's stem for a ``__main__`` script);
- a file in a third-party location (sysconfig's platlib/purelib/scripts of
  every scheme, and every ``sys.path`` entry inside a venv; coverage 7.10:
  only the ``posix_*`` schemes, read from the installed coverage's
  inorout.py by :func:`third_party_rule`) is traced only if
  it is inside a source directory or a source package's location that is
  itself in such a location ("source in third-party": an installed package
  named by path or by name, an editable install's finder location);
- without any source, ``include`` globs decide; with a source they are ignored;
- ``omit`` globs drop files; a file whose name cannot be encoded to UTF-8 is
  never traced;
- at save, the not-executed files: each imported source package's directory,
  then each source directory (``find_python_files``), minus omitted ones.

The globs are coverage.py's (``prep_patterns`` then ``GlobMatcher``:
``globs_to_regex``), reproduced here without ``re`` (importing it costs a
measured process milliseconds) and compared with coverage's own matcher in
tests/test_sources_match.py.  What is not reproduced raises ``ValueError``
with the reason, and the recorder steps aside for coverage.py.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import FrameType
    from typing import Any


def canonical(path: str) -> str:
    """coverage.files.canonical_filename (POSIX): relative names are looked up on sys.path."""
    if not os.path.isabs(path):
        for top in [os.curdir, *sys.path]:
            candidate = os.path.join(top, path)
            if os.path.exists(candidate):
                path = candidate
                break
    return os.path.abspath(os.path.realpath(path))


def abs_file(path: str) -> str:
    """coverage.files.abs_file (POSIX)."""
    return os.path.abspath(os.path.realpath(path))


def _inside(path: str, top: str) -> bool:
    """TreeMatcher.match for one (already absolute) tree."""
    return path == top or (path.startswith(top) and path[len(top)] == os.sep)


def _in_any(path: str, tops: Iterable[str]) -> bool:
    return any(_inside(path, top) for top in tops)


# --- globs -------------------------------------------------------------------------

# Tokens of coverage.files._glob_to_regex, as matcher steps.
_ANY_PREFIX = "any-prefix"  # (.*[/\\])?
_SLASH_REST = "slash-rest"  # [/\\].*
_SLASH = "slash"  # [/\\]
_STAR = "star"  # [^/\\]*
_ONE = "one"  # [^/\\]
_LIT = "lit"
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

Step = tuple[str, str]


def _glob_steps(pattern: str) -> list[Step]:
    """coverage.files._glob_to_regex as matcher steps; ValueError where it raises or uses [..].

    Its tokens, tried in order at each position: ``***``, ``x**``, ``**x``
    and ``**/**`` are errors; ``^*/`` and ``**/`` match any prefix ending in a
    slash (or nothing); ``/*$`` any slash-suffix; ``/`` either slash; ``*`` any
    non-slashes; ``?`` one non-slash; words and other characters themselves.
    """
    if "\n" in pattern:
        raise ValueError("omit/include pattern with a newline")
    pattern = pattern.replace("\\", "/")
    if "/" not in pattern:
        pattern = f"**/{pattern}"
    steps: list[Step] = []
    pos = 0
    n = len(pattern)
    while pos < n:
        rest = pattern[pos:]
        stars = len(rest) - len(rest.lstrip("*"))
        if stars >= 3 or (rest[0] != "/" and "**" in rest.split("/", 1)[0][1:]):
            raise ValueError(f"omit/include pattern {pattern!r} has *** or x**")
        if stars == 2 and rest[2:3] not in ("", "/"):
            raise ValueError(f"omit/include pattern {pattern!r} has **x")
        if rest.startswith("**/**"):
            raise ValueError(f"omit/include pattern {pattern!r} has **/**")
        if pos == 0 and stars and rest[stars : stars + 1] == "/":
            steps.append((_ANY_PREFIX, ""))  # ^\*+/
            pos += stars + 1
        elif rest[0] == "/" and rest[1:] and not rest[1:].strip("*"):
            steps.append((_SLASH_REST, ""))  # /\*+$
            pos = n
        elif rest.startswith("**/"):
            steps.append((_ANY_PREFIX, ""))
            pos += 3
        elif rest[0] in "/*?":
            steps.append(({"/": _SLASH, "*": _STAR, "?": _ONE}[rest[0]], ""))
            pos += 1
        elif rest[0] in "[]":
            raise ValueError(f"omit/include pattern {pattern!r} has [ or ] (not reproduced)")
        else:
            end = pos + 1
            if rest[0] in _WORD:
                while end < n and pattern[end] in _WORD:
                    end += 1
            steps.append((_LIT, pattern[pos:end]))
            pos = end
    return steps


def _match(steps: list[Step], i: int, text: str, j: int) -> bool:
    """``re.match(rx + r"\\Z", text)`` for the steps of one pattern (backtracking)."""
    while i < len(steps):
        kind, lit = steps[i]
        if kind == _LIT:
            if not text.startswith(lit, j):
                return False
            j += len(lit)
        elif kind == _SLASH:
            if j >= len(text) or text[j] not in "/\\":
                return False
            j += 1
        elif kind == _ONE:
            if j >= len(text) or text[j] in "/\\":
                return False
            j += 1
        elif kind == _STAR:
            end = j
            while end < len(text) and text[end] not in "/\\":
                end += 1
            return any(_match(steps, i + 1, text, k) for k in range(end, j - 1, -1))
        elif kind == _SLASH_REST:
            # [/\\].* then \Z: "." is any character but a newline.
            return j < len(text) and text[j] in "/\\" and "\n" not in text[j + 1 :]
        else:  # _ANY_PREFIX: nothing, or .* (no newline) ending in a slash
            if _match(steps, i + 1, text, j):
                return True
            k = j
            while k < len(text) and text[k] != "\n":
                if text[k] in "/\\" and _match(steps, i + 1, text, k + 1):
                    return True
                k += 1
            return False
        i += 1
    return j == len(text)


def prep_patterns(patterns: Iterable[str]) -> list[str]:
    """coverage.files.prep_patterns."""
    prepped = []
    for p in patterns or []:
        prepped.append(p)
        if not p.startswith(("*", "?")):
            prepped.append(abs_file(p))
    return prepped


def glob_matcher(patterns: Iterable[str]) -> Callable[[str], bool] | None:
    """``GlobMatcher(prep_patterns(patterns)).match`` (POSIX: case-sensitive), or None."""
    compiled = [_glob_steps(p) for p in prep_patterns(patterns)]
    if not compiled:
        return None

    def match(path: str) -> bool:
        return any(_match(steps, 0, path, 0) for steps in compiled)

    return match


# --- third-party locations -------------------------------------------------------


def _in_venv(d: str) -> bool:
    """coverage.inorout._analyze_directory: ``d`` exists and a parent holds pyvenv.cfg."""
    if not os.path.exists(d):
        return False
    while True:
        d = os.path.dirname(d)
        if d == os.path.dirname(d):
            return False
        if os.path.exists(os.path.join(d, "pyvenv.cfg")):
            return True


_SYSCONFIG_THIRD: list[str] = []

# How the installed coverage.py finds third-party locations (coverage/inorout.py):
# VENV_RULE (7.13-7.17): every sysconfig scheme's platlib, purelib and scripts,
# and every sys.path entry inside a venv, again whenever sys.path changes;
# POSIX_RULE (7.10): only the schemes named for os.name ("posix_*"), once.
VENV_RULE = "venv"
POSIX_RULE = "posix"
_RULE_MARKERS = (
    (VENV_RULE, ("detail.venv is not None", "def set_matchers_depending_on_syspath")),
    (POSIX_RULE, ('if os.name in better_scheme.split("_"):',)),
)


def third_party_rule(directory: str | None = None) -> str:
    """Which third-party rule the installed coverage.py has; ValueError if neither."""
    if directory is None:
        from covhook import _compat

        directory = _compat.coverage_dir()
    try:
        with open(os.path.join(directory or "", "inorout.py"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        raise ValueError("coverage.py's inorout.py cannot be read") from None
    found = [rule for rule, markers in _RULE_MARKERS if all(m in text for m in markers)]
    if len(found) != 1:
        raise ValueError("coverage.py's third-party rules are not a known kind")
    return found[0]


def third_paths(rule: str = VENV_RULE) -> set[str]:
    """coverage.inorout's third-party paths, made absolute as TreeMatcher makes them."""
    if not _SYSCONFIG_THIRD:
        import sysconfig

        found = {""}  # not empty once computed
        for scheme in set(sysconfig.get_scheme_names()):
            scheme_paths = sysconfig.get_paths(scheme)
            for name in ("platlib", "purelib", "scripts"):
                if name in scheme_paths:
                    found.add(f"{scheme}\0{scheme_paths[name]}")
        _SYSCONFIG_THIRD.extend(sorted(found))
    result = set()
    for entry in _SYSCONFIG_THIRD:
        if entry:
            scheme, path = entry.split("\0", 1)
            better = "pypy_posix" if scheme == "pypy" else scheme
            if rule == VENV_RULE or os.name in better.split("_"):
                result.add(path)
    if rule == VENV_RULE:
        result.update(d for d in sys.path if _in_venv(d))
    return {abs_file(p) for p in result}


def _install_roots() -> tuple[str, ...]:
    """Where every sysconfig third-party path lies (prefixes, user base): a cheap superset.

    Checked on 3.11-3.13: every scheme's platlib, purelib and scripts is under one of them.
    """
    site = sys.modules.get("site")
    roots = {
        sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
        os.environ.get("PYTHONUSERBASE", ""), getattr(site, "USER_BASE", None) or "",
        os.path.expanduser("~/.local"),
    }  # fmt: skip
    return tuple({os.path.abspath(r) for r in roots if r} | {abs_file(r) for r in roots if r})


def _find_spec_location(pkg: str) -> tuple[str | None, list[str]]:
    """coverage.inorout.file_and_path_for_module for a top-level name (imports nothing).

    ``importlib.util.find_spec`` for a name without a dot: the module's
    ``__spec__`` if imported, else the first spec of ``sys.meta_path``'s
    finders (the path finder, an editable install's finder...).
    """
    try:
        module = sys.modules.get(pkg)
        if module is not None:
            spec = module.__spec__
        else:
            spec = None
            for finder in sys.meta_path:
                find_spec = getattr(finder, "find_spec", None)
                if find_spec is not None:
                    spec = find_spec(pkg, None, None)
                    if spec is not None:
                        break
    except Exception:
        return None, []
    if spec is None:
        return None, []
    return spec.origin, list(spec.submodule_search_locations or ())


def source_for_file(filename: str) -> str:
    """coverage.python.source_for_file (POSIX)."""
    if filename.endswith(".py"):
        return filename
    if filename.endswith((".pyc", ".pyo")):
        return filename[:-1]
    return filename


def canonical_path(morf: str) -> str:
    """coverage.inorout.canonical_path for a file name."""
    path = canonical(source_for_file(morf))
    if path.endswith("__init__.py"):
        path = os.path.split(path)[0]
    return path


# --- module names ------------------------------------------------------------------


def _module_suffixes() -> list[str]:
    """importlib.machinery.all_suffixes(), longest first (inspect.getmodulename's order)."""
    from covhook import _compat

    found = [".py", ".pyc", *_compat.extension_suffixes()]
    return [s for _n, s in sorted((-len(s), s) for s in found)]


def name_for_module(filename: str, frame: FrameType | None) -> str | None:
    """coverage.inorout.name_for_module."""
    module_globals = frame.f_globals if frame is not None else {}
    dunder_name = module_globals.get("__name__", None)
    if isinstance(dunder_name, str) and dunder_name != "__main__":
        return dunder_name
    spec = module_globals.get("__spec__", None)
    if spec:
        fullname = spec.name
        if isinstance(fullname, str) and fullname != "__main__":
            return fullname
    base = os.path.basename(filename)
    for suffix in _module_suffixes():
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return dunder_name


def _module_match(name: str | None, pkgs: tuple[str, ...]) -> bool:
    """coverage.files.ModuleMatcher.match."""
    if not name:
        return False
    return any(name == m or (name.startswith(m) and name[len(m)] == ".") for m in pkgs)


# --- the whole decision ------------------------------------------------------------


class Sources:
    """What one recording traces: coverage.py's InOrOut for the settings the recorder takes."""

    def __init__(self, config: dict[str, Any] | Any, cwd: str) -> None:
        """ValueError with the reason for what is not reproduced here."""
        dirs: list[str] = []
        pkgs: list[str] = []
        for src in config.get("source_dirs") or []:
            if not isinstance(src, str) or not os.path.isdir(os.path.join(cwd, src)):
                raise ValueError("source_dirs entry that is not a directory")
            dirs.append(src)
        for src in config.get("source") or []:
            if not isinstance(src, str):
                raise ValueError("source entry that is not a string")
            (dirs if os.path.isdir(os.path.join(cwd, src)) else pkgs).append(src)
        for src in config.get("source_pkgs") or []:
            if not isinstance(src, str):
                raise ValueError("source_pkgs entry that is not a string")
            pkgs.append(src)
        self.dirs = tuple(canonical(d) for d in dirs)
        if any(os.path.dirname(d) == d for d in self.dirs):
            raise ValueError("source directory that is a file system root")
        for pkg in pkgs:
            if not pkg or "." in pkg or "/" in pkg or os.sep in pkg:
                # coverage.py imports the parent package of a dotted name to find it.
                raise ValueError(f"source package {pkg!r} that is not a top-level name")
        self.pkgs = tuple(pkgs)
        self.include = None
        if not self.dirs and not self.pkgs:
            self.include = glob_matcher(config.get("run_include") or [])
            if self.include is None:
                raise ValueError("no source and no include")
        self.omit = glob_matcher(config.get("run_omit") or [])
        # Third-party locations (coverage's "third_match"), decided cheaply:
        # a path under a sys.path entry inside a venv is third-party; one under
        # none of the install roots is not; only otherwise the sysconfig paths
        # of every scheme are needed (import sysconfig: milliseconds).
        self.rule = third_party_rule()
        self._roots = _install_roots()
        self._full: set[str] | None = None
        self._venv_entries: list[str] = []
        self._last_sys_path: list[str] = []
        self.source_in_third: list[str] = []
        self._sys_path_changed()

    def _sys_path_changed(self) -> None:
        """coverage.inorout.InOrOut.set_matchers_depending_on_syspath."""
        self._last_sys_path = list(sys.path)
        self._full = None
        if self.rule == VENV_RULE:
            self._venv_entries = [abs_file(d) for d in sys.path if _in_venv(d)]
        found: list[str] = []
        for pkg in self.pkgs:
            modfile, path = _find_spec_location(pkg)
            if modfile:
                if self.in_third(abs_file(modfile)):
                    found.append(canonical_path(modfile))
            else:
                found.extend(p for p in path if self.in_third(abs_file(p)))
        found.extend(d for d in self.dirs if self.in_third(d))
        self.source_in_third = [abs_file(p) for p in found]

    def in_third(self, path: str) -> bool:
        """coverage's ``third_match.match(path)`` for an absolute, real path."""
        if _in_any(path, self._venv_entries):
            return True
        if not _in_any(path, self._roots):
            return False
        if self._full is None:
            self._full = third_paths(self.rule)
        return _in_any(path, self._full)

    def traced(self, filename: str, frame: FrameType | None) -> bool:
        """coverage.inorout.InOrOut.check_include_omit_etc for a canonical file name."""
        if self.rule == VENV_RULE and sys.path != self._last_sys_path:
            self._sys_path_changed()
        if self.include is None:
            ok = bool(self.pkgs) and _module_match(name_for_module(filename, frame), self.pkgs)
            if not ok and not _in_any(filename, self.dirs):
                return False
            if not _in_any(filename, self.source_in_third) and self.in_third(filename):
                return False
        elif not self.include(filename):
            return False
        if self.omit is not None and self.omit(filename):
            return False
        try:
            filename.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True

    def omitted(self, path: str) -> bool:
        return self.omit is not None and self.omit(path)

    def unexecuted_roots(self) -> Iterator[str]:
        """The trees of coverage.inorout.InOrOut.find_possibly_unexecuted_files, in its order."""
        for pkg in self.pkgs:
            mod = sys.modules.get(pkg)
            dunder_file = getattr(mod, "__file__", None) if mod is not None else None
            if dunder_file is None or not os.path.exists(dunder_file):
                continue
            yield canonical_path(str(dunder_file))
        yield from self.dirs
