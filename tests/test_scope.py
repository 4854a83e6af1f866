"""Scoped lazy start (issue 9): who measures, when, and what is counted.

Real processes in a real venv with covhook's wheel: an out-of-scope process
imports nothing of coverage and writes no file; where the config names no
scope, or lazy start is turned off, today's eager start stays; COVHOOK_SKIP /
COVHOOK_MEASURE and ``[covhook] skip/measure`` keep whole processes out;
``covhook combine`` says how many processes the scope skipped.  The config
reader (no coverage import) is checked against coverage.py's own reading.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import coverage
import pytest

from covhook.startup import config, scope
from support import cli, data, envs, measured, processes

PROBE = (
    "import sys; print('IMPORTED', sorted(m for m in sys.modules "
    "if m == 'coverage' or m.startswith('coverage.')))"
)


def project(root: Path, run: str = "source = src", extra: str = "") -> Path:
    """src/app (in scope) and an rc; returns the rc."""
    (root / "src" / "app").mkdir(parents=True)
    (root / "src" / "app" / "__init__.py").write_text("VALUE = 1  # module body\n")
    (root / "helper.py").write_text("print('helper')\n")
    (root / "main.py").write_text("import app\nprint(app.VALUE)\n")
    rc = root / ".coveragerc"
    rc.write_text(f"[run]\n{run}\nparallel = True\ndata_file = {root}/.coverage\n{extra}")
    return rc


run = measured.output


def test_out_of_scope_process_imports_nothing_and_writes_nothing(
    make_covhook_env, tmp_path: Path
) -> None:
    env = make_covhook_env()
    rc = project(tmp_path)
    assert "IMPORTED []" in run(env, tmp_path, rc, "-c", PROBE)
    assert run(env, tmp_path, rc, "helper.py") == "helper\n"
    assert data.data_files(tmp_path) == []
    assert scope.skipped_count(str(tmp_path)) == 2


def test_in_scope_import_measures_the_module_body(make_covhook_env, tmp_path: Path) -> None:
    env = make_covhook_env()
    rc = project(tmp_path)
    run(env, tmp_path, rc, "main.py")
    assert len(data.data_files(tmp_path)) == 1
    data.combine_with_plain_coverage(env.bin / "coverage", tmp_path)
    assert data.lines_of(tmp_path / ".coverage", "__init__.py") == {1}
    assert scope.skipped_count(str(tmp_path)) == 0


@pytest.mark.parametrize(
    ("run_section", "extra", "env_extra"),
    [
        pytest.param("branch = True", "", {}, id="no-scope"),
        pytest.param("source = src", "", {"COVHOOK_LAZY": "0"}, id="COVHOOK_LAZY=0"),
        pytest.param("source = src", "[covhook]\nlazy = false\n", {}, id="option-lazy-false"),
        pytest.param("source = src\nplugins = covhook", "", {}, id="covhook-plugin-stays-lazy"),
    ],
)
def test_eager_start_where_lazy_cannot_or_must_not(
    make_covhook_env, tmp_path: Path, run_section: str, extra: str, env_extra: dict[str, str]
) -> None:
    env = make_covhook_env()
    rc = project(tmp_path, run_section, extra)
    out = run(env, tmp_path, rc, "-c", PROBE, **env_extra)
    if "plugins" in run_section:
        assert "IMPORTED []" in out
        assert data.data_files(tmp_path) == []
    else:
        assert "'coverage'" in out
        assert len(data.data_files(tmp_path)) == 1


@pytest.mark.parametrize(
    ("extra", "env_extra", "measured"),
    [
        pytest.param("", {"COVHOOK_SKIP": "helper.py"}, {"main.py"}, id="env-skip"),
        pytest.param("[covhook]\nskip = *help*\n", {}, {"main.py"}, id="option-skip"),
        pytest.param("", {"COVHOOK_MEASURE": "*main*"}, {"main.py"}, id="env-measure"),
        pytest.param("[covhook]\nmeasure = main.py\n", {}, {"main.py"}, id="option-measure"),
        pytest.param(
            "[covhook]\nskip = *help*\n", {"COVHOOK_SKIP": ""}, {"main.py", "helper.py"},
            id="env-overrides-option",
        ),
    ],
)  # fmt: skip
def test_explicit_rules(
    make_covhook_env, tmp_path: Path, extra: str, env_extra: dict[str, str], measured: set[str]
) -> None:
    """Rules apply with or without a scope: here none, so every kept process is eager."""
    env = make_covhook_env()
    rc = project(tmp_path, "branch = False", extra)
    run(env, tmp_path, rc, "main.py", **env_extra)
    run(env, tmp_path, rc, "helper.py", **env_extra)
    data.combine_with_plain_coverage(env.bin / "coverage", tmp_path)
    assert set(data.lines_by_file(tmp_path / ".coverage")) >= measured
    skipped = {"main.py", "helper.py"} - measured
    assert not skipped & set(data.lines_by_file(tmp_path / ".coverage"))
    assert scope.skipped_count(str(tmp_path)) == len(skipped)


def test_combine_says_how_many_processes_the_scope_skipped(
    make_covhook_env, tmp_path: Path
) -> None:
    env = make_covhook_env()
    rc = project(tmp_path)
    for _ in range(3):
        run(env, tmp_path, rc, "helper.py")
    run(env, tmp_path, rc, "main.py")
    out = cli.covhook(["combine", "--rcfile", rc], tmp_path, bin_dir=env.bin, check=True).stdout
    assert "covhook: 3 processes skipped by scope" in out
    assert scope.skipped_count(str(tmp_path)) == 0  # reported once, like combined files


# --- the cheap config reader, against coverage.py's own -------------------------


def scope_of(rc: Path, **environ: str) -> scope.Scope:
    raw = config.read({"COVERAGE_PROCESS_START": str(rc), **environ}).values
    assert raw is not None
    return scope.Scope(raw, str(rc.parent))


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".coveragerc", "[run]\nsource =\n    src,\n    otherpkg\ninclude = x/*\n"),
        ("setup.cfg", "[coverage:run]\nsource = src, otherpkg\n"),
        ("tox.ini", "[coverage:run]\nsource = src\n  otherpkg\n"),
        ("pyproject.toml", '[tool.coverage.run]\nsource = ["src", "otherpkg"]\n'),
        (".coveragerc", "[run]\nsource = ${SRC_DIR}, ${PKG-otherpkg}\n"),
    ],
)
def test_config_file_scope_matches_coverage(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / "src").mkdir()
    rc = tmp_path / name
    rc.write_text(text)
    os.environ["SRC_DIR"] = "src"
    found = scope_of(rc)
    config = coverage.Coverage(config_file=str(rc)).config
    assert found.pkgs == ("otherpkg",)
    assert found.dirs == (str(tmp_path / "src") + os.sep,)
    assert [s for s in config.source or [] if not os.path.isdir(s)] == ["otherpkg"]
    assert found.file_in_scope(str(tmp_path / "src" / "m.py"))
    assert not found.file_in_scope(str(tmp_path / "m.py"))
    assert found.name_in_scope("otherpkg.sub")
    assert not found.name_in_scope("otherpkg_x")


def test_serialized_config_is_read_without_coverage(tmp_path: Path) -> None:
    cov = coverage.Coverage(source_pkgs=["app"], include=["ignored/*"], data_file="d/.cov")
    cov.config.plugin_options["covhook"] = {"skip": "x*"}
    raw = config.read({"COVERAGE_PROCESS_CONFIG": cov.config.serialize()}).values
    assert raw is not None
    found = scope.Scope(raw, str(tmp_path))
    assert found.pkgs == ("app",)
    assert found.include == ()  # coverage ignores include when source is set
    assert found.options == {"skip": "x*"}
    assert found.data_dir == str(tmp_path / "d")


def test_parsed_file_is_passed_to_children_in_the_environment(tmp_path: Path) -> None:
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nsource_pkgs = app\n")
    environ = {"COVERAGE_PROCESS_START": str(rc)}
    config.read(environ)
    cached = os.environ[config.CACHE_ENV]
    rc.write_text("[run]\nsource_pkgs = other\n")  # a changed file is read again
    again = config.read({**environ, config.CACHE_ENV: cached}).values
    assert again is not None
    assert again["source_pkgs"] == ["other"]
    os.utime(rc, ns=(0, 0))
    key = f"{config._CACHE_VERSION}|{rc}|0|{rc.stat().st_size}"
    fake = config._to_cache(key, {"source_pkgs": ["from-cache"]})
    cached_values = config.read({**environ, config.CACHE_ENV: fake}).values
    assert cached_values is not None
    assert cached_values["source_pkgs"] == ["from-cache"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["py", "-c", "pass"], ("command", "pass")),
        (["py", "-m", "pkg.mod", "x"], ("module", "pkg.mod")),
        (["py", "-Im", "pkg"], ("module", "pkg")),
        (["py", "-X", "importtime", "-W", "error", "s.py", "-m"], ("script", "s.py")),
        (["py", "-Ximporttime", "s.py"], ("script", "s.py")),
        (["py", "-u", "--", "s.py"], ("script", "s.py")),
        (["py"], ("stdin", "")),
        (["py", "-"], ("stdin", "")),
    ],
)
def test_main_target(argv: list[str], expected: tuple[str, str]) -> None:
    assert scope.main_target(argv) == expected


def test_pytest_starts_eagerly(tmp_path: Path) -> None:
    found = scope.Scope({"source_pkgs": ["app"]}, str(tmp_path))
    assert scope.main_in_scope(found, [sys.executable, "-m", "pytest", "-q"])
    assert scope.main_in_scope(found, ["py", "/venv/bin/pytest"])
    assert scope.main_in_scope(found, ["py", "/somewhere/app.py"])  # named like the package
    assert not scope.main_in_scope(found, ["py", "tools/helper.py"])


def test_pytest_summary_says_how_many_processes_the_scope_skipped(tmp_path: Path) -> None:
    """pytest-cov + covhook's plugin: CLI children measured, helper children skipped."""
    pytest.importorskip("pytest_cov")  # the coverage 7.10.4 cell has no pytest-cov
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "cli.py").write_text("print('cli')  # cli line\n")
    (tmp_path / "helper.py").write_text("print('helper')\n")
    (tmp_path / "test_it.py").write_text(
        "import subprocess, sys\n"
        "def test_cli():\n"
        "    subprocess.run([sys.executable, '-m', 'app.cli'], check=True)\n"
        "def test_helpers():\n"
        "    for _ in range(2):\n"
        "        subprocess.run([sys.executable, 'helper.py'], check=True)\n"
    )
    out = processes.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--cov=app", "-q"],
        tmp_path,
        envs.clean_env(),
        check=True,
    ).stdout
    assert "covhook: 2 processes skipped by scope" in out, out
    assert data.lines_of(tmp_path / ".coverage", "cli.py") == {1}


