"""The options a coverage.py / pytest-cov user types work on covhook's commands (issue 25).

``covhook run`` runs real commands whose processes are measured by covhook's
hook (this venv's editable install); what each option did is read from the
combined data file (files, lines, arcs, contexts) or the reports written.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import coverage
import pytest

from covhook.cli import main
from support import cli, data, measured

CLI = """\
import sys


def main(args):
    if args:
        return "args"  # with-args
    return "none"  # without-args


main(sys.argv[1:])
"""

PROG = """\
import subprocess, sys
subprocess.run([sys.executable, "-c", "import pkg.cli"], check=True)
x = 1  # parent-ran
"""


def project(root: Path, rc: str = "[run]\nparallel = True\n") -> None:
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "cli.py").write_text(CLI)
    (root / "prog.py").write_text(PROG)
    (root / ".coveragerc").write_text(rc)


def test_run_dash_m_runs_a_module_with_its_arguments(tmp_path: Path) -> None:
    """``covhook run -m pkg.cli ARGS`` is ``coverage run -m``: the module runs, measured."""
    project(tmp_path)
    done = cli.covhook(["run", "-m", "pkg.cli", "--flag", "x"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = data.lines_of(tmp_path / ".coverage", "cli.py")
    assert data.lines_in(tmp_path / "pkg" / "cli.py", "with-args") <= lines
    assert not data.lines_in(tmp_path / "pkg" / "cli.py", "without-args") & lines


def test_run_a_python_file_like_coverage_run(tmp_path: Path) -> None:
    """``covhook run prog.py`` (no --) runs it with this Python; its child is measured too."""
    project(tmp_path)
    done = cli.covhook(["run", "prog.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    combined = tmp_path / ".coverage"
    assert data.lines_in(tmp_path / "prog.py", "parent-ran") <= data.lines_of(combined, "prog.py")
    assert data.lines_in(tmp_path / "pkg" / "cli.py", "without-args") <= data.lines_of(
        combined, "cli.py"
    )


def test_run_dash_m_without_a_module_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "-m"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("covhook: error: -m needs a module name"), line
    assert "--show-missing" in line


def test_run_measurement_options_reach_every_process(tmp_path: Path) -> None:
    """--source, --branch, --data-file, --context: in the parent *and* its child."""
    project(tmp_path, rc="[run]\nomit = nothing.py\n")
    done = cli.covhook(
        [
            "run",
            "--source",
            "pkg",
            "--branch",
            "--data-file",
            "out/cov.data",
            "--context",
            "nightly",
            "--",
            sys.executable,
            "prog.py",
        ],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    combined = tmp_path / "out" / "cov.data"
    assert not (tmp_path / ".coverage").exists()
    files = data.lines_by_file(combined)
    assert set(files) == {"__init__.py", "cli.py"}, files  # --source pkg: prog.py left out
    cov = coverage.Coverage(data_file=str(combined))
    cov.load()
    assert cov.get_data().has_arcs()  # --branch
    assert data.contexts(combined) == {"nightly"}
    assert "parallel = True" not in (tmp_path / ".coveragerc").read_text()  # theirs untouched


def test_run_reports_like_pytest_cov(tmp_path: Path) -> None:
    project(tmp_path)
    done = cli.covhook(
        ["run", "--report", "term-missing,html,xml,json,lcov", "--", sys.executable, "prog.py"],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Missing" in done.stdout  # term-missing
    assert (tmp_path / "htmlcov" / "index.html").is_file()
    assert (tmp_path / "coverage.xml").is_file()
    assert (tmp_path / "coverage.lcov").is_file()
    report = json.loads((tmp_path / "coverage.json").read_text())
    assert any(name.endswith("cli.py") for name in report["files"])


def test_run_report_kind_unknown_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--report", "pdf", "--", "true"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "unknown report 'pdf'" in line
    assert ". Fix: " in line


def test_fail_under_words_and_status_like_coverage(tmp_path: Path) -> None:
    """coverage's message and status 2 (run, report); a failing command's status wins."""
    project(tmp_path)
    done = cli.covhook(["run", "--fail-under", "99", "--", sys.executable, "prog.py"], tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Coverage failure: total of 89 is less than fail-under=99" in done.stdout
    done = cli.covhook(["report", "--fail-under", "99"], tmp_path)
    assert done.returncode == 2
    assert "Coverage failure: total of 89 is less than fail-under=99" in done.stdout
    (tmp_path / "fails.py").write_text("import sys\nsys.exit(3)\n")
    done = cli.covhook(["run", "--fail-under", "99", "--", sys.executable, "fails.py"], tmp_path)
    assert done.returncode == 3


def measured_and_combined(root: Path) -> None:
    project(root, rc="[run]\nparallel = True\n\n[report]\nskip_covered = True\n")
    (root / "full.py").write_text("x = 1\n")
    (root / "main.py").write_text("import full\nimport pkg.cli\n")
    done = cli.covhook(["run", "--", sys.executable, "main.py"], root)
    assert done.returncode == 0, done.stderr


def table_rows(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines() if line.endswith("%") or "% " in line]


def test_report_takes_coverage_reports_options(tmp_path: Path) -> None:
    measured_and_combined(tmp_path)
    skipped = cli.covhook(["report"], tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert "full.py" not in skipped.stdout  # [report] skip_covered = True
    shown = cli.covhook(["report", "--no-skip-covered", "--sort=-cover"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    rows = [r for r in table_rows(shown.stdout) if r.endswith(".py")]
    assert rows[-1] == "pkg/cli.py", shown.stdout  # lowest cover last (descending)
    assert "full.py" in rows
    (tmp_path / "full.py").unlink()
    broken = cli.covhook(["report", "--no-skip-covered"], tmp_path)
    assert broken.returncode == 1  # a missing source file is an error...
    ignored = cli.covhook(["report", "--no-skip-covered", "-i"], tmp_path)
    assert ignored.returncode == 0, ignored.stderr  # ...unless -i
    contexts = cli.covhook(["report", "--contexts", "no-such-origin", "-i"], tmp_path)
    assert contexts.returncode == 0, contexts.stderr
    assert " 0%" in contexts.stdout  # no line ran in that context


def test_report_sort_checks_the_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--sort", "size"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "invalid column 'size'" in line
    assert "Fix: see 'covhook report --help'" in line


def test_report_html_alone_writes_the_page(tmp_path: Path) -> None:
    measured_and_combined(tmp_path)
    done = cli.covhook(["report", "--html", "origins.html"], tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "origins.html").read_text()
    assert "pkg/cli.py" in page
    assert "Wrote per-origin HTML report to origins.html" in done.stdout


def test_combine_data_file_and_quiet(tmp_path: Path) -> None:
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    (tmp_path / "prog.py").write_text("x = 1\n")
    measured.run(sys.executable, tmp_path, "prog.py", rc_text=None, check=True,
                 COVERAGE_FILE=str(tmp_path / "d" / "cov.db"))  # fmt: skip
    assert data.data_files(tmp_path / "d", "cov.db")
    done = cli.covhook(["combine", "-q", "--data-file", "d/cov.db"], tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert data.lines_of(tmp_path / "d" / "cov.db", "prog.py") == {1}
    assert not data.data_files(tmp_path / "d", "cov.db")


HELP = {
    "run": ["--source", "--branch", "--data-file", "--context", "--rcfile", "-m ..., --module",
            "--report", "--show-missing", "--fail-under", "--include", "--omit", "--append"],
    "report": ["--contexts", "--sort", "-i, --ignore-errors", "--no-skip-covered",
               "-m, --show-missing", "--skip-covered", "--fail-under", "--data-file",
               "--precision", "--format", "--include", "--omit", "--rcfile", "--html"],
    "combine": ["--data-file", "-q, --quiet", "--keep", "-a, --append", "--rcfile"],
    "split": ["--report", "--show-missing", "--rcfile"],
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(HELP))
def test_help_lists_the_coverage_options(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    said = capsys.readouterr().out
    for option in HELP[command]:
        assert option in said, (option, said)


def test_combined_file_is_coverage_data(tmp_path: Path) -> None:
    """--data-file's result is plain coverage data (read with sqlite, no covhook)."""
    project(tmp_path)
    done = cli.covhook(["run", "--data-file", "x.cov", "--", sys.executable, "prog.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "x.cov") as db:
        assert db.execute("select count(*) from file").fetchone()[0] >= 2


@pytest.mark.splits
def test_split_fails_under_with_coverages_words_and_reports_term_missing(tmp_path: Path) -> None:
    from support import split_suite

    split_suite.write(tmp_path, modules=1, fail_under=99)
    done = cli.covhook(
        [
            "split",
            "-n",
            "2",
            "--selector=covhook",
            "--report",
            "term-missing",
            "--",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    (failure,) = [line for line in done.stdout.splitlines() if "fail-under=99" in line]
    assert re.fullmatch(r"Coverage failure: total of \d+ is less than fail-under=99", failure)
    assert "Missing" in done.stdout  # term-missing
    assert data.lines_of(tmp_path / ".coverage", "m0.py")
