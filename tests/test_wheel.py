"""The built wheel holds exactly the files we mean to ship, the .pth among them."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from support import envs

sys.path.insert(0, str(envs.REPO / "pth"))
from make_pth import PTH_NAME, SHIP_START, SOURCE, START_NAME, make_pth_line, start_text

DIST_INFO = "covhook-0.1.0.dist-info"
SRC = envs.REPO / "src"
# Every module and data file of the package (nothing else from the checkout:
# no tests, bench, docs or caches), the hook, and the metadata.
PACKAGE = {
    p.relative_to(SRC).as_posix()
    for p in (SRC / "covhook").rglob("*")
    if p.is_file() and (p.suffix == ".py" or p.name == "py.typed") and "__pycache__" not in p.parts
}
EXPECTED = (
    PACKAGE
    | ({START_NAME} if SHIP_START else set())
    | {
        PTH_NAME,
        "covhook/hook.pth.txt",  # the hook line as package data (setup.py)
        f"{DIST_INFO}/METADATA",
        f"{DIST_INFO}/WHEEL",
        f"{DIST_INFO}/entry_points.txt",
        f"{DIST_INFO}/top_level.txt",
        f"{DIST_INFO}/licenses/LICENSE",
        f"{DIST_INFO}/RECORD",
    }
)


def test_wheel_file_list_is_exact(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        assert set(zf.namelist()) == EXPECTED


def test_wheel_pth_is_generated_from_source_and_recorded(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        assert zf.read(PTH_NAME).decode() == make_pth_line(SOURCE.read_text())
        assert zf.read("covhook/hook.pth.txt").decode() == make_pth_line(SOURCE.read_text())
        record = zf.read(f"{DIST_INFO}/RECORD").decode()
        entry_points = zf.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert f"{PTH_NAME},sha256=" in record
    assert "covhook = covhook.cli:main" in entry_points
    assert "[pytest11]\ncovhook = covhook.pytest_plugin" in entry_points


def test_wheel_start_file_is_recorded_when_shipped(wheel: Path) -> None:
    """PEP 829's .start file (once shipped, see make_pth.SHIP_START) is in RECORD, like the .pth."""
    with zipfile.ZipFile(wheel) as zf:
        if not SHIP_START:  # issue 21: it would cost every 3.15 process ~10 ms
            assert START_NAME not in zf.namelist()
            return
        assert zf.read(START_NAME).decode() == start_text()
        record = zf.read(f"{DIST_INFO}/RECORD").decode()
    assert f"{START_NAME},sha256=" in record
