"""The settings table (covhook.settings), the defaults and the tagging, in-process.

Bare ``coverage.Coverage(config_file=False)`` objects, milliseconds each
(covdefaults' tests are the model).  The last test runs a real measured
process to check that a bad value is one line and measurement goes on.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest

from covhook import origin, settings
from covhook.startup import defaults, plugin
from support import data, measured

SRC = Path(__file__).resolve().parents[1] / "src" / "covhook"
REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference.md"


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # tags would get an xdist role
    settings.forget()
    yield
    settings.forget()
    plugin._startup_coverage = None


def bare() -> coverage.Coverage:
    return coverage.Coverage(config_file=False)


# -- the table -------------------------------------------------------------------


def test_reference_tables_are_the_table() -> None:
    text = REFERENCE.read_text("utf-8")
    for table in (settings.options_markdown(), settings.environment_markdown()):
        assert table in text, (
            "docs/reference.md is out of date with src/covhook/settings.py: replace its "
            f"generated table with (python -m covhook.settings):\n{table}"
        )


def test_every_covhook_variable_the_code_reads_is_in_the_table() -> None:
    used = set()
    for path in SRC.rglob("*.py"):
        used |= set(re.findall(r"\bCOVHOOK_[A-Z_]+\b", path.read_text("utf-8")))
    assert used <= {s.env for s in settings.SETTINGS}


# Start-up modules that read covhook's variables only through the table (issue 24).
THROUGH_THE_TABLE = ["lean.py", "recorder.py", "scope.py", "defaults.py", "config.py"]
DIRECT_READ = re.compile(r"""environ(?:\.get\(|\[)\s*["']COVHOOK_|environ\.get\(\w+_ENV\b""")


@pytest.mark.parametrize("name", THROUGH_THE_TABLE)
def test_start_up_reads_covhook_variables_through_the_table(name: str) -> None:
    text = (SRC / "startup" / name).read_text("utf-8")
    assert DIRECT_READ.findall(text) == []


def test_combine_workers_read_through_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from covhook.host import fastcombine

    monkeypatch.setenv("COVHOOK_COMBINE_WORKERS", "3")
    assert fastcombine.default_workers(1) == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", False), ("false", False), ("Off", False), ("no", False), ("1", True), ("yes", True)],
)
def test_bool_values(raw: str, expected: bool) -> None:
    assert settings.value("signals", {}, {"COVHOOK_SIGNALS": raw}) is expected
    assert settings.value("signals", {"signals": raw}, {}) is expected


def test_environment_wins_and_toml_types_are_taken_as_they_are() -> None:
    assert settings.value("atomic", {"atomic": True}, {"COVHOOK_ATOMIC": "0"}) is False
    assert settings.value("atomic", {"atomic": False}, {}) is False
    assert settings.value("flush_seconds", {"flush_seconds": 2}, {}) == 2.0
    assert settings.value("flush_seconds", {}, {"COVHOOK_FLUSH_SECONDS": "0"}) is None
    assert settings.value("scrubbed_env", {}, {"COVHOOK_SCRUBBED_ENV": " Measure"}) == "measure"
    assert settings.value("origin", {"origin": "ci"}, {}) == "ci"
    # An empty variable is unset: the option applies.
    assert settings.value("signals", {"signals": "false"}, {"COVHOOK_SIGNALS": ""}) is False


@pytest.mark.parametrize(
    ("name", "env", "raw", "words"),
    [
        ("signals", "COVHOOK_SIGNALS", "flase", ("not true or false", "default (true)")),
        (
            "flush_seconds",
            "COVHOOK_FLUSH_SECONDS",
            "-3",
            ("periodic flush is off", "0.01 to 86400"),
        ),
        ("flush_seconds", "COVHOOK_FLUSH_SECONDS", "nan", ("periodic flush is off",)),
        ("flush_seconds", "COVHOOK_FLUSH_SECONDS", "1e-9", ("0.01 to 86400",)),
        ("flush_seconds", "COVHOOK_FLUSH_SECONDS", "inf", ("0.01 to 86400",)),
        ("scrubbed_env", "COVHOOK_SCRUBBED_ENV", "meassure", ("report, measure",)),
    ],
)
def test_bad_value_is_one_line_and_the_default(
    name: str, env: str, raw: str, words: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    """The table checks every value, the flush interval's bounds included (issue 8 item 9)."""
    assert settings.value(name, {}, {env: raw}) == settings.BY_NAME[name].default
    (line,) = capsys.readouterr().err.splitlines()
    assert f"{env} = {raw!r}" in line.split(". Fix: ")[0]
    assert "Fix: " in line
    for word in words:
        assert word in line


def test_unknown_options_and_bad_values_warned_once_per_process(
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = {"signal": "false", "atomic": "maybe"}
    first = settings.for_process(options)
    assert settings.for_process(options) is first
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    assert "unknown option in [covhook]: signal; ignored" in lines[0]
    assert "[covhook] atomic = 'maybe'" in lines[1]
    assert first.atomic is True


# -- defaults and tagging on a bare Coverage ---------------------------------------


def test_apply_on_a_bare_coverage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COVHOOK_ORIGIN", "ci box")
    cov = bare()
    defaults.apply(cov, None)
    assert "covhook" in cov.get_option("run:plugins")  # type: ignore[operator]
    assert cov.get_option("run:parallel") is True
    assert defaults.OWN_FILES in cov.get_option("run:omit")  # type: ignore[operator]
    assert cov.get_option("run:patch") == ["_exit", "execv", "subprocess"]
    assert cov.get_option("run:sigterm") is False
    assert cov.get_option("run:data_file") == str(tmp_path / ".coverage.origin-ci-box")
    assert cov.get_option("run:context") == "origin-ci-box"


def test_apply_keeps_the_users_context_and_retags_a_parents_tag(tmp_path: Path) -> None:
    cov = bare()
    cov.set_option("run:context", "mine")
    cov.set_option("run:data_file", str(tmp_path / "d" / ".cov.origin-parent"))
    defaults.apply(cov, None)
    here = origin.detect().tag
    assert cov.get_option("run:context") == "mine"
    assert cov.get_option("run:data_file") == str(tmp_path / "d" / f".cov.{here}")


def test_signals_option_keeps_coverages_sigterm(tmp_path: Path) -> None:
    rc = tmp_path / ".coveragerc"
    rc.write_text("[run]\nsigterm = true\n[covhook]\nsignals = false\n")
    cov = coverage.Coverage(config_file=str(rc))
    defaults.apply(cov, str(rc))
    assert cov.get_option("run:sigterm") is True
    assert cov.get_option("covhook:signals") == "false"


def test_configurer_leaves_the_startup_coverage_alone() -> None:
    cov = bare()
    defaults.apply(cov, None)
    tagged = cov.get_option("run:data_file")
    tagger = plugin.OriginTagger({})
    cov.set_option("run:data_file", "/elsewhere/.coverage")
    for config in (cov, cov.config):
        tagger.configure(config)  # no stack walk, no retag
        assert plugin.is_starting_measurement(config)
    assert cov.get_option("run:data_file") == "/elsewhere/.coverage"
    assert tagged != "/elsewhere/.coverage"


def test_configurer_does_not_tag_a_combining_coverage() -> None:
    other = bare()
    other.set_option("run:parallel", True)
    plugin.OriginTagger({}).configure(other)
    assert str(other.get_option("run:data_file")) == ".coverage"
    assert not plugin.is_starting_measurement(other)


# -- one real process ------------------------------------------------------------------


def test_bad_value_in_the_config_is_one_line_and_the_process_is_measured(
    tmp_path: Path,
) -> None:
    (tmp_path / "prog.py").write_text("x = 1\nprint('ran')\n")
    rc_text = "[run]\nparallel = true\n[covhook]\nsignals = flase\n"
    done = measured.run(sys.executable, tmp_path, "prog.py", rc_text=rc_text)
    assert done.stdout == "ran\n"
    (line,) = done.stderr.splitlines()
    assert line.startswith("covhook: [covhook] signals = 'flase' is not true or false")
    assert "Fix: " in line
    (written,) = data.data_files(tmp_path)
    assert data.lines_of(written, "prog.py") == {1, 2}


@pytest.mark.parametrize("raw", [None, "", "0", "1", "yes", "false", " "])
def test_start_up_reads_disable_as_the_table_does(raw: str | None) -> None:
    from covhook.startup import boot

    environ = {} if raw is None else {"COVHOOK_DISABLE": raw}
    assert boot.disabled(environ) is settings.disabled(environ)
    assert settings.BY_NAME["disable"].env == "COVHOOK_DISABLE"
