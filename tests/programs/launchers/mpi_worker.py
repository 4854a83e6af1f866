"""An mpirun rank: a barrier, then end as argv[1] says.

``normal``: every rank finishes.  ``rank2-fails``: rank 2 raises after the
allreduce; run as ``python -m mpi4py``, that aborts the job and mpirun
SIGTERMs the other ranks, which are waiting (and SIGKILLs them as soon as
one of them has died).
"""

import glob
import os
import sys
import time

from mpi4py import MPI


def main(mode):
    comm = MPI.COMM_WORLD
    rank = comm.Get_rank()  # every-rank
    total = comm.allreduce(rank)  # every-rank
    assert total == sum(range(comm.Get_size()))  # every-rank
    if mode == "rank2-fails":
        if rank == 2:
            # Fail once the others wait in Python (not inside an MPI call) and
            # their data was flushed: when the first SIGTERMed rank dies,
            # Open MPI SIGKILLs the rest at once, maybe in the middle of a save.
            while len(glob.glob("waiting-*")) < comm.Get_size() - 1:
                time.sleep(0.05)
            time.sleep(4 * float(os.environ.get("COVHOOK_FLUSH_SECONDS", "0")))
            raise RuntimeError("rank 2 fails")  # failing-rank
        open(f"waiting-{rank}", "w").close()  # sigtermed-rank
        time.sleep(60)  # sigtermed-rank
    comm.Barrier()  # finishing-rank


if __name__ == "__main__":
    main(sys.argv[1])
