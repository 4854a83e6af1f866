"""Data measured in other checkouts (CI runners, nodes) maps to this checkout by itself.

Two "runners" are copies of one project at different paths, measured for
real (a parent and a child process each); their data goes to artifact
directories, the copies are deleted, and a third checkout combines.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from covhook import roots
from covhook.cli import main
from support import cli, data, launchers, measured
from support.datagen import describe

BIN = Path(sys.executable).parent
CORE = """\
def left():
    return "left"


def right():
    return "right"
"""
MAIN = """\
import subprocess
import sys

from app import core

if sys.argv[1] == "left":
    core.left()
else:
    core.right()
subprocess.run([sys.executable, "-c", "from app import core; core.left()"], check=True)
"""


def make_project(root: Path) -> Path:
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "core.py").write_text(CORE)
    (root / "main.py").write_text(MAIN)
    (root / ".coveragerc").write_text("[run]\nparallel = True\nsource = src, .\n")
    return root


def runner(tmp_path: Path, where: str, arg: str, artifact: str) -> Path:
    """Measure the project at ``where``, ship its data to ``artifact``, delete the copy."""
    proj = make_project(tmp_path / where)
    measured.run(sys.executable, proj, "main.py", arg, rc_text=None, check=True,
                 PYTHONPATH=str(proj / "src"))  # fmt: skip
    out = tmp_path / "artifacts" / artifact
    out.mkdir(parents=True)
    for f in data.data_files(proj):
        shutil.move(f, out)
    shutil.move(proj / ".covhook", out / ".covhook")
    shutil.rmtree(tmp_path / where.split("/", maxsplit=1)[0])
    return out


def two_runners(tmp_path: Path) -> list[str]:
    a = runner(tmp_path, "runner-a/work/proj", "left", "runner-a")
    b = runner(tmp_path, "home/ci/builds/x/proj-b", "right", "runner-b")
    return [str(a), str(b)]


def test_two_runners_combine_in_a_third_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = two_runners(tmp_path)
    checkout = make_project(tmp_path / "checkout" / "proj")
    monkeypatch.chdir(checkout)
    assert main(["combine", *artifacts]) == 0
    combined = describe(checkout / ".coverage")
    assert sorted(combined["files"]) == [
        str(checkout / "main.py"),
        str(checkout / "src" / "app" / "__init__.py"),
        str(checkout / "src" / "app" / "core.py"),
    ]
    core = data.lines_of(checkout / ".coverage", "core.py")
    assert core == {1, 2, 5, 6}  # left() in both runners, right() in runner b
    report = cli.coverage(["report"], checkout)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "No source for code" not in report.stderr


def test_print_paths_makes_plain_coverage_combine_do_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = two_runners(tmp_path)
    checkout = make_project(tmp_path / "checkout" / "proj")
    monkeypatch.chdir(checkout)
    assert main(["combine", "--print-paths", *artifacts]) == 0
    section = capsys.readouterr().out
    assert "[paths]" in section
    assert str(tmp_path / "runner-a" / "work" / "proj") in section
    plain = make_project(tmp_path / "plain" / "proj")
    with (plain / ".coveragerc").open("a") as f:
        f.write(section.replace(str(checkout), str(plain)))
    cli.coverage(["combine", "--keep", "-q", *artifacts], plain, check=True)
    assert main(["combine", *artifacts]) == 0
    expected = describe(plain / ".coverage")
    got = describe(checkout / ".coverage")
    assert [f.replace(str(plain), "X") for f in expected["files"]] == [
        f.replace(str(checkout), "X") for f in got["files"]
    ]
    assert len(expected["rows"]) == len(got["rows"])


def test_same_checkout_is_not_remapped(tmp_path: Path) -> None:
    """Combining where the data was measured changes nothing (no alias to itself)."""
    proj = make_project(tmp_path / "proj")
    measured.run(sys.executable, proj, "main.py", "left", rc_text=None, check=True,
                 PYTHONPATH=str(proj / "src"))  # fmt: skip
    assert len(list((proj / ".covhook").glob("roots-*.json"))) == 1  # once, not per process
    done = cli.covhook(["combine"], proj, check=True)
    assert done.returncode == 0
    assert data.lines_of(proj / ".coverage", "core.py") == {1, 2, 5}
    assert not list((proj / ".covhook").glob("roots-*.json"))  # combined: records gone


@pytest.mark.launchers
@pytest.mark.torch
@pytest.mark.slow
def test_two_torchrun_nodes_in_different_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two nodes (c10d, 2 ranks each), each in its own copy of the project; combined elsewhere."""
    launchers.need_module("torch")
    torchrun = launchers.need_exe("torchrun")
    worker = "torch_worker.py"
    port = launchers.free_port()
    nodes = []
    for name in ("a", "b"):
        proj = tmp_path / f"node-{name}" / "scratch" / "proj"
        proj.mkdir(parents=True)
        launchers.copy_programs(proj, worker)
        rc = launchers.write_rc(proj)
        cmd = [torchrun, *launchers.two_node_torchrun_args(port, worker, "normal")]
        env = launchers.measured_env(rc, OMP_NUM_THREADS="1", COVHOOK_ORIGIN=f"node{name}")
        nodes.append((proj, subprocess.Popen(cmd, cwd=proj, env=env, stderr=subprocess.PIPE)))
    artifacts = []
    for proj, node in nodes:
        _, err = node.communicate(timeout=180)
        assert node.returncode == 0, err[-3000:]
        out = tmp_path / "artifacts" / proj.parts[-3]
        out.mkdir(parents=True)
        for f in data.data_files(proj):
            shutil.move(f, out)
        shutil.move(proj / ".covhook", out / ".covhook")
        artifacts.append(str(out))
    every = launchers.marked(proj / worker, "every-rank")
    for name in ("a", "b"):
        shutil.rmtree(tmp_path / f"node-{name}")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    launchers.copy_programs(checkout, worker)
    (checkout / ".coveragerc").write_text("[run]\nparallel = True\n")
    monkeypatch.chdir(checkout)
    assert main(["combine", *artifacts]) == 0
    combined = describe(checkout / ".coverage")
    assert combined["files"] == [str(checkout / worker)]
    by_tag = launchers.lines_by_context(checkout / ".coverage", worker)
    ranks = sorted(t for t in by_tag if "_torch-" in t)
    assert len(ranks) == 4, ranks
    assert all(every <= by_tag[t] for t in ranks)


def test_nested_roots_keep_their_place_below_the_project() -> None:
    """A runner's src/ or tests/ maps to <checkout>/src, never to the checkout itself."""
    record = {"config_dir": "/ci/proj", "cwd": "/ci/proj/tests", "sources": ["/ci/proj/src"]}
    assert roots.aliases([record], ["/here/proj"]) == [
        ("/ci/proj", "/here/proj"),
        ("/ci/proj/src", "/here/proj/src"),
        ("/ci/proj/tests", "/here/proj/tests"),
    ]
    # this checkout itself, or a directory around it, is never remapped
    assert roots.aliases([{"config_dir": "/here/proj", "cwd": "/here"}], ["/here/proj"]) == []
