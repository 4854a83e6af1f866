"""``covhook run / combine / report`` on data written by real measured processes.

These use the project's own venv (covhook installed editable, so its hook is
live) to run the processes, and the CLI's ``main`` or its console script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from covhook.cli import main
from covhook.host import origins, unmeasured
from support import cli, data, envs, measured, processes

RC = "[run]\nparallel = True\n"


def run_measured(script: str, cwd: Path, **env: str) -> None:
    if not (cwd / ".coveragerc").exists():
        (cwd / ".coveragerc").write_text(RC)
    measured.run(sys.executable, cwd, "-c", script, rc_text=None, check=True, **env)


def two_origins(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("def a():\n    return 1\n\ndef b():\n    return 2\n")
    run_measured("import mod; mod.a()", tmp_path, COVHOOK_ORIGIN="left", PYTHONPATH=str(tmp_path))
    run_measured("import mod; mod.b()", tmp_path, COVHOOK_ORIGIN="right", PYTHONPATH=str(tmp_path))


def test_combine_prints_processes_and_lines_per_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_origins(tmp_path)
    assert len(data.data_files(tmp_path)) == 2
    assert main(["combine"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:4]}
    # origin: processes, files, lines (mod.py: def a, return 1, def b / def b, return 2)
    assert rows == {"origin-left": ["1", "1", "3"], "origin-right": ["1", "1", "3"]}
    assert data.lines_of(tmp_path / ".coverage", "mod.py") == {1, 2, 4, 5}
    assert data.contexts(tmp_path / ".coverage") == {"origin-left", "origin-right"}


def test_report_shows_lines_per_origin_after_combine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_origins(tmp_path)
    assert main(["combine"]) == 0
    capsys.readouterr()
    assert main(["report", "-m"]) == 0
    out = capsys.readouterr().out
    assert "mod.py" in out
    assert "origin-left" in out
    assert "origin-right" in out


def test_combine_same_result_as_plain_coverage_combine(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        two_origins(tmp_path / name)
    cli.coverage(["combine", "-q"], tmp_path / "a", check=True)
    cli.covhook(["combine"], tmp_path / "b", check=True)
    assert data.lines_by_file(tmp_path / "a" / ".coverage") == data.lines_by_file(
        tmp_path / "b" / ".coverage"
    )


def test_combine_with_covhook_listed_as_plugin_is_not_tagged(tmp_path: Path) -> None:
    """The plugin tags only processes that measure, never the one that combines."""
    (tmp_path / ".coveragerc").write_text(RC + "plugins = covhook\n")
    two_origins(tmp_path)
    cli.coverage(["combine", "-q"], tmp_path, check=True)
    assert data.data_files(tmp_path) == []
    assert data.lines_of(tmp_path / ".coverage", "mod.py") == {1, 2, 4, 5}


def test_corrupt_data_file_is_named_kept_and_the_rest_combined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_origins(tmp_path)
    corrupt = tmp_path / ".coverage.host-x.x.pid1.Xabcdefx"
    corrupt.write_bytes(b"this is not sqlite" * 10)
    assert main(["combine"]) == 0
    out = capsys.readouterr().out
    skipped = [line for line in out.splitlines() if line.startswith("covhook: skipped")]
    assert len(skipped) == 1
    assert corrupt.name in skipped[0]
    assert corrupt.exists()
    assert data.lines_of(tmp_path / ".coverage", "mod.py") == {1, 2, 4, 5}


def test_combine_without_data_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["combine"]) == 1  # coverage's ERR
    err = capsys.readouterr().err
    assert err.startswith("covhook: error: no data files matching")
    assert "COVERAGE_PROCESS_START" in err


def covhook_run_main(cwd: Path) -> subprocess.CompletedProcess[str]:
    """``covhook run -- python main.py`` in ``cwd``, as a user would type it."""
    return cli.covhook(["run", "--", sys.executable, "main.py"], cwd)


def test_run_measures_the_tree_and_keeps_the_exit_status(tmp_path: Path) -> None:
    (tmp_path / "child.py").write_text("print('child')\n")
    (tmp_path / "main.py").write_text(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, 'child.py'], check=True)\n"
        "sys.exit(5)\n"
    )
    (tmp_path / ".coverage.stale.x.pid1.Xabcdefx").write_text("left over from last time")
    done = covhook_run_main(tmp_path)
    assert done.returncode == 5, done.stderr
    assert "Origin" in done.stdout
    combined = tmp_path / ".coverage"
    assert data.lines_of(combined, "child.py") == {1}
    assert data.lines_of(combined, "main.py") == {1, 2, 3}
    assert data.data_files(tmp_path) == []


def test_run_says_which_children_ran_without_coverage(tmp_path: Path) -> None:
    """A child started with env={} cannot be measured; the run's summary says so, once."""
    (tmp_path / "main.py").write_text(
        "import subprocess, sys\n"
        "subprocess.run([sys.executable, '-c', 'pass'], env={}, check=True)\n"
    )
    done = covhook_run_main(tmp_path)
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stdout.splitlines() if "ran without coverage" in line]
    assert len(notes) == 1
    assert notes[0].startswith("covhook: 1 Python child process(es) ran without coverage")
    assert "COVHOOK_SCRUBBED_ENV=measure" in notes[0]
    assert data.lines_of(tmp_path / ".coverage", "main.py") == {1, 2}
    assert not list(tmp_path.glob(".covhook-unmeasured.*"))