INI_SAMPLES = [
    "[run]\nsource = src\nbranch = True\n",
    "[run]\nsource =\n    src,\n    pkg\n\n    more\n# comment\n[report]\nshow_missing: true\n",
    "# lead comment\n[coverage:run]\nSource = a, b\n  ; indented comment\n  c\nomit = x = y\n",
    "[run]\ndata_file = /tmp/d/.coverage\ninclude = */x/*:y\n[covhook]\nskip = *helper*\n",
    "[run]\nsource = a\n\tb\n[paths]\nsource =\n    src/\n    */site-packages/\n",
]


@pytest.mark.parametrize("text", INI_SAMPLES)
def test_ini_reader_reads_like_configparser(text: str) -> None:
    import configparser

    parser = configparser.RawConfigParser()
    parser.read_string(text)
    expected = {name: dict(parser.items(name)) for name in parser.sections()}
    assert config.parse_ini(text) == expected


@pytest.mark.parametrize(
    "text",
    ["source = src\n", "[run]\nsource = a\nsource = b\n", "[run]\njunk\n", "[DEFAULT]\nx = 1\n"],
    ids=["no-section", "duplicate", "no-delimiter", "default-section"],
)
def test_ini_reader_gives_up_where_configparser_differs_or_fails(text: str) -> None:
    assert config.parse_ini(text) is None


