"""Work that the demo's processes do, each kind in its own function."""

import os


def report(kind: str) -> str:
    line = f"  pid {os.getpid():>6}  {kind}"
    print(line, flush=True)
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