def coverage_run_p(cwd: Path, *args: str) -> None:
    """``coverage run -p`` (no covhook tag: an untagged process), as a user types it."""
    cli.coverage(["run", "-p", *args], cwd, check=True)


def origin_rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Origin"))
    rows = {}
    for line in lines[start + 2 :]:
        if line.startswith("-"):
            break
        rows[line.rsplit(None, 3)[0]] = line.rsplit(None, 3)[1:]
    return rows


def report_total(out: str) -> tuple[int, int]:
    """(statements, missed) of the TOTAL line of coverage's text report."""
    total = next(line for line in out.splitlines() if line.startswith("TOTAL"))
    return int(total.split()[1]), int(total.split()[2])


def test_untagged_process_lines_agree_with_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """#10 item 8: an untagged process's lines are counted; line 0 of an empty module is not."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "work.py").write_text(
        "def f(x):\n    if x:\n        return 1\n    return 2\n\nf(1)\n"
    )
    (tmp_path / "main.py").write_text("import pkg.work\nprint('done')\n")
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n")
    coverage_run_p(tmp_path, "main.py")
    (tmp_path / ".coverage.host-x.x.pid9.Xzzzzzzx").write_bytes(b"not a data file" * 20)
    assert main(["combine"]) == 0
    out = capsys.readouterr().out
    rows = origin_rows(out)
    # one process (the unreadable file is not one), 3 files, the lines the report counts
    assert main(["report"]) == 0
    report = capsys.readouterr().out
    statements, missed = report_total(report)
    assert rows == {"(untagged)": ["1", "2", str(statements - missed)]}
    assert origin_rows(report) == rows  # processes known after combine, not "-"


def partly_covered(tmp_path: Path) -> None:
    """part.py: 3 of its 4 statements run (75%)."""
    (tmp_path / "part.py").write_text("def a():\n    return 1\n\ndef b():\n    return 2\n")
    run_measured("import part; part.a()", tmp_path, PYTHONPATH=str(tmp_path), COVHOOK_ORIGIN="left")


def test_report_honours_fail_under_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """#10 item 7: exit 2 under fail_under, like 'coverage report'."""
    two_origins(tmp_path)
    partly_covered(tmp_path)
    with (tmp_path / ".coveragerc").open("a") as f:
        f.write("[report]\nfail_under = 99\n")
    assert main(["combine"]) == 0
    assert main(["report"]) == 2
    out = capsys.readouterr().out
    assert "Coverage failure: total of" in out
    plain = cli.coverage(["report"], tmp_path)
    assert plain.returncode == 2


