"""Every error the CLI meets is one line ``covhook: error: <what>. Fix: <how>`` and status 1.

coverage.py's exceptions (ConfigError, NoSource, DataError, NoDataError), OS
errors and bad interpreters come from real files, real data written by real
measured processes and real executables; only the "bug" case replaces a
command's function, because a bug we know of would be fixed instead.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from covhook.cli import main
from support import cli, envs, processes

RC = "[run]\nparallel = True\n"


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str], *words: str) -> str:
    """Run ``covhook ARGV``: status 1 (coverage's ERR) and exactly one line on stderr."""
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 1, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    (line,) = lines
    assert line.startswith("covhook: error: "), line
    assert ". Fix: " in line, line
    assert "Traceback" not in err
    for word in words:
        assert word in line, line
    return line


def measure(cwd: Path, program: str = "x = 1\ny = 2\n") -> None:
    """Run ``prog.py`` under coverage (parallel), as 'coverage run -p' would."""
    (cwd / "prog.py").write_text(program)
    cli.coverage(["run", "-p", "prog.py"], cwd, check=True)


def test_broken_rcfile_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "broken.rc").write_text("[run]\nparallel = maybe\n[report\n")
    one_error_line(capsys, ["combine", "--rcfile", "broken.rc"], "ConfigError", "config file")


def test_report_with_a_deleted_source_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    measure(tmp_path)
    cli.coverage(["combine", "-q"], tmp_path, check=True)
    (tmp_path / "prog.py").unlink()
    one_error_line(capsys, ["report"], "NoSource", "prog.py", "omit")


def test_second_combine_says_the_data_is_combined(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    measure(tmp_path)
    assert main(["combine"]) == 0
    capsys.readouterr()
    line = one_error_line(capsys, ["combine"], "already holds combined data", "covhook report")
    assert "first" not in line  # not "run your program ... first": it did run


@pytest.mark.parametrize(
    ("content", "kind"),
    [(b"this is not sqlite" * 10, "DataError"), (b"", "NoDataError")],
    ids=["corrupt", "empty"],
)
def test_report_on_bad_data_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, kind: str
) -> None:
    (tmp_path / "prog.py").write_text("x = 1\n")
    (tmp_path / ".coverage").write_bytes(content)
    one_error_line(capsys, ["report"], kind)


def test_combine_into_a_read_only_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (tmp_path / ".coveragerc").write_text(f"[run]\nparallel = True\ndata_file = {data_dir}/.cov\n")
    measure(tmp_path)
    assert [p.name for p in data_dir.iterdir()]  # one parallel file
    data_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    immutable = False
    if os.access(data_dir, os.W_OK):  # root ignores modes
        processes.run(["chattr", "+i", data_dir], check=True)
        immutable = True
    try:
        one_error_line(capsys, ["combine"], "DataError", "writable")
    finally:
        if immutable:
            processes.run(["chattr", "-i", data_dir], check=True)
        data_dir.chmod(stat.S_IRWXU)
    assert len(list(data_dir.iterdir())) == 1  # the parallel file was not lost


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
@pytest.mark.parametrize(
    ("script", "words"),
    [
        (None, ("/usr/bin/true", "did not answer like a Python interpreter")),
        ("#!/bin/sh\necho '{junk'\n", ("did not answer like a Python interpreter", "{junk")),
        ("#!/bin/sh\necho 'not json at all'\n", ("did not answer like a Python interpreter",)),
        ("#!/bin/sh\nexit 1\n", ("exit status 1: no output",)),
        ("#!/bin/sh\necho 'boom: no such lib' >&2\nexit 7\n", ("exit status 7", "boom")),
    ],
    ids=["true", "junk-json", "junk", "false", "fails-saying-why"],
)
def test_install_with_a_bad_interpreter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, script: str | None, words: tuple[str]
) -> None:
    if script is None:
        python = "/usr/bin/true"
    else:
        path = tmp_path / "fake-python"
        path.write_text(script)
        path.chmod(0o755)
        python = str(path)
    one_error_line(capsys, ["install", "--python", python], *words)


def test_docker_args_with_a_file_as_data_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "covdata").write_text("I am a file\n")
    one_error_line(capsys, ["docker-args", "--data-dir", "covdata"], "covdata", "in the way")


def test_an_unexpected_exception_says_bug_and_where_to_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from covhook.commands import status

    def boom(args: object) -> int:
        raise ZeroDivisionError("a covhook bug")

    monkeypatch.setattr(status, "run", boom)
    line = one_error_line(capsys, ["status"], "ZeroDivisionError", "a covhook bug")
    assert "bug in covhook" in line
    assert "issue tracker" in line
    monkeypatch.setenv("COVHOOK_DEBUG", "1")
    assert main(["status"]) == 1
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.slow
def test_without_coverage_installed(wheel: Path, tmp_path: Path) -> None:
    """--version, status and uninstall work; commands that need coverage say so in one line."""
    venv = envs.make_env(tmp_path / "venv", envs.PYTHONS["3.11"], "platformdirs")
    venv.pip("--no-deps", str(wheel))  # covhook without its coverage dependency
    env = {"COVHOOK_STATE_DIR": str(tmp_path / "state")}

    def covhook(*args: str) -> subprocess.CompletedProcess[str]:
        return cli.covhook(args, tmp_path, env, bin_dir=venv.bin)

    for args, out in [
        (("--version",), "covhook 0.1.0"),
        (("status",), "no hooks installed"),
        (("uninstall", "--all"), "no recorded hooks"),
        (("--help",), "docker-args"),
    ]:
        done = covhook(*args)
        assert (done.returncode, done.stderr) == (0, ""), done.stderr
        assert out in done.stdout
    for args in (("combine",), ("report",), ("run", "--", "true"), ("docker-args",)):
        done = covhook(*args)
        assert done.returncode == 1
        (line,) = done.stderr.splitlines()
        assert line.startswith("covhook: error: this command needs coverage.py"), line
        assert f"Fix: {venv.python} -m pip install coverage" in line


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--bogus"], ("unknown option --bogus", "put a command first")),
        (["bogus"], ("invalid choice: 'bogus'", "covhook --help")),
        (["report", "--sort", "size"], ("invalid column 'size'", "covhook report --help")),
        (["report", "--nope"], ("unrecognized arguments: --nope", "covhook report --help")),
        (["install", "--bogus"], ("unrecognized arguments: --bogus", "covhook install --help")),
        (["split", "-n", "x"], ("invalid int value: 'x'", "covhook split --help")),
        (["report", "--format", "pdf"], ("invalid choice: 'pdf'", "covhook report --help")),
    ],
    ids=["top-option", "command", "bad-sort", "report-option", "install-option", "int", "choice"],
)
def test_usage_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: tuple[str, ...]
) -> None:
    """argparse's refusals go the one way every error goes: no usage lines, status 1."""
    line = one_error_line(capsys, argv, *words)
    assert "usage:" not in line


@pytest.mark.parametrize(
    ("argv", "flag"), [(["-n", "0"], "-n 0"), (["-n", "2", "-j", "0"], "-j 0")]
)
def test_split_names_the_count_that_is_wrong(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    line = one_error_line(capsys, ["split", *argv, "--", "pytest"], flag)
    assert line.count(" -") == 2, line  # the one flag, in the problem and in the fix


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_install_into_a_program_that_is_not_python_is_one_clean_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """/bin/ls echoes the probe script back (shell-quoted): none of it reaches the line."""
    line = one_error_line(capsys, ["install", "--python", "/bin/ls"], "'/bin/ls'", "not Python")
    assert "$'" not in line
    assert "import" not in line
    assert len(line) < 250, line
