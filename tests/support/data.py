"""Read coverage data the way a user would: combine, then look at lines per file."""

from __future__ import annotations

import re
from pathlib import Path

import coverage

from support import processes

# The tests' own reading of a data file name, independent of covhook.layout:
# <base>.<tag>.<host>.pid<N>.X<6>x[.H<10>h] (coverage's suffix; the host may hold dots).
_NAME = re.compile(
    r"^(?P<base>\.coverage)\.(?P<tag>[^.]+)\.(?P<host>.+)\.(?:pid)?(?P<pid>\d+)\.X\w{6}x(\.H\w{10}h)?$"
)


def parse_name(name: str) -> re.Match[str] | None:
    """The ``tag``, ``host`` and ``pid`` groups of a tagged parallel data file name."""
    return _NAME.match(name)


def data_files(directory: Path, base: str = ".coverage") -> list[Path]:
    """The parallel data files in a directory, sorted."""
    return sorted(p for p in directory.glob(f"{base}.*") if not p.name.endswith("-journal"))


def combine_with_plain_coverage(coverage_exe: Path, directory: Path) -> None:
    """``coverage combine`` from an environment, in ``directory``: the user's command."""
    processes.run([coverage_exe, "combine", "-q"], directory, check=True)


def lines_by_file(data_file: Path) -> dict[str, set[int]]:
    """{basename: executed lines} from a combined data file."""
    data = coverage.CoverageData(str(data_file))
    data.read()
    return {Path(f).name: set(data.lines(f) or ()) for f in data.measured_files()}


def contexts(data_file: Path) -> set[str]:
    data = coverage.CoverageData(str(data_file))
    data.read()
    return set(data.measured_contexts())


def lines_of(data_file: Path, filename: str) -> set[int]:
    return lines_by_file(data_file).get(filename, set())


def lines_in(path: Path, marker: str) -> set[int]:
    """Line numbers of ``path`` whose text contains ``marker`` (tests mark lines to expect)."""
    text = path.read_text("utf-8").splitlines()
    return {n for n, line in enumerate(text, 1) if marker in line}
