"""``covhook install / uninstall / status`` against real venvs and interpreters."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from covhook import install as installer
from covhook.cli import main
from support import data, envs

RC = "[run]\nparallel = True\n"


def run_measured(python: Path, cwd: Path) -> list[Path]:
    (cwd / "prog.py").write_text("x = 1\n")
    (cwd / ".coveragerc").write_text(RC)
    subprocess.run(
        [str(python), "prog.py"],
        cwd=cwd,
        env=envs.clean_env(COVERAGE_PROCESS_START=str(cwd / ".coveragerc")),
        check=True,
    )
    return data.data_files(cwd)


@pytest.fixture
def other_env(wheel: Path, tmp_path: Path) -> envs.Env:
    """Another venv where coverage and covhook are importable."""
    return envs.make_env(tmp_path / "other", envs.PYTHONS["3.11"], "coverage==7.17.3", str(wheel))


@pytest.mark.slow
def test_install_cycle_into_another_venv(
    other_env: envs.Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pth = other_env.site_packages / installer.PTH_NAME
    assert main(["uninstall", "--python", str(other_env.python)]) == 0
    assert not pth.exists()
    work = tmp_path / "work"
    work.mkdir()
    (untagged,) = run_measured(other_env.python, work)  # coverage's own hook, no tag
    assert not untagged.name.startswith(".coverage.host-")
    untagged.unlink()

    assert main(["install", "--python", str(other_env.python)]) == 0
    assert pth.read_text() == installer.hook_text()
    assert main(["install", "--python", str(other_env.python)]) == 0  # idempotent
    out = capsys.readouterr().out
    assert f"covhook: installed: {pth}" in out
    assert f"covhook: already installed: {pth}" in out
    assert [p.name for p in pth.parent.iterdir() if p.name.startswith(".covhook-")] == []

    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert str(pth) in status
    assert "importable" in status
    assert "current" in status

    (tagged,) = run_measured(other_env.python, work)
    assert tagged.name.startswith(".coverage.host-")

    assert main(["uninstall", "--all"]) == 0
    assert not pth.exists()
    assert main(["status"]) == 0
    assert "no hooks installed" in capsys.readouterr().out


@pytest.mark.slow
def test_install_into_site_packages_dir(wheel: Path, tmp_path: Path) -> None:
    """A directory made with pip --target, as one would for an image's site-packages."""
    target = tmp_path / "site"
    subprocess.run(
        [
            str(envs.PYTHONS["3.11"]), "-m", "pip", "install", "-q", "--target", str(target),
            "coverage==7.17.3", "--no-deps", str(wheel),
        ],
        check=True,
        env=envs.clean_env(),
    )  # fmt: skip
    (target / installer.PTH_NAME).unlink()
    assert main(["install", "--site-packages", str(target)]) == 0
    assert (target / installer.PTH_NAME).read_text() == installer.hook_text()
    assert main(["uninstall", "--site-packages", str(target)]) == 0
    assert not (target / installer.PTH_NAME).exists()


@pytest.mark.slow
def test_install_user_site(wheel: Path, tmp_path: Path) -> None:
    python = envs.PYTHONS["3.12"]
    if not python.exists():
        pytest.skip("Python 3.12 is not installed")
    os.environ["PYTHONUSERBASE"] = str(tmp_path / "userbase")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--user", "coverage==7.17.3", str(wheel)],
        check=True,
        env=envs.clean_env(PYTHONUSERBASE=os.environ["PYTHONUSERBASE"]),
    )
    usersite = next((tmp_path / "userbase").rglob("site-packages"))
    (usersite / installer.PTH_NAME).unlink()
    assert main(["install", "--python", str(python), "--user"]) == 0
    assert (usersite / installer.PTH_NAME).is_file()
    work = tmp_path / "work"
    work.mkdir()
    (tagged,) = run_measured_user(python, work, os.environ["PYTHONUSERBASE"])
    assert tagged.name.startswith(".coverage.host-")
    assert main(["uninstall", "--all"]) == 0
    assert not (usersite / installer.PTH_NAME).exists()


def run_measured_user(python: Path, cwd: Path, userbase: str) -> list[Path]:
    (cwd / "prog.py").write_text("x = 1\n")
    (cwd / ".coveragerc").write_text(RC)
    subprocess.run(
        [str(python), "prog.py"],
        cwd=cwd,
        env=envs.clean_env(
            COVERAGE_PROCESS_START=str(cwd / ".coveragerc"), PYTHONUSERBASE=userbase
        ),
        check=True,
    )
    return data.data_files(cwd)


def assert_refused(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("covhook: error: ")
    assert "Fix: " in lines[0]
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_refuses_missing_interpreter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_refused(["install", "--python", str(tmp_path / "nope")], capsys, "does not exist")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("requirements", "missing"),
    [(("coverage==7.17.3",), "covhook"), ((), "coverage covhook")],
    ids=["no-covhook", "nothing"],
)
def test_refuses_env_that_cannot_import_the_hook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requirements: tuple[str, ...], missing: str
) -> None:
    venv = envs.make_env(tmp_path / "v", envs.PYTHONS["3.11"], *requirements)
    line = assert_refused(["install", "--python", str(venv.python)], capsys, "cannot import")
    assert line.endswith(f"Fix: {venv.python} -m pip install {missing}")
    assert not (venv.site_packages / installer.PTH_NAME).exists()


@pytest.mark.slow
def test_refuses_read_only_site_packages(
    other_env: envs.Env, capsys: pytest.CaptureFixture[str], unwritable: None
) -> None:
    site = other_env.site_packages
    (site / installer.PTH_NAME).unlink()
    make_read_only(site)
    try:
        assert_refused(["install", "--site-packages", str(site)], capsys, "cannot write", str(site))
        assert sorted(p.name for p in site.iterdir() if "covhook" in p.name) == [
            "a0_covhook_entry.start",  # PEP 829's entry point, installed with the wheel
            "covhook",
            "covhook-0.1.0.dist-info",
        ]
    finally:
        make_writable(site)
    assert main(["status"]) == 0
    assert "no hooks installed" in capsys.readouterr().out


def test_refuses_bad_site_packages_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_refused(["install", "--site-packages", str(tmp_path / "nope")], capsys, "not a dir")
    (tmp_path / "empty").mkdir()
    assert_refused(
        ["install", "--site-packages", str(tmp_path / "empty")],
        capsys,
        "cannot import coverage and covhook",
        "pip install --target",
    )


def test_uninstall_leaves_foreign_file_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    foreign = tmp_path / installer.PTH_NAME
    foreign.write_text("import something_else\n")
    assert_refused(["uninstall", "--site-packages", str(tmp_path)], capsys, "not a covhook hook")
    assert foreign.read_text() == "import something_else\n"


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["install", "--bogus"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_corrupt_install_record(capsys: pytest.CaptureFixture[str]) -> None:
    state = Path(os.environ["COVHOOK_STATE_DIR"])
    state.mkdir(parents=True)
    (state / "installs.json").write_text("{not json")
    assert_refused(["status"], capsys, "corrupt", "installs.json")


@pytest.fixture
def unwritable() -> None:
    if os.geteuid() == 0 and shutil.which("chattr") is None:
        pytest.skip("root without chattr cannot make a read-only directory")


def make_read_only(path: Path) -> None:
    path.chmod(0o555)
    if os.access(path, os.W_OK):
        subprocess.run(["chattr", "+i", str(path)], check=True)


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    path.chmod(0o755)
