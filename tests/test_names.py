"""Data file names, origin tags, per-origin tables and the pytest summary line, in-process."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from coverage import CoverageData

from covhook import layout
from covhook.host import origins
from covhook.layout import pid_of
from covhook.pytest_engine import Role, kind_of

pytestmark = pytest.mark.fast

TAG = "docker-3f2a9c81d0e4_torch-n0-r1of2-a0"
SUFFIX = ".build7.pid4242.XaB3dEfx.H0123456789h"


def written_names(tmp_path: Path, *tags: str) -> list[str]:
    """Names coverage.py itself gives parallel files of ``.coverage.<tag>`` (no hand-made ones)."""
    names = []
    for tag in tags:
        data = CoverageData(basename=str(tmp_path / f".coverage.{tag}"), suffix=True)
        data.add_lines({str(tmp_path / "m.py"): [1]})
        data.write()
        names.append(Path(data.data_filename()).name)
    return names


def test_tag_of_reads_the_tag_from_names_coverage_writes(tmp_path: Path) -> None:
    (tagged,) = written_names(tmp_path, TAG)
    assert layout.tag_of(tagged, ".coverage") == TAG
    assert layout.tag_of(f".coverage{SUFFIX}", ".coverage") is None  # untagged
    assert layout.tag_of(f".other.{TAG}{SUFFIX}", ".coverage") is None  # another data file


def test_tag_of_with_a_dotted_host_name() -> None:
    """coverage puts socket.gethostname() in the name: CI hosts are often FQDNs.

    (Hand-made names: this machine's host name has no dot.)  Before, such a file
    counted as untagged.
    """
    dotted = ".build7.ci.example.com.pid4242.XaB3dEfx"
    assert layout.tag_of(f".coverage.{TAG}{dotted}", ".coverage") == TAG
    assert layout.tag_of(f".coverage.{TAG}{dotted}.H0123456789h", ".coverage") == TAG
    assert layout.pid_of(f".coverage.{TAG}{dotted}") == 4242
    # An untagged file from a host named like a tag is still untagged.
    assert layout.tag_of(".coverage.host-a.pid4242.XaB3dEfx", ".coverage") is None


def test_data_files_globs_like_combine_and_skips_journals(tmp_path: Path) -> None:
    names = written_names(tmp_path, "host-a", "host-b_xdist-gw0")
    (tmp_path / f".coverage.host-a{SUFFIX}-journal").write_text("")
    (tmp_path / ".coverage").write_text("")  # the combined file itself is not a part
    found = layout.parallel_files(str(tmp_path / ".coverage"))
    assert [Path(f).name for f in found] == sorted(names)


def test_processes_by_origin_counts_files() -> None:
    files = [f".coverage.host-a{SUFFIX}", ".coverage.host-a.h.pid1.XaB3dEfx", f".coverage{SUFFIX}"]
    counts = origins.processes_by_origin(files, ".coverage")
    assert counts == Counter({"host-a": 2, origins.UNTAGGED: 1})


@pytest.mark.parametrize(
    ("name", "pid"),
    [
        (f".coverage.{TAG}{SUFFIX}", 4242),
        (".coverage.h.pid7.XaB3dEfx", 7),
        (".coverage.host-a.vm.31731.XBuvlRMx", 31731),  # coverage < 7.11: no "pid"
        (".coverage.h.pid7.XaB3dEfx.H0123456789h", 7),
        (".coverage", None),
        (".coverage.host-a.vm.notapid.XBuvlRMx", None),
    ],
)
def test_pid_of(name: str, pid: int | None) -> None:
    assert pid_of(name) == pid


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("host-a", "subprocess"),
        ("host-a_xdist-gw1", "subprocess"),
        ("host-a_torch-n0-r1of2-a0", "torch"),
        ("docker-3f2a9c81d0e4", "docker"),
        ("host-a_split-1of2_mpi-r0of2", "mpi"),
        ("not a tag", "untagged"),
        (None, "untagged"),
    ],
)
def test_kind_of(tag: str | None, kind: str) -> None:
    assert kind_of(tag) == kind


def test_split_tagged_path_round_trip() -> None:
    assert layout.split_tagged_path(f"/d/.coverage.{TAG}") == ("/d/.coverage", TAG)
    assert layout.split_tagged_path("/d/.coverage") == ("/d/.coverage", None)
    assert layout.split_tagged_path("/d.host-x/.coverage") == ("/d.host-x/.coverage", None)


def test_table_joins_processes_and_contexts(tmp_path: Path) -> None:
    data = CoverageData(no_disk=True)
    data.set_context("host-a")
    data.add_lines({"/s/a.py": [1, 2, 3], "/s/b.py": [1]})
    data.set_context("docker-3f2a9c81d0e4")
    data.add_lines({"/s/a.py": [1]})
    rows = origins.table(Counter({"host-a": 3, "docker-3f2a9c81d0e4": 1}), data)
    assert rows == [
        origins.OriginRow("docker-3f2a9c81d0e4", 1, 1, 1),
        origins.OriginRow("host-a", 3, 2, 4),
    ]
    text = origins.format_table(rows).splitlines()
    pytest.LineMatcher(text).fnmatch_lines(
        [
            "Origin * Processes  Files  Lines",
            "---*",
            "docker-3f2a9c81d0e4 *  1      1      1",
            "host-a *  3      2      4",
            "---*",
            "TOTAL *  4 *",
        ]
    )


def test_table_without_process_counts_shows_dashes_and_no_total() -> None:
    rows = [origins.OriginRow("host-a", None, 1, 2)]
    text = origins.format_table(rows).splitlines()
    pytest.LineMatcher(text).fnmatch_lines(["host-a *  -      1      2"])
    assert not any(line.startswith("TOTAL") for line in text)


def test_pytest_summary_line() -> None:
    state = Role.__new__(Role)  # only the counts matter here
    state.counted = Counter({"pytest": 1, "subprocess": 2, "torch": 4})
    state.origins = {"host-a", "host-a_torch-n0-r0of4-a0"}
    pytest.LineMatcher([state.summary_line()]).fnmatch_lines(
        ["covhook: 7 measured processes (1 pytest, 2 subprocess, 4 torch); "
         "6 child processes from 2 origins"]
    )  # fmt: skip
    state.counted = Counter({"pytest": 1})
    state.origins = set()
    pytest.LineMatcher([state.summary_line()]).fnmatch_lines(
        ["covhook: 1 measured process (1 pytest); 0 child processes from 0 origins"]
    )
