"""torchrun for real (torch CPU build, gloo): every rank of every attempt on every node measured.

Each rank's lines are read back per origin tag (the static context covhook
gives each process), so a rank whose data went missing, or went in under
another rank's, node's or attempt's tag, fails the test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import launchers

pytestmark = [pytest.mark.launchers, pytest.mark.torch, pytest.mark.slow]

WORKER = "torch_worker.py"


@pytest.fixture
def torchrun() -> str:
    launchers.need_module("torch")
    return launchers.need_exe("torchrun")


def worker_env(rc: Path, **extra: str) -> dict[str, str]:
    return launchers.measured_env(rc, OMP_NUM_THREADS="1", **extra)


def test_one_node_four_ranks_elastic_restart_and_sigtermed_siblings(
    tmp_path: Path, torchrun: str
) -> None:
    launchers.copy_programs(tmp_path, WORKER)
    rc = launchers.write_rc(tmp_path)
    cmd = [
        torchrun,
        "--standalone",
        "--nnodes=1",
        "--nproc_per_node=4",
        "--max-restarts=1",
        "--monitor-interval=0.2",
        "--local_addr=127.0.0.1",
        str(tmp_path / WORKER),
        "fail-once",
    ]
    out = subprocess.run(
        cmd,
        cwd=tmp_path,
        env=worker_env(rc),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]

    by_tag, marks = launchers.rank_lines(tmp_path, WORKER)
    every, fails, waits, finishes = (marks[m] for m in launchers.RANK_MARKERS)
    place = launchers.place()
    for attempt in (0, 1):
        for rank in range(4):
            tag = f"{place}_torch-n0-r{rank}of4-a{attempt}"
            assert tag in by_tag, sorted(by_tag)
            lines = by_tag[tag]
            assert every <= lines, tag
            if attempt == 1:
                assert finishes <= lines, tag
            elif rank == 1:
                assert fails <= lines, tag  # the failing rank's last line
                assert not (finishes & lines), tag
            else:
                # Siblings were SIGTERMed by torchrun while waiting: saved anyway.
                assert waits <= lines, tag
                assert not (finishes & lines), tag
    worker_tags = {t for t in by_tag if "_torch-" in t}
    assert len(worker_tags) == 8, sorted(worker_tags)
    assert launchers.tags_in_names(tmp_path) >= worker_tags


def test_two_nodes_two_ranks_each_c10d(tmp_path: Path, torchrun: str) -> None:
    launchers.copy_programs(tmp_path, WORKER)
    rc = launchers.write_rc(tmp_path)
    port = launchers.free_port()
    common = launchers.two_node_torchrun_args(port, str(tmp_path / WORKER), "normal")
    # Two "nodes" on one machine: COVHOOK_ORIGIN names each node's place.
    nodes = [
        subprocess.Popen(
            [torchrun, *common],
            cwd=tmp_path,
            env=worker_env(rc, COVHOOK_ORIGIN=f"node{name}"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for node in nodes:
        _, err = node.communicate(timeout=180)
        assert node.returncode == 0, err[-3000:]

    by_tag, marks = launchers.rank_lines(tmp_path, WORKER)
    every, finishes = marks["every-rank"], marks["finishing-rank"]
    worker_tags = sorted(t for t in by_tag if "_torch-" in t)
    assert len(worker_tags) == 4, worker_tags
    node_of_place: dict[str, set[int]] = {}
    ranks = set()
    for tag in worker_tags:
        assert every | finishes <= by_tag[tag], tag
        place, role = tag.split("_", 1)
        _, node, rank_of, attempt = role.split("-")
        assert attempt == "a0"
        rank = int(rank_of[1:].split("of")[0])
        ranks.add(rank)
        node_index = int(node[1:])
        # c10d numbers the nodes; ranks 2n and 2n+1 run on node n.
        assert rank // 2 == node_index, tag
        node_of_place.setdefault(place, set()).add(node_index)
    assert ranks == {0, 1, 2, 3}
    assert set(node_of_place) == {"origin-nodea", "origin-nodeb"}
    assert sorted(i for s in node_of_place.values() for i in s) == [0, 1]
