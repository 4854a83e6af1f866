"""``covhook install / uninstall / status`` against real venvs and interpreters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from covhook.cli import main
from covhook.host import install as installer
from support import data, envs, measured, processes

RC = "[run]\nparallel = True\n"


def run_measured(python: Path, cwd: Path) -> list[Path]:
    (cwd / "prog.py").write_text("x = 1\n")
    (cwd / ".coveragerc").write_text(RC)
    measured.run(python, cwd, "prog.py", rc_text=None, check=True)
    return data.data_files(cwd)


@pytest.fixture(scope="session")
def shared_site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """coverage and covhook installed with ``pip install --target``: not a site directory."""
    target = tmp_path_factory.mktemp("shared-site")
    processes.run(
        [
            envs.PYTHONS["3.11"], "-m", "pip", "install", "-q", "--no-compile",
            "--target", target, "coverage==7.17.3", "platformdirs", "--no-deps", wheel,
        ],
        env=envs.clean_env(), check=True, timeout=600,
    )  # fmt: skip
    return target


def env_using(root: Path, shared: Path) -> envs.Env:
    """A venv importing coverage and covhook from ``shared``, by a path .pth that sorts
    before the hook; its own site-packages holds no hook until 'covhook install'."""
    venv = envs.make_env(root, envs.PYTHONS["3.11"])
    (venv.site_packages / "_shared_site.pth").write_text(f"{shared}\n")
    return venv


@pytest.fixture
def other_env(shared_site: Path, tmp_path: Path) -> envs.Env:
    """Another venv where coverage and covhook are importable, without a hook yet."""
    return env_using(tmp_path / "other", shared_site)


@pytest.fixture
def pip_env(wheel: Path, tmp_path: Path) -> envs.Env:
    """A venv where 'pip install covhook' put the hook (pip owns it: RECORD lists it)."""
    return envs.make_env(tmp_path / "pipenv", envs.PYTHONS["3.11"], "coverage==7.17.3", str(wheel))


@pytest.mark.slow
def test_install_cycle_into_another_venv(
    other_env: envs.Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pth = other_env.site_packages / installer.PTH_NAME
    assert not pth.exists()
    work = tmp_path / "work"
    work.mkdir()
    assert run_measured(other_env.python, work) == []  # no hook of any kind yet

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
def test_a_hook_from_covhook_0_1_still_measures_and_is_upgraded(
    other_env: envs.Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """covhook 0.1's hook line imports ``covhook._startup`` (now covhook.startup.boot)."""
    pth = other_env.site_packages / installer.PTH_NAME
    old_text = installer.hook_text().replace("covhook.startup.boot", "covhook._startup")
    assert "covhook._startup" in old_text
    pth.write_text(old_text)
    work = tmp_path / "work"
    work.mkdir()
    (tagged,) = run_measured(other_env.python, work)
    assert tagged.name.startswith(".coverage.host-")

    assert main(["install", "--python", str(other_env.python)]) == 0
    assert pth.read_text() == installer.hook_text()
    assert "covhook: installed:" in capsys.readouterr().out
    pth.write_text(old_text)
    assert main(["uninstall", "--python", str(other_env.python)]) == 0
    assert not pth.exists()


@pytest.mark.slow
def test_hook_pip_put_in_a_target_dir_stays_pips(wheel: Path, tmp_path: Path) -> None:
    """A directory made with pip --target, as one would for an image's site-packages."""
    target = tmp_path / "site"
    processes.run(
        [
            envs.PYTHONS["3.11"], "-m", "pip", "install", "-q", "--target", target,
            "coverage==7.17.3", "--no-deps", wheel,
        ],
        env=envs.clean_env(), check=True, timeout=600,
    )  # fmt: skip
    (target / installer.PTH_NAME).unlink()  # what 'covhook uninstall' used to do
    assert main(["install", "--site-packages", str(target)]) == 0
    assert (target / installer.PTH_NAME).read_text() == installer.hook_text()
    assert main(["uninstall", "--site-packages", str(target)]) == 1
    assert (target / installer.PTH_NAME).read_text() == installer.hook_text()


