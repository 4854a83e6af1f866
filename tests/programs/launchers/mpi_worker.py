"""An mpirun rank: a barrier, then end as argv[1] says.

``normal``: every rank finishes.  ``rank2-fails``: rank 2 raises after the
allreduce; run as ``python -m mpi4py``, that aborts the job and mpirun
SIGTERMs the other ranks, which are waiting.
"""

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
            raise RuntimeError("rank 2 fails")  # failing-rank
        time.sleep(60)  # sigtermed-rank
    comm.Barrier()  # finishing-rank


if __name__ == "__main__":
    main(sys.argv[1])