def test_report_takes_coverage_report_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """#10 item 7: --fail-under, --skip-covered, --data-file, --precision, --format."""
    two_origins(tmp_path)
    partly_covered(tmp_path)
    assert main(["combine"]) == 0
    (tmp_path / ".coverage").rename(tmp_path / "saved.data")
    capsys.readouterr()
    assert main(["report", "--data-file", "saved.data", "--fail-under", "10"]) == 0
    assert main(["report", "--data-file", "saved.data", "--fail-under", "99.5"]) == 2
    capsys.readouterr()
    assert main(["report", "--data-file", "saved.data", "--skip-covered", "--precision", "2"]) == 0
    out = capsys.readouterr().out
    assert "mod.py" not in out  # fully covered
    assert "75.00%" in out  # part.py
    assert "87.50%" in out  # TOTAL: 7 of 8
    assert (
        main(["report", "--data-file", "saved.data", "--format", "total", "--precision", "1"]) == 0
    )
    assert capsys.readouterr().out.strip() == "87.5"
    assert main(["report", "--data-file", "saved.data", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "| Name" in out
    assert "| origin-left | 2 | 2 | 6 |" in out


def test_run_exits_2_under_fail_under_when_the_command_passed(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text("def unused():\n    return 1\n\nprint('hi')\n")
    (tmp_path / ".coveragerc").write_text("[run]\nparallel = True\n[report]\nfail_under = 90\n")
    done = covhook_run_main(tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Coverage failure" in done.stdout
    assert data.lines_of(tmp_path / ".coverage", "main.py") == {1, 4}


def test_report_by_origin_text_markdown_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Per file: statements each origin ran, and those only it ran."""
    two_origins(tmp_path)  # mod.py: left runs a(), right runs b(); both run the defs
    partly_covered(tmp_path)  # part.py: left only
    assert main(["combine"]) == 0
    capsys.readouterr()
    assert main(["report", "--by", "origin"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["File", "Covered", "origin-left", "origin-right"]
    rows = {line.split()[0]: line.split()[1:] for line in out[2:]}
    # mod.py 4/4: left ran 3 (1 only: return 1), right ran 3 (1 only: return 2)
    assert rows["mod.py"] == ["4/4", "3", "(1", "only)", "3", "(1", "only)"]
    assert rows["part.py"] == ["3/4", "3", "(3", "only)", "-"]
    assert main(["report", "--by", "origin", "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "| File | Covered | origin-left | origin-right |" in md
    assert "| part.py | 3/4 | 3 (3 only) | - |" in md
    assert main(["report", "--by", "origin", "--html", "out/origins.html"]) == 0
    page = (tmp_path / "out" / "origins.html").read_text()
    assert page.startswith("<!doctype html>")
    assert "<th>origin-left</th><th>origin-right</th>" in page
    assert 'title="3 of 4 statements"' in page


def test_append_keeps_the_earlier_counts_and_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``combine --append`` adds to what the combined file said: processes per origin and
    the children that ran without coverage (read before the file is replaced)."""
    two_origins(tmp_path)
    run_measured(  # a child with a scrubbed environment: not measured, noted
        "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'], env={})",
        tmp_path,
        COVHOOK_ORIGIN="left",
    )
    assert main(["combine"]) == 0
    capsys.readouterr()
    data_file = str(tmp_path / ".coverage")
    assert unmeasured.load(data_file)["children_total"] == 1
    run_measured("import mod; mod.a()", tmp_path, COVHOOK_ORIGIN="left", PYTHONPATH=str(tmp_path))
    assert main(["combine", "--append"]) == 0
    rows = origin_rows(capsys.readouterr().out)
    assert rows["origin-left"][0] == "1"  # this combine's processes...
    assert origins.load_processes(data_file) == {"origin-left": 3, "origin-right": 1}  # ...all
    assert unmeasured.load(data_file)["children_total"] == 1  # the earlier run's note is kept
    assert data.lines_of(tmp_path / ".coverage", "mod.py") == {1, 2, 4, 5}


@pytest.mark.parametrize("lean", ["1", "0"])
def test_combine_imports_no_coverage_reporter(tmp_path: Path, lean: str) -> None:
    """``covhook combine`` makes no coverage report: coverage.py is imported without its
    reporters (covhook.startup.lean), unless COVHOOK_LEAN=0; the data is the same."""
    two_origins(tmp_path)
    probe = (
        "import sys; from covhook.cli import main; status = main(['combine']); "
        "print(status, sorted(m for m in ('coverage.html', 'coverage.xmlreport') "
        "if m in sys.modules))"
    )
    done = processes.run([sys.executable, "-c", probe], tmp_path, envs.clean_env(COVHOOK_LEAN=lean),
                         check=True)  # fmt: skip
    last = done.stdout.splitlines()[-1]
    assert last == ("0 []" if lean == "1" else "0 ['coverage.html', 'coverage.xmlreport']")
    assert data.lines_of(tmp_path / ".coverage", "mod.py") == {1, 2, 4, 5}
    assert data.contexts(tmp_path / ".coverage") == {"origin-left", "origin-right"}
