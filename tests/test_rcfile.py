"""Which coverage config a run hands to its processes (host.rcfile), and the install record."""

from __future__ import annotations

from pathlib import Path

import pytest

from covhook.errors import CovhookError
from covhook.host import registry
from covhook.host.rcfile import find_rcfile, rcfile_for_run


def test_search_order_is_coverages(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.coverage.run]\nbranch = true\n")
    assert find_rcfile(directory=tmp_path) == tmp_path / "pyproject.toml"
    (tmp_path / "tox.ini").write_text("[coverage:run]\nbranch = true\n")
    assert find_rcfile(directory=tmp_path) == tmp_path / "tox.ini"
    (tmp_path / "setup.cfg").write_text("[coverage:run]\nbranch = true\n")
    assert find_rcfile(directory=tmp_path) == tmp_path / "setup.cfg"
    (tmp_path / ".coveragerc").write_text("")
    assert find_rcfile(directory=tmp_path) == tmp_path / ".coveragerc"


def test_files_without_a_coverage_section_do_not_count(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert find_rcfile(directory=tmp_path) is None


def test_explicit_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc = tmp_path / "my.rc"
    rc.write_text("[run]\n")
    assert find_rcfile(str(rc)) == rc
    monkeypatch.setenv("COVERAGE_RCFILE", str(rc))
    assert find_rcfile(directory=tmp_path / "elsewhere") == rc
    with pytest.raises(CovhookError, match=r"does not exist\. Fix: pass an existing file"):
        find_rcfile(str(tmp_path / "missing.rc"))


def test_rcfile_for_run_writes_a_minimal_parallel_config(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    made = rcfile_for_run(None, scratch)
    assert made.parent == scratch
    assert made.read_text() == "[run]\nparallel = True\n"


def test_registry_records_and_forgets(tmp_path: Path) -> None:
    assert registry.state_file().parent == tmp_path / "_covhook_state"  # the isolated fixture
    assert registry.load() == []
    registry.record(tmp_path / "a.pth", "/usr/bin/python3")
    registry.record(tmp_path / "b.pth", None)
    registry.record(tmp_path / "a.pth", "/usr/bin/python3")  # again: replaced, not doubled
    assert sorted(r.pth for r in registry.load()) == [str(tmp_path / n) for n in ("a.pth", "b.pth")]
    registry.forget(tmp_path / "a.pth")
    assert [r.pth for r in registry.load()] == [str(tmp_path / "b.pth")]


def test_corrupt_registry_is_one_error_with_a_fix() -> None:
    path = registry.state_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(CovhookError, match=r"is corrupt .*\. Fix: delete "):
        registry.load()
