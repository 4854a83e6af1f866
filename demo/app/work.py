"""Work that the demo's processes do, each kind in its own function."""

import os
import sys


def report(kind: str) -> str:
    """Print this process's line in one write: ranks print at once, and a line split in
    two writes (print under PYTHONUNBUFFERED=1 or -u writes the newline apart) interleaves."""
    line = f"  pid {os.getpid():>6}  {kind}"
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), f"{line}\n".encode())
    return line


def in_subprocess() -> str:
    return report("subprocess.run")


def in_os_system() -> str:
    return report("os.system")


def after_exec() -> str:
    return report("os.execv")


def in_spawn_worker() -> str:
    return report("multiprocessing spawn")


def in_fork_worker() -> str:
    return report("multiprocessing fork")


def in_rank(rank: int) -> str:
    return report(f"rank {rank} (RANK/WORLD_SIZE, as torch.distributed launchers set)")


def never_called() -> str:
    return "this line stays red in the report"
