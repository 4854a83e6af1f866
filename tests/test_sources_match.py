"""covhook's reproduction of coverage.py's file rules (covhook.startup.sources_match).

The recorder traces without importing coverage, so it reproduces coverage's
glob matcher and module-name rules; here they are compared with coverage.py's
own functions (coverage.files.GlobMatcher, prep_patterns, inorout.name_for_module)
on many patterns and paths, including random ones.  The whole-process proof
that the traced files are the same is tests/test_differential.py.
"""

from __future__ import annotations

import os
import random
import sys
from types import SimpleNamespace

import pytest
from coverage.exceptions import ConfigError
from coverage.files import GlobMatcher, prep_patterns
from coverage.inorout import name_for_module

from covhook.startup import sources_match

PATTERNS = [
    "*/tests/*", "*/test_*.py", "*/__init__.py", "src/pkg/vendor/*", "*.py", "foo.py",
    "*/site-packages/*", "**/conftest.py", "a/**/b.py", "/abs/dir/*", "/abs/dir/**",
    "?ar/*.py", "*", "**/*", "x/*/y", "*/x-y_z/*", "a.b/c+d/*", "*tests*", "*/t?st/**/*.py",
    "dir/", "/abs/*/mod.py", "pkg\\\\win\\\\*", "*.pyw", "**/a/**/b/*", "*~", "a/**",
]  # fmt: skip
PATHS = [
    "/abs/dir/x.py", "/abs/dir/sub/y.py", "/abs/dir", "/r/tests/t.py", "/r/src/test_a.py",
    "/r/pkg/__init__.py", "src/pkg/vendor/v.py", "/p/foo.py", "/p/foo_py",
    "/lib/site-packages/m.py",
    "/r/conftest.py", "conftest.py", "a/b.py", "a/q/r/b.py", "/x/bar/m.py", "/x/car/m.py",
    "x/q/y", "x/q/r/y", "/r/x-y_z/m.py", "/a.b/c+d/e", "/r/mytests/q.py", "/r/test/z/w.py",
    "/r/tst/z/w.py", "dir/", "/abs/k/mod.py", "pkg\\win\\m.py", "pkg/win/m.py", "a.pyw",
    "/r/a/s/b/t.py", "/r/a/b/t.py", "x.py~", "a/", "a/x", "/r/tests/new\nline.py", "",
]  # fmt: skip


def theirs(patterns: list[str]) -> GlobMatcher | None:
    try:
        return GlobMatcher(prep_patterns(patterns))
    except ConfigError:
        return None


def ours(patterns: list[str]) -> object:
    try:
        return sources_match.glob_matcher(patterns)
    except ValueError:
        return None


