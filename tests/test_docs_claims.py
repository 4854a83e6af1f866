"""Claims in docs/ that no code block can show, checked against what really happens.

Each test reads the sentence from the doc and checks the behaviour it
describes (covhook split's handling of named files, the packages the wheel
brings into an image, coverage.py's config file precedence).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import coverage
import pytest

from support import cli, envs

pytest_plugins = ("pytester",)

DOCS = envs.REPO / "docs"


def doc_text(name: str) -> str:
    return " ".join((DOCS / name).read_text("utf-8").split())


@pytest.mark.splits
def test_named_test_files_go_whole_to_one_split(pytester: pytest.Pytester) -> None:
    """docs/splits.md: a named file's tests follow the directory rule (not always chunks)."""
    text = doc_text("splits.md")
    assert "A file named on the command line is collected by every split" in text
    assert "all of them to one split when its directory holds at least N test files" in text
    tests = pytester.mkdir("tests")
    for name in ("a", "b"):
        body = "".join(f"def test_{name}{i}():\n    pass\n" for i in range(3))
        (tests / f"test_{name}.py").write_text(body)
    picked = {}
    for index in (1, 2):
        result = pytester.runpytest_subprocess(
            "-p", "covhook.splits.plugin", f"--covhook-split={index}/2", "--co", "-q",
            "tests/test_a.py", "tests/test_b.py",
        )  # fmt: skip
        picked[index] = {line for line in result.outlines if "::test_" in line}
    assert picked[1] | picked[2] == {f"tests/test_{n}.py::test_{n}{i}" for n in "ab" for i in "012"}
    assert not picked[1] & picked[2]
    for name in ("a", "b"):  # whole files: every test of a file in the same split
        owners = {i for i, ids in picked.items() if any(f"test_{name}.py" in x for x in ids)}
        assert len(owners) == 1, picked


def test_dockerfile_names_what_the_wheel_brings(wheel: Path) -> None:
    """docs/containers.md: the Dockerfile comment names every dependency covhook installs."""
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [
            re.split(r"[<>=!~ ;\[]", line.split(":", 1)[1].strip())[0]
            for line in zf.read(meta).decode().splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line
        ]
    source = (DOCS / "containers.md").read_text("utf-8")
    dockerfile = source.split("<!-- test: dockerfile -->", 1)[1].split("```", 2)[1]
    comment = " ".join(line for line in dockerfile.splitlines() if line.startswith("#"))
    assert requires
    for name in requires:
        assert name in comment, (name, comment)
    assert "the only addition" not in comment


def test_a_coveragerc_shadows_pyproject(tmp_path: Path) -> None:
    """docs/containers.md warns not to create a .coveragerc beside a pyproject.toml config."""
    assert "do not create a `.coveragerc` for it" in doc_text("containers.md")
    (tmp_path / "pyproject.toml").write_text("[tool.coverage.run]\nbranch = true\n")
    assert coverage.Coverage().get_option("run:branch") is True
    (tmp_path / ".coveragerc").write_text("[paths]\nsrc =\n    src/\n    /app/src/\n")
    assert coverage.Coverage().get_option("run:branch") is False  # pyproject.toml is ignored


def test_exit_status_section_matches_covhook_run(tmp_path: Path) -> None:
    """docs/reference.md: which commands exit 2, and covhook run's status, as it behaves."""
    import sys

    section = doc_text("reference.md").split("## Exit status", 1)[1].split("## ", 1)[0]
    (row,) = re.findall(r"\| 2 \|[^|]*\|", section)
    assert re.findall(r"`covhook (\w+)`", row) == ["run", "report", "split"]
    assert "Coverage failure: total of 77 is less than fail-under=90" in row
    assert "always" not in section
    assert "When the command passed, it exits 2 when the total is below `fail_under`" in section
    (tmp_path / "prog.py").write_text("import sys\nif len(sys.argv) > 1:\n    sys.exit(3)\n")
    for args, status in ((["prog.py"], 2), (["prog.py", "fail"], 3)):
        done = cli.covhook(["run", "--fail-under", "100", "--", sys.executable, *args], tmp_path)
        assert done.returncode == status, done.stdout + done.stderr