def test_reading_in_scope_code_is_not_running_it(make_covhook_env, tmp_path: Path) -> None:
    """ast.parse (linters) and coverage's own analysis compile() in-scope files: no start."""
    env = make_covhook_env()
    rc = project(tmp_path)
    init = tmp_path / "src" / "app" / "__init__.py"
    run(
        env, tmp_path, rc, "-c", f"import ast; ast.parse(open({str(init)!r}).read(), {str(init)!r})"
    )
    assert data.data_files(tmp_path) == []
    assert scope.skipped_count(str(tmp_path)) == 1


def test_coverage_and_covhook_commands_are_neither_measured_nor_counted(
    make_covhook_env, tmp_path: Path
) -> None:
    env = make_covhook_env()
    rc = project(tmp_path)
    run(env, tmp_path, rc, "main.py")
    run(env, tmp_path, rc, "-m", "coverage", "combine", f"--rcfile={rc}")
    out = run(env, tmp_path, rc, "-m", "coverage", "report", f"--rcfile={rc}")
    assert "__init__.py" in out
    assert data.data_files(tmp_path) == []  # report compiled __init__.py: no start
    assert scope.skipped_count(str(tmp_path)) == 0
    # `coverage run` measures the process itself: covhook does not start a second one.
    run(env, tmp_path, rc, "-m", "coverage", "run", f"--rcfile={rc}", "main.py")
    assert len(data.data_files(tmp_path)) == 1


def test_a_module_run_with_dash_m_that_source_names_is_measured(tmp_path: Path) -> None:
    """``python -m pkg.main`` with ``source = pkg.main``: runpy runs it as ``__main__``.

    It is never imported under its own name, so lazy start must not wait for
    that import: the process starts measuring at once (coverage.py's own
    process-startup test ``test_pth_and_source_work_together[main-pkg--m]``).
    """

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "main.py").write_text("a = 2\nb = 3\n")
    done = measured.run(
        sys.executable, tmp_path, "-m", "pkg.main", rc_text="[run]\nsource = pkg.main\n"
    )
    assert done.returncode == 0, done.stderr
    assert data.lines_by_file(tmp_path / ".coverage") == {"main.py": {1, 2}}