@pytest.mark.slow
def test_hook_pip_installed_is_never_removed(
    pip_env: envs.Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """'pip install covhook' owns its a0_covhook.pth: install/uninstall leave it to pip."""
    pth = pip_env.site_packages / installer.PTH_NAME
    python = str(pip_env.python)
    assert main(["install", "--python", python]) == 0
    assert "already installed by 'pip install covhook'" in capsys.readouterr().out
    assert main(["status"]) == 0
    assert "no hooks installed" in capsys.readouterr().out  # not recorded: not covhook's

    assert main(["uninstall", "--all"]) == 0
    assert pth.read_text() == installer.hook_text()
    line = assert_refused(["uninstall", "--python", python], capsys, "pip install covhook")
    assert "pip uninstall covhook" in line
    assert pth.read_text() == installer.hook_text()

    # A record an older covhook wrote for pip's file: --all forgets it, keeps the file.
    state = Path(os.environ["COVHOOK_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    row = {"pth": str(pth), "python": python, "installed_at": 0}
    (state / "installs.json").write_text(json.dumps([row]))
    assert main(["uninstall", "--all"]) == 0
    assert "kept" in capsys.readouterr().out
    assert pth.read_text() == installer.hook_text()
    assert json.loads((state / "installs.json").read_text()) == []

    # Removed by hand (or by an older covhook): install puts pip's file back.
    pth.unlink()
    assert main(["install", "--python", python]) == 0
    assert "restored" in capsys.readouterr().out
    assert pth.read_text() == installer.hook_text()


@pytest.mark.slow
def test_install_refuses_to_overwrite_a_foreign_hook_file(
    other_env: envs.Env, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = other_env.site_packages / installer.PTH_NAME
    foreign.write_text("import something_else\n")
    assert_refused(["install", "--python", str(other_env.python)], capsys, "not a covhook hook")
    assert foreign.read_text() == "import something_else\n"
    assert main(["status"]) == 0
    assert "no hooks installed" in capsys.readouterr().out


@pytest.mark.slow
def test_user_site_of_a_venv_is_refused(
    other_env: envs.Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A venv never reads the user site: a hook there would never run."""
    os.environ["PYTHONUSERBASE"] = str(tmp_path / "userbase")
    assert_refused(
        ["install", "--python", str(other_env.python), "--user"],
        capsys,
        "does not read the user site-packages",
    )
    assert not (tmp_path / "userbase").exists()


@pytest.mark.slow
def test_status_fails_for_a_missing_or_broken_hook(
    other_env: envs.Env, capsys: pytest.CaptureFixture[str]
) -> None:
    pth = other_env.site_packages / installer.PTH_NAME
    assert main(["install", "--python", str(other_env.python)]) == 0
    assert main(["status"]) == 0
    pth.unlink()
    assert main(["status"]) == 1
    assert "missing" in capsys.readouterr().out
    assert main(["install", "--python", str(other_env.python)]) == 0
    (other_env.site_packages / "_shared_site.pth").unlink()  # covhook no longer importable
    assert main(["status"]) == 1
    assert "NOT importable" in capsys.readouterr().out


@pytest.mark.slow
def test_install_user_site(wheel: Path, tmp_path: Path) -> None:
    """coverage in the user site, covhook importable from a directory a path .pth names."""
    python = envs.PYTHONS["3.12"]
    if not python.exists():
        pytest.skip("Python 3.12 is not installed")
    os.environ["PYTHONUSERBASE"] = str(tmp_path / "userbase")
    processes.run(
        [python, "-m", "pip", "install", "-q", "--user", "coverage==7.17.3", "platformdirs"],
        env=envs.clean_env(PYTHONUSERBASE=os.environ["PYTHONUSERBASE"]),
        check=True,
        timeout=600,
    )
    covhook_dir = tmp_path / "covhook-only"
    processes.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--target", covhook_dir, wheel],
        env=envs.clean_env(),
        check=True,
        timeout=600,
    )
    usersite = next((tmp_path / "userbase").rglob("site-packages"))
    (usersite / "_covhook_only.pth").write_text(f"{covhook_dir}\n")
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
    measured.run(python, cwd, "prog.py", rc_text=None, check=True, PYTHONUSERBASE=userbase)
    return data.data_files(cwd)


def assert_refused(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    assert main(argv) == 1  # coverage's ERR
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("covhook: error: ")
    assert "Fix: " in lines[0]
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.mark.processes  # covhook's code starts the process (conftest's rule cannot see it)
def test_refuses_missing_interpreter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_refused(["install", "--python", str(tmp_path / "nope")], capsys, "does not exist")


@pytest.mark.slow
@pytest.mark.parametrize(
    "requirements", [("coverage==7.17.3",), ()], ids=["has-coverage", "nothing"]
)
def test_install_puts_covhook_into_an_env_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requirements: tuple[str, ...]
) -> None:
    """The README's promise: 'install --python EXE' makes EXE's processes measured, even when
    covhook (and coverage) are not there yet and the venv has no pip of its own."""
    venv = envs.make_env(tmp_path / "v", envs.PYTHONS["3.11"], *requirements)
    work = tmp_path / "work"
    work.mkdir()
    # Without covhook: nothing, or coverage's own .pth measuring untagged.
    assert not [f for f in run_measured(venv.python, work) if f.name.startswith(".coverage.host-")]
    for stale in data.data_files(work):
        stale.unlink()
    assert main(["install", "--python", str(venv.python)]) == 0
    out = capsys.readouterr().out
    pth = venv.site_packages / installer.PTH_NAME
    assert (
        f"installed covhook and its hook with pip ('pip uninstall covhook' removes both): {pth}"
        in out
    )
    assert installer.pip_owner(pth) == "covhook"  # pip's: pip uninstall removes it
    (measured,) = run_measured(venv.python, work)
    assert measured.name.startswith(".coverage.host-")  # covhook's hook, tagged
    assert data.lines_by_file(measured) == {"prog.py": {1}}
    assert main(["install", "--python", str(venv.python)]) == 0  # and again: nothing to do
    assert "already installed by 'pip install covhook'" in capsys.readouterr().out


@pytest.mark.slow
def test_uninstall_all_with_python_takes_only_that_envs_hooks(
    shared_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = (env_using(tmp_path / name, shared_site) for name in ("first", "second"))
    for env in (first, second):
        assert main(["install", "--python", str(env.python)]) == 0
    assert main(["uninstall", "--all", "--python", str(first.python)]) == 0
    assert not (first.site_packages / installer.PTH_NAME).exists()
    assert (second.site_packages / installer.PTH_NAME).exists()
    capsys.readouterr()
    assert main(["status"]) == 0
    status = capsys.readouterr().out
    assert str(second.site_packages) in status
    assert str(first.site_packages) not in status
    assert main(["uninstall", "--all", "--site-packages", str(second.site_packages)]) == 0
    assert not (second.site_packages / installer.PTH_NAME).exists()


@pytest.mark.slow
def test_refuses_read_only_site_packages(
    other_env: envs.Env, capsys: pytest.CaptureFixture[str], unwritable: None
) -> None:
    site = other_env.site_packages
    make_read_only(site)
    try:
        argv = ["install", "--python", str(other_env.python)]
        assert_refused(argv, capsys, "cannot write", str(site))
        assert [p.name for p in site.iterdir() if "covhook" in p.name] == []
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
    assert_refused(["install", "--bogus"], capsys, "unrecognized arguments: --bogus")


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
        processes.run(["chattr", "+i", path], check=True)


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        processes.run(["chattr", "-i", path], check=True)
    path.chmod(0o755)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", ("corrupt",)),
        ('[{"pth": 5, "python": null, "installed_at": 0}]', ("corrupt", "wrong type")),
        ('{"pth": "x"}', ("corrupt", "not a JSON list")),
        (None, ("cannot read the install record",)),  # installs.json is a directory
    ],
    ids=["not-json", "pth-not-a-string", "not-a-list", "a-directory"],
)
def test_bad_install_record_is_one_line_and_no_hook_is_written(
    other_env: envs.Env, capsys: pytest.CaptureFixture[str], content: str | None, words: tuple[str]
) -> None:
    state = Path(os.environ["COVHOOK_STATE_DIR"])
    state.mkdir(parents=True)
    if content is None:
        (state / "installs.json").mkdir()
    else:
        (state / "installs.json").write_text(content)
    for argv in (["status"], ["uninstall", "--all"]):
        assert_refused(argv, capsys, "installs.json", *words)
    assert_refused(["install", "--python", str(other_env.python)], capsys, *words)
    assert not (other_env.site_packages / installer.PTH_NAME).exists()


@pytest.mark.slow
def test_unwritable_install_record_writes_no_hook(
    other_env: envs.Env, tmp_path: Path, capsys: pytest.CaptureFixture[str], unwritable: None
) -> None:
    state = tmp_path / "locked-state"
    state.mkdir()
    os.environ["COVHOOK_STATE_DIR"] = str(state)
    make_read_only(state)
    try:
        assert_refused(
            ["install", "--python", str(other_env.python)], capsys, "install record", str(state)
        )
    finally:
        make_writable(state)
    assert not (other_env.site_packages / installer.PTH_NAME).exists()


@pytest.mark.slow
def test_concurrent_installs_are_all_recorded(shared_site: Path, tmp_path: Path) -> None:
    """20 'covhook install' processes at once: 20 rows; 'uninstall --all' removes 20 hooks."""
    venvs = [env_using(tmp_path / f"v{i}", shared_site) for i in range(20)]
    env = envs.clean_env(COVHOOK_STATE_DIR=os.environ["COVHOOK_STATE_DIR"])
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "covhook", "install", "--python", str(v.python)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for v in venvs
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
    hooks = [v.site_packages / installer.PTH_NAME for v in venvs]
    assert all(h.is_file() for h in hooks)
    rows = json.loads((Path(os.environ["COVHOOK_STATE_DIR"]) / "installs.json").read_text())
    assert sorted(row["pth"] for row in rows) == sorted(map(str, hooks))
    assert main(["uninstall", "--all"]) == 0
    assert [h for h in hooks if h.exists()] == []


@pytest.mark.slow
def test_status_names_a_hook_its_interpreter_never_reads(
    other_env: envs.Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hook an older covhook wrote into the user site for a venv: status says it never runs."""
    os.environ["PYTHONUSERBASE"] = str(tmp_path / "userbase")
    usersite = Path(str(installer.probe_python(str(other_env.python))["usersite"]))
    usersite.mkdir(parents=True)
    pth = usersite / installer.PTH_NAME
    pth.write_text(installer.hook_text())
    state = Path(os.environ["COVHOOK_STATE_DIR"])
    state.mkdir(parents=True)
    row = {"pth": str(pth), "python": str(other_env.python), "installed_at": 0}
    (state / "installs.json").write_text(json.dumps([row]))
    assert main(["status"]) == 1
    assert f"NOT read by {other_env.python}" in capsys.readouterr().out