def test_globs_match_what_coverage_matches(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for pattern in PATTERNS:
        expected = theirs([pattern])
        got = ours([pattern])
        assert expected is not None, pattern
        assert got is not None, pattern
        for path in [*PATHS, *(os.path.join(str(tmp_path), p) for p in PATHS)]:
            assert got(path) == expected.match(path), (pattern, path)  # type: ignore[operator]


def test_globs_refused_where_coverage_refuses() -> None:
    for bad in ["***", "a**/b", "**x/y", "**/**", "x**", "a/[b", "a]"]:
        assert theirs([bad]) is None, bad
        assert ours([bad]) is None, bad
    # Character classes are not reproduced: the recorder steps aside for them.
    assert theirs(["*/[ab].py"]) is not None
    assert ours(["*/[ab].py"]) is None


def test_random_globs_match_what_coverage_matches(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    die = random.Random(27)
    alphabet = ["*", "**", "?", "/", "a", "b", ".", "-", "_", "x1", "\\", "+", " "]
    path_alphabet = ["/", "a", "b", ".", "-", "_", "x1", "\\", "+", " ", "ab"]
    compared = 0
    for _ in range(3000):
        pattern = "".join(die.choice(alphabet) for _ in range(die.randint(1, 7)))
        expected = theirs([pattern])
        got = ours([pattern])
        assert (expected is None) == (got is None), pattern
        if expected is None:
            continue
        for _ in range(20):
            path = "".join(die.choice(path_alphabet) for _ in range(die.randint(0, 9)))
            assert got(path) == expected.match(path), (pattern, path)  # type: ignore[operator]
            compared += 1
    assert compared > 20000


def test_module_names_as_coverage_names_them() -> None:
    cases = [
        ({"__name__": "pkg.mod"}, "/x/pkg/mod.py"),
        ({"__name__": "__main__", "__spec__": SimpleNamespace(name="pkg.cli")}, "/x/pkg/cli.py"),
        ({"__name__": "__main__", "__spec__": None}, "/x/tool.py"),
        ({"__name__": "__main__"}, "/x/ext" + ".cpython-311-x86_64-linux-gnu.so"),
        ({"__name__": "__main__"}, "/x/noext"),
        ({}, "/x/mod.pyc"),
    ]
    for f_globals, filename in cases:
        frame = SimpleNamespace(f_globals=f_globals)
        assert sources_match.name_for_module(filename, frame) == name_for_module(  # type: ignore[arg-type]
            filename,
            frame,  # type: ignore[arg-type]
        ), (f_globals, filename)
    assert sources_match.name_for_module("/x/m.py", None) == name_for_module("/x/m.py", None)


def test_third_party_paths_are_coverages() -> None:
    from coverage.inorout import _add_third_party_paths

    expected: set[str] = set()
    _add_third_party_paths(expected)
    assert sources_match.third_paths() == {sources_match.abs_file(p) for p in expected}
    assert any(p.endswith("site-packages") for p in sources_match.third_paths())
    assert sys.prefix


def test_cheap_third_party_decision_is_coverages(tmp_path, monkeypatch) -> None:
    """Sources.in_third (venv entries, install roots, sysconfig only if needed) = third_match."""
    from coverage.files import TreeMatcher
    from coverage.inorout import _add_third_party_paths

    # A sys.path entry inside a venv (a pyvenv.cfg above it) is third-party too.
    (tmp_path / "venvlike").mkdir()
    (tmp_path / "venvlike" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    entry = tmp_path / "venvlike" / "lib" / "site"
    entry.mkdir(parents=True)
    monkeypatch.syspath_prepend(str(entry))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    expected: set[str] = set()
    _add_third_party_paths(expected)
    theirs = TreeMatcher(expected)
    ours = sources_match.Sources({"source": ["src"]}, str(tmp_path))
    site = next(p for p in sys.path if p.endswith("site-packages"))
    paths = [
        os.path.join(site, "pkg", "mod.py"), site, os.path.join(sys.prefix, "bin", "tool"),
        os.path.join(sys.prefix, "lib", "python", "x.py"), os.path.join(sys.prefix, "x.py"),
        os.path.join(sys.base_prefix, "lib", "python3.11", "os.py"), str(entry / "m.py"),
        str(tmp_path / "venvlike" / "other.py"), str(tmp_path / "src" / "a.py"),
        os.path.expanduser("~/.local/bin/x"), os.path.expanduser("~/.local/lib/x.py"), "/x.py",
    ]  # fmt: skip
    for path in paths:
        real = sources_match.abs_file(path)
        assert ours.in_third(real) == theirs.match(real), path
    assert ours.in_third(sources_match.abs_file(os.path.join(site, "pkg", "mod.py")))


def test_third_party_rule_of_each_coverage(tmp_path) -> None:
    """7.13-7.17 count venv sys.path entries; 7.10 only os.name's sysconfig schemes."""
    import coverage

    assert sources_match.third_party_rule() == sources_match.VENV_RULE
    assert sources_match.third_party_rule(os.path.dirname(coverage.__file__)) == "venv"
    (tmp_path / "inorout.py").write_text(
        'def add_third_party_paths(paths):\n    if os.name in better_scheme.split("_"):\n'
    )
    assert sources_match.third_party_rule(str(tmp_path)) == sources_match.POSIX_RULE
    posix = sources_match.third_paths(sources_match.POSIX_RULE)
    assert posix <= sources_match.third_paths(sources_match.VENV_RULE)
    assert not [p for p in posix if "/Scripts" in p or "/Lib/" in p]  # no nt_* schemes
    (tmp_path / "inorout.py").write_text("something else\n")
    with pytest.raises(ValueError, match="not a known kind"):
        sources_match.third_party_rule(str(tmp_path))
