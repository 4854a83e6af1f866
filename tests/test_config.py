"""covhook.startup.config: the one reader of a measured process's configuration.

In-process and against coverage.py's own reading of the same configuration.
The start paths that use it are exercised for real in tests/test_start_paths.py.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import coverage
import pytest

from covhook.startup import config


def test_serialized_parent_config_wins_over_the_file(tmp_path: Path) -> None:
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nsource_pkgs = from_file\n")
    cov = coverage.Coverage(source_pkgs=["from_parent"], data_file="d/.cov")
    cov.config.plugin_options["covhook"] = {"skip": "x*"}
    found = config.read(
        {"COVERAGE_PROCESS_START": str(rc), "COVERAGE_PROCESS_CONFIG": cov.config.serialize()}
    )
    assert found.values is not None
    assert found.values["source_pkgs"] == ["from_parent"]
    assert found.options == {"skip": "x*"}
    assert found.config_file is None
    assert found.decoded is not None
    assert found.decoded["data_file"].endswith("/d/.cov")


def test_config_file_and_its_covhook_section(tmp_path: Path) -> None:
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nsource = src\npatch = subprocess\n[covhook]\nsignals = false\n")
    found = config.read({"COVERAGE_PROCESS_START": str(rc), "COVERAGE_FILE": "/x/.cov"})
    assert found.config_file == str(rc)
    assert found.values is not None
    assert found.values["data_file"] == "/x/.cov"
    assert found.options == {"signals": "false"}
    assert found.patch == ["subprocess"]  # the user's patch is kept as written


def test_unreadable_config_is_none_not_an_error(tmp_path: Path) -> None:
    assert config.read({"COVERAGE_PROCESS_CONFIG": "not base64 json"}).values is None
    assert config.read({"COVERAGE_PROCESS_START": str(tmp_path / "missing")}).values is None
    bad = tmp_path / ".coveragerc"
    bad.write_text("source = outside a section\n")
    assert config.read({"COVERAGE_PROCESS_START": str(bad)}).values is None


def test_config_is_frozen() -> None:
    found = config.read({})
    with pytest.raises(AttributeError):
        found.options = {}  # type: ignore[misc]


@pytest.mark.parametrize(
    ("given", "version", "expected"),
    [
        (None, None, ["_exit", "execv", "subprocess"]),
        ([], (7, 17, 3), ["_exit", "execv", "subprocess"]),
        ([], (7, 9, 2), []),  # coverage.py before 7.10 has no patches
        (["subprocess"], (7, 17, 3), ["subprocess"]),
    ],
)
def test_effective_patch(
    given: list[str] | None, version: tuple[int, ...] | None, expected: list[str]
) -> None:
    assert config.effective_patch(given, version) == expected


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".coveragerc", "[covhook]\nskip = a*\nlazy = false\n"),
        ("setup.cfg", "[coverage:covhook]\nskip = a*\nlazy = false\n[covhook]\nskip = no\n"),
        ("tox.ini", "[covhook]\nskip = a*\nlazy = false\n"),
        (".coveragerc", "[DEFAULT]\nlazy = false\n[covhook]\nskip = a*\n"),  # configparser's
    ],
)
def test_read_section_reads_like_configparser(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    parser = configparser.RawConfigParser()
    parser.read(path)
    own = "coverage:covhook" if name == "setup.cfg" else "covhook"
    assert config.read_section(str(path)) == dict(parser.items(own))


def test_read_section_toml(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.coverage.covhook]\nskip = ["a*", "b*"]\nlazy = false\n')
    assert config.read_section(str(path)) == {"skip": ["a*", "b*"], "lazy": False}


def test_recorder_gets_the_patch_defaults_a_parent_left_empty(tmp_path: Path) -> None:
    """pytest-cov passes "patch": []: the recorder saves before os._exit all the same."""
    cov = coverage.Coverage(source=[str(tmp_path)], data_file=str(tmp_path / ".coverage"))
    assert cov.config.patch == []
    found = config.read({"COVERAGE_PROCESS_CONFIG": cov.config.serialize()})
    given = config.recorder_config(found, {})
    assert given is not None
    assert given[1]["patch"] == ["_exit", "execv", "subprocess"]
    cov.config.patch = ["subprocess"]  # a user's own choice is kept
    found = config.read({"COVERAGE_PROCESS_CONFIG": cov.config.serialize()})
    given = config.recorder_config(found, {})
    assert given is not None
    assert given[1]["patch"] == ["subprocess"]
