"""Per-test contexts reach a container started through ``covhook docker-args`` (issue 22).

A real inner pytest (pytest-cov, ``--cov-context=test``) whose test runs the
docs' ``docker run $(covhook docker-args ...)`` line on our own dockerd
(tests/support/docker.py); the container's lines, combined on the host, carry
``docker-<id>|<test id>|run``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import launchers, processes
from support.docker import (
    Engine,
    build_context,
    dockerd_engine,
    import_base,
    marked,
    new_checkout,
    run_block,
    shell_env,
    tags,
)

pytestmark = [pytest.mark.containers, pytest.mark.docker, pytest.mark.slow]

INNER_TEST = """\
import subprocess


def test_square_in_container():
    subprocess.run(
        'docker run --rm --network none $(covhook docker-args --data-dir covdata) '
        '-v "$PWD":/app -w /app myapp-cov python3 scripts/report.py square',
        shell=True,
        check=True,
    )
"""


@pytest.fixture(scope="module")
def docker() -> Iterator[Engine]:
    with dockerd_engine() as engine:
        yield engine


@pytest.fixture(scope="module")
def image(docker: Engine, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The docs' Dockerfile, built with this checkout's covhook wheel."""
    import_base(docker)
    ctx = build_context(tmp_path_factory.mktemp("docker-build"), wheel)
    run_block("build", ctx, shell_env(docker), timeout=600)
    return "myapp-cov"


def test_container_lines_carry_the_test(docker: Engine, image: str) -> None:
    with new_checkout() as checkout:
        (checkout / "tests" / "test_in_container.py").write_text(INNER_TEST)
        env = shell_env(docker)
        inner = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        proc = processes.run(
            [*inner, "--cov=scripts", "--cov-context=test", "tests/test_in_container.py"],
            checkout,
            env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        (tag,) = tags(checkout / "covdata")
        assert tag.startswith("docker-"), tag

        (checkout / ".coverage").unlink()  # pytest-cov's own data: only the container's here
        run_block("combine", checkout, env)
        report = checkout / "scripts" / "report.py"
        by_context = launchers.lines_by_context(checkout / ".coverage", report.name)
        test = "tests/test_in_container.py::test_square_in_container|run"
        assert set(by_context) == {f"{tag}|{test}"}, by_context
        assert marked(report, "by-script") - {1} <= by_context[f"{tag}|{test}"]
