"""In-scope code: one line per launch kind, so a kind that was not measured shows."""

SEEN = []


def run(kind):  # noqa: PLR0915  # one line per kind, on purpose
    if kind == "c":
        SEEN.append("c")  # kind: c
    elif kind == "m":
        SEEN.append("m")  # kind: m
    elif kind == "script":
        SEEN.append("script")  # kind: script
    elif kind == "subprocess-import":
        SEEN.append("subprocess-import")  # kind: subprocess-import
    elif kind == "system":
        SEEN.append("system")  # kind: system
    elif kind == "exec":
        SEEN.append("exec")  # kind: exec
    elif kind == "spawn":
        SEEN.append("spawn")  # kind: spawn
    elif kind == "runpy":
        SEEN.append("runpy")  # kind: runpy
    elif kind == "runmodule":
        SEEN.append("runmodule")  # kind: runmodule
    elif kind == "compiled":
        SEEN.append("compiled")  # kind: compiled
    elif kind == "threads":
        SEEN.append("threads")  # kind: threads
    elif kind == "threads-thread":
        SEEN.append("threads-thread")  # kind: threads-thread
    elif kind == "fork-before-child":
        SEEN.append("fork-before-child")  # kind: fork-before-child
    elif kind == "fork-before-parent":
        SEEN.append("fork-before-parent")  # kind: fork-before-parent
    elif kind == "fork-after-parent":
        SEEN.append("fork-after-parent")  # kind: fork-after-parent
    elif kind == "fork-after-child":
        SEEN.append("fork-after-child")  # kind: fork-after-child
    elif kind == "mp-spawn-late":
        SEEN.append("mp-spawn-late")  # kind: mp-spawn-late
    elif kind == "mp-spawn-target":
        SEEN.append("mp-spawn-target")  # kind: mp-spawn-target
    elif kind == "mp-fork-late":
        SEEN.append("mp-fork-late")  # kind: mp-fork-late
    elif kind == "mp-fork-target":
        SEEN.append("mp-fork-target")  # kind: mp-fork-target
    elif kind == "mp-forkserver-late":
        SEEN.append("mp-forkserver-late")  # kind: mp-forkserver-late
    elif kind == "mp-forkserver-target":
        SEEN.append("mp-forkserver-target")  # kind: mp-forkserver-target
    elif kind == "mp-main-spawn":
        SEEN.append("mp-main-spawn")  # kind: mp-main-spawn
    elif kind == "pool":
        SEEN.append("pool")  # kind: pool
    elif kind == "pool-mp":
        SEEN.append("pool-mp")  # kind: pool-mp
    elif kind == "pool-spawnctx":
        SEEN.append("pool-spawnctx")  # kind: pool-spawnctx
    elif kind == "pool-spawnctx-mp":
        SEEN.append("pool-spawnctx-mp")  # kind: pool-spawnctx-mp
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return len(SEEN)
