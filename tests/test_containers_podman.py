"""Podman for real: the same Dockerfile and the same covhook flags as with Docker.

Podman runs rootful here with its own storage under a temp dir; the docs'
``podman`` commands reach it through a small wrapper on PATH that adds the
storage options (the only difference from a user's shell).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import data
from support.docker import (
    OWNER,
    Engine,
    build_context,
    import_base,
    lines_by_path,
    marked,
    new_checkout,
    owners,
    podman_engine,
    run_block,
    shell_env,
    world_writable,
)

pytestmark = [pytest.mark.containers, pytest.mark.podman, pytest.mark.slow]


@pytest.fixture
def checkout() -> Iterator[Path]:
    """The sample project with a data dir owned by OWNER (see support.docker.new_checkout)."""
    with new_checkout() as project:
        yield project


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    """Podman on private storage, and a bin dir whose ``podman`` uses that storage."""
    with podman_engine() as engine:
        shim_dir = tmp_path_factory.mktemp("podman-shim")
        shim = shim_dir / "podman"
        args = " ".join(f"'{a}'" for a in engine.global_args)
        shim.write_text(f'#!/bin/sh\nexec {engine.exe} {args} "$@"\n', "utf-8")
        shim.chmod(0o755)
        yield engine, str(shim_dir)


@pytest.fixture(scope="session")
def podman_image(
    podman: tuple[Engine, str], wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    engine, shim_dir = podman
    import_base(engine)
    ctx = build_context(tmp_path_factory.mktemp("podman-build"), wheel)
    run_block("podman-build", ctx, shell_env(engine, shim_dir), timeout=600)
    return "myapp-cov"


def test_podman_script_combines_to_host_paths(
    podman: tuple[Engine, str],
    podman_image: str,
    checkout: Path,
) -> None:
    engine, shim_dir = podman
    env = shell_env(engine, shim_dir)
    run_block("podman-run", checkout, env)

    covdata = checkout / "covdata"
    assert data.data_files(covdata) == []  # combined by the block
    assert owners(list(covdata.rglob("*"))) == {OWNER}
    assert world_writable(covdata) == []
    (tag,) = data.contexts(checkout / ".coverage")
    assert re.fullmatch(r"podman-[0-9a-f]{12}", tag), tag
    report, area = checkout / "scripts/report.py", checkout / "src/shapes/area.py"
    got = lines_by_path(checkout / ".coverage")
    assert got[str(report)] == marked(report, "by-script")
    assert got[str(area)] == marked(area, "by-import", "by-script")
    assert all(path.startswith(f"{checkout}/") for path in got), sorted(got)
