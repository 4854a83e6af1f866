"""mpirun -n 4 for real (Open MPI, mpi4py): every rank measured, also when one rank fails.

When rank 2 raises, ``python -m mpi4py`` aborts the job and mpirun SIGTERMs
the waiting ranks, then SIGKILLs the rest as soon as one has died (or after
one second).  covhook saves on SIGTERM, but the ranks race that SIGKILL; the
periodic flush (COVHOOK_FLUSH_SECONDS) makes the data certain, and atomic
writes mean a rank killed mid-save leaves no broken file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import launchers

pytestmark = [pytest.mark.launchers, pytest.mark.mpi]

WORKER = "mpi_worker.py"


@pytest.mark.parametrize("mode", ["normal", "rank2-fails"])
def test_mpirun_four_ranks(tmp_path: Path, mode: str) -> None:
    launchers.need_module("mpi4py")
    mpirun = launchers.need_exe("mpirun")
    launchers.copy_programs(tmp_path, WORKER)
    rc = launchers.write_rc(tmp_path)
    # mpirun SIGKILLs the SIGTERMed ranks as soon as the first one dies: a save
    # on SIGTERM races that, so the failing case uses the periodic flush.
    flush = {"COVHOOK_FLUSH_SECONDS": "0.2"} if mode == "rank2-fails" else {}
    cmd = [mpirun, "--allow-run-as-root", "--oversubscribe", "-n", "4"]
    cmd += [str(launchers.PYTHON), "-m", "mpi4py", str(tmp_path / WORKER), mode]
    out = subprocess.run(
        cmd,
        cwd=tmp_path,
        env=launchers.measured_env(rc, OMP_NUM_THREADS="1", **flush),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (out.returncode == 0) == (mode == "normal"), out.stderr[-3000:]

    by_tag, marks = launchers.rank_lines(tmp_path, WORKER)
    every, fails, waits, finishes = (marks[m] for m in launchers.RANK_MARKERS)
    place = launchers.place()
    assert sorted(by_tag) == [f"{place}_mpi-r{r}of4" for r in range(4)]
    for rank in range(4):
        lines = by_tag[f"{place}_mpi-r{rank}of4"]
        assert every <= lines, rank
        if mode == "normal":
            assert finishes <= lines, rank
        elif rank == 2:
            assert fails <= lines
        else:
            assert waits <= lines, rank
            assert not (finishes & lines), rank
