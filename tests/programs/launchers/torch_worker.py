"""A torchrun worker: gloo all_reduce, then end as argv[1] says.

``normal``: every rank finishes.  ``fail-once``: in restart attempt 0, rank 1
raises and the other ranks wait until torchrun SIGTERMs them; in attempt 1
every rank finishes.
"""

import os
import sys
import time

import torch
import torch.distributed as dist


def main(mode):
    rank = int(os.environ["RANK"])
    world = int(os.environ["WORLD_SIZE"])
    attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0"))
    # One key space per restart attempt: gloo would otherwise read the dead
    # attempt's peer addresses from torchrun's store and fail to connect.
    store = dist.TCPStore(
        os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), world, is_master=False
    )
    store = dist.PrefixStore(f"covhook-attempt-{attempt}", store)
    dist.init_process_group("gloo", store=store, rank=rank, world_size=world)
    total = torch.tensor([rank])  # every-rank
    dist.all_reduce(total)  # every-rank
    assert int(total) == sum(range(world))  # every-rank
    if mode == "fail-once" and attempt == 0:
        if rank == 1:
            raise RuntimeError("rank 1 fails in attempt 0")  # failing-rank
        time.sleep(120)  # sigtermed-rank
    dist.destroy_process_group()  # finishing-rank


if __name__ == "__main__":
    main(sys.argv[1])
