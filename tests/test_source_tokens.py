"""The C tokenizer and the encoding check the sys.monitoring recorder uses, against ``tokenize``.

``_compat.source_tokens`` and ``_compat.source_encoding`` spare a measured
process ``tokenize`` (and the ``re``, ``functools`` and ``collections`` it
imports, issue 21); they must give what ``tokenize.generate_tokens`` and
``tokenize.detect_encoding`` give, on every Python (the matrix runs this file).
"""

from __future__ import annotations

import io
import sys
import sysconfig
import tokenize
from pathlib import Path

import pytest

from covhook import _compat
from covhook.startup import sysmon_recorder

pytestmark = pytest.mark.fast


def _stdlib_sources(count: int) -> list[Path]:
    every = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    return every[:: max(1, len(every) // count)]


def _reference(text: str) -> list[tuple[object, ...]]:
    return [tuple(t) for t in tokenize.generate_tokens(io.StringIO(text).readline)]


@pytest.mark.parametrize("path", _stdlib_sources(8), ids=lambda p: p.name)
def test_tokens_are_tokenizes(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    assert [tuple(t) for t in _compat.source_tokens(text)] == _reference(text)


BROKEN = ["def f(:\n", "x = (1,\n", "  indented\nback\n", "s = '''open\n", "if x:\npass\n", "\\\n"]


def _tokens_or_error(tokens: object) -> object:
    try:
        return [tuple(t) for t in tokens]  # type: ignore[attr-defined]
    except (SyntaxError, tokenize.TokenError):
        return "error"


@pytest.mark.parametrize("text", BROKEN)
def test_broken_sources_the_same_either_way(text: str) -> None:
    want = _tokens_or_error(tokenize.generate_tokens(io.StringIO(text).readline))
    assert _tokens_or_error(_compat.source_tokens(text)) == want


SOURCES = [
    b"x = 1\n",
    b"",
    b"\xef\xbb\xbfx = 1\n",
    b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    b"#!/usr/bin/env python\n# coding=iso-8859-15\nx = 1\n",
    b"\n# vim: set fileencoding=utf-8 :\n",
    b"x = 1\n# coding: latin-1\n",  # a cookie on line 2 after code does not count
    b"# no cookie here\ny = '\xc3\xa9'\n",
    b"print('decoding')\n",  # "coding" in code, not a cookie
    b"x = '\xff'\n",  # not UTF-8, no cookie: detect_encoding raises
    b"# comment\n# also \xff\n",
    b"\xef\xbb\xbf# coding: latin-1\n",  # BOM and a different cookie: raises
]


@pytest.mark.parametrize("source", SOURCES)
def test_encoding_is_detect_encodings(source: bytes) -> None:
    try:
        want: object = tokenize.detect_encoding(iter(source.splitlines(True)).__next__)[0]
    except SyntaxError as exc:
        want = type(exc)
    try:
        got: object = _compat.source_encoding(source)
    except SyntaxError as exc:
        got = type(exc)
    assert got == want


def test_the_multiline_map_reads_the_file_as_coverage_does(tmp_path: Path) -> None:
    if sys.version_info < (3, 12):
        pytest.skip("the sys.monitoring recorder runs on 3.12+")
    code = "x = (1,\n     2)\ny = [\n  3,\n]\n"
    (tmp_path / "m.py").write_text(code)
    assert sysmon_recorder.compute_multiline_map(str(tmp_path / "m.py")) == {
        1: 1, 2: 1, 3: 3, 4: 3, 5: 3,
    }  # fmt: skip
