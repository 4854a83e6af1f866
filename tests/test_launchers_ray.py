"""Ray tasks and actors for real: measured although Ray's workers never run atexit.

One Ray cluster (``ray start --head --block``, its files in a temp dir) serves
the whole test session and is stopped by its own pid at the end.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import data, envs, launchers

pytestmark = [pytest.mark.launchers, pytest.mark.ray, pytest.mark.slow]

DRIVER = "ray_driver.py"


@pytest.fixture(scope="session")
def ray_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    launchers.need_module("ray")
    ray = launchers.need_exe("ray")
    temp = tmp_path_factory.mktemp("ray")
    port = launchers.free_port()
    env = envs.clean_env(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    head = subprocess.Popen(
        [
            ray,
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            "--include-dashboard=false",
            f"--temp-dir={temp}",
            "--disable-usage-stats",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    try:
        launchers.wait_for(
            lambda: head.poll() is not None or list(temp.glob("session_latest")),
            120,
            "the Ray head",
        )
        assert head.poll() is None, "ray start --head exited"
        yield address
    finally:
        head.terminate()  # --block: ray start stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()


def test_ray_tasks_and_actor_are_measured(tmp_path: Path, ray_address: str) -> None:
    launchers.copy_programs(tmp_path, DRIVER)
    rc = launchers.write_rc(tmp_path)
    out = subprocess.run(
        [str(launchers.PYTHON), str(tmp_path / DRIVER), ray_address],
        cwd=tmp_path,
        env=launchers.measured_env(rc, COVHOOK_FLUSH_SECONDS="0.25", RAY_AUTH_MODE="disabled"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]

    program = tmp_path / DRIVER
    task_lines = launchers.marked(program, "ray-task")
    actor_lines = launchers.marked(program, "ray-actor")
    per_file = launchers.lines_per_file(tmp_path, DRIVER)
    task_files = [name for name, lines in per_file.items() if task_lines <= lines]
    actor_files = [name for name, lines in per_file.items() if actor_lines <= lines]
    assert task_files, per_file
    assert actor_files, per_file  # the actor was SIGKILLed: this is the flush's data
    combined, warnings = launchers.combine(tmp_path)
    assert warnings == ""
    assert task_lines | actor_lines <= data.lines_of(combined, DRIVER)
