"""``covhook doctor`` on real interpreters, real venvs and real measured runs."""

from __future__ import annotations

import shutil
import sys
import venv
from pathlib import Path

import pytest

from covhook.cli import main
from support import measured, processes

HEALTHY = Path(sys.executable)  # the project's venv: covhook (editable, with its hook) + coverage
RC = "[run]\nparallel = True\n"


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    status = main(["doctor", "--no-path", *args])
    return status, capsys.readouterr().out.splitlines()


def bare_venv(root: Path) -> Path:
    venv.create(root, with_pip=False, symlinks=True)
    return root / "bin" / "python"


def site_packages(python: Path) -> Path:
    out = processes.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], check=True
    )
    return Path(out.stdout.strip())


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_healthy_setup_has_no_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".coveragerc").write_text(RC)
    status, lines = doctor(capsys, "--python", str(HEALTHY))
    assert status == 0, lines
    assert lines == [
        "covhook doctor: fast path: no: measured processes take coverage.py's full start: "
        "[run] no source and no include. "
        "Fix: name what to measure: [run] source (or --cov=DIR or PKG)",
        f"covhook doctor: checked 1 interpreter(s) and {tmp_path}/.coverage: no problems",
    ]


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_venv_without_hook_or_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".coveragerc").write_text(RC)
    python = bare_venv(tmp_path / "bare")
    status, lines = doctor(capsys, "--python", str(python))
    assert status == 1
    problems = [line for line in lines if line.startswith("covhook doctor: problem:")]
    assert len(problems) == 2, lines
    assert "cannot import coverage" in problems[0]
    assert f"Fix: covhook install --python {python} (installs coverage too" in problems[0]
    assert f"{sys.executable} -m pip --python {python} install coverage" in problems[0]
    assert "has no covhook hook" in problems[1]
    assert f"Fix: covhook install --python {python}" in problems[1]


def test_hook_left_without_covhook(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".coveragerc").write_text(RC)
    python = bare_venv(tmp_path / "bare")
    hook = site_packages(HEALTHY) / "a0_covhook.pth"
    shutil.copy(hook, site_packages(python) / "a0_covhook.pth")
    status, lines = doctor(capsys, "--python", str(python))
    assert status == 1
    assert any("has covhook's hook" in line and "cannot import covhook" in line for line in lines)


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_not_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".coveragerc").write_text(RC)
    status, lines = doctor(capsys, "--python", "/bin/true")
    assert status == 1
    assert lines[0].startswith("covhook doctor: problem: cannot run /bin/true as Python")


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_config_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\n")
    monkeypatch.setenv("COVERAGE_PROCESS_START", str(tmp_path / "missing.rc"))
    status, lines = doctor(capsys, "--python", str(HEALTHY))
    assert status == 1
    assert "COVERAGE_PROCESS_START=" in lines[0]
    assert "is not a file" in lines[0]
    assert not any("parallel is off" in line for line in lines)  # covhook's hook turns it on


def test_scrubbed_children_and_stale_work_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real measured parent starts a Python child with env={}: doctor names it and the fix."""
    (tmp_path / ".coveragerc").write_text(RC)
    measured.run(
        sys.executable,
        tmp_path,
        "-c",
        "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'], env={})",
        rc_text=None,
        check=True,
    )
    assert not any((tmp_path / ".covhook-work").iterdir())  # a clean run leaves nothing
    (tmp_path / ".covhook-work").mkdir(exist_ok=True)
    (tmp_path / ".covhook-work" / ".coverage.host-x.pid1.Xaaaaaax").write_bytes(b"partial")
    status, lines = doctor(capsys, "--python", str(HEALTHY))
    assert status == 1
    assert any("1 file(s) left in" in line and "covhook combine" in line for line in lines)
    scrubbed = [line for line in lines if "ran without coverage" in line]
    assert len(scrubbed) == 1
    assert "COVHOOK_SCRUBBED_ENV=measure" in scrubbed[0]


# What `covhook doctor` says about the fast path (issue 27): yes for the configs the
# recorder takes (checked against a real measured child in tests/test_recorder.py),
# and for each main reason it does not, the reason and the setting to change.
FAST_YES = "covhook doctor: fast path: yes: measured processes start covhook's recorder"
FAST_NO = "covhook doctor: fast path: no: measured processes take coverage.py's full start: "


def fast_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, rc: str) -> str:
    (tmp_path / ".coveragerc").write_text(rc)
    (tmp_path / "src").mkdir(exist_ok=True)
    status, lines = doctor(capsys, "--python", str(HEALTHY))
    assert status == 0, lines
    (found,) = [line for line in lines if "fast path" in line]
    return found


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
@pytest.mark.parametrize(
    "rc",
    [
        "[run]\nsource = src\n",
        "[run]\nsource = json\nomit = */tests/*\nbranch = True\nrelative_files = True\n",
        "[run]\ninclude = */src/*\ncontext = ci\n[paths]\nsource =\n    src/\n    */src/\n",
    ],
    ids=["dir", "importable-name-globs", "include-context-paths"],
)
def test_doctor_fast_path_yes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rc: str
) -> None:
    monkeypatch.chdir(tmp_path)
    assert fast_line(capsys, tmp_path, rc).startswith(FAST_YES)


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
@pytest.mark.parametrize(
    ("rc", "env", "reason", "fix"),
    [
        ("[run]\n", {}, "no source and no include", "[run] source (or --cov=DIR or PKG)"),
        (
            "[run]\nsource = src\ndynamic_context = test_function\n", {},
            "[run] dynamic_context", "drop [run] dynamic_context",
        ),
        (
            "[run]\nsource = src\nplugins = covhook.startup.plugin_not_real\n", {},
            "[run] plugins", "remove the coverage.py plugins",
        ),
        ("[run]\nsource = src\nconcurrency = gevent\n", {}, "concurrency", "concurrency = thread"),
        ("[run]\nsource = src\ncore = pytrace\n", {}, "[run] core", "core = ctrace"),
        ("[run]\nsource = os.path\n", {}, "not a top-level name", "top-level package"),
        ("[run]\nsource = src\nomit = */[ab].py\n", {}, "has [ or ]", "without [...]"),
        ("[run]\nsource = src\n", {"COVERAGE_DEBUG": "sys"}, "COVERAGE_DEBUG", "unset"),
        ("[run]\nsource = src\n", {"COVHOOK_RECORDER": "0"}, "COVHOOK_RECORDER=0", "unset"),
    ],
    ids=[
        "no-source", "dynamic-context", "plugins", "concurrency", "core", "dotted-name",
        "char-class", "debug-env", "recorder-off",
    ],
)  # fmt: skip
def test_doctor_fast_path_no_names_reason_and_fix(  # noqa: PLR0917
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rc: str,
    env: dict[str, str],
    reason: str,
    fix: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if "plugins" in rc:
        # A real coverage.py plugin module (a file tracer would make coverage.py start slow too).
        (tmp_path / "myplugin.py").write_text(
            "import coverage\n"
            "class P(coverage.CoveragePlugin):\n    pass\n"
            "def coverage_init(reg, options):\n    reg.add_file_tracer(P())\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        rc = rc.replace("covhook.startup.plugin_not_real", "myplugin")
    line = fast_line(capsys, tmp_path, rc)
    assert line.startswith(FAST_NO), line
    problem, _, given_fix = line[len(FAST_NO) :].partition(". Fix: ")
    assert reason in problem, line
    assert fix in given_fix, line
