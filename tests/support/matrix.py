"""The launch x ending matrix: what covhook measures in each cell, and docs/processes.md.

Every cell here is checked by a real run (tests/test_endings.py for the
matrix, tests/test_launchers_*.py for the launcher rows): a run whose outcome
differs from its cell fails.  docs/processes.md is rendered from these tables
and tests/test_endings.py fails when the file is out of date
(``python tests/support/matrix.py`` rewrites it).
"""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "processes.md"

KINDS = {
    "subprocess": "`subprocess.run([sys.executable, ...])`",
    "shell": "shell script that starts `python`",
    "spawn": "`multiprocessing` spawn child",
    "fork": "`multiprocessing` fork child",
}
ENDINGS = {
    "normal": "returns normally",
    "exit3": "`sys.exit(3)`",
    "exception": "uncaught exception",
    "os_exit": "`os._exit(5)`",
    "sigterm": "SIGTERM (no handler)",
    "sigterm-handler": "SIGTERM, program's handler calls `sys.exit(7)`",
    "sigint": "SIGINT (KeyboardInterrupt)",
    "sighup": "SIGHUP (no handler)",
    "sigkill-after-flush": "SIGKILL after a flush (`COVHOOK_FLUSH_SECONDS=0.2`)",
    "sigkill": "SIGKILL, no flush configured",
}
SIGNALLED = {
    "sigterm": "SIGTERM",
    "sigterm-handler": "SIGTERM",
    "sigint": "SIGINT",
    "sighup": "SIGHUP",
    "sigkill-after-flush": "SIGKILL",
    "sigkill": "SIGKILL",
}

MEASURED = "measured"
FLUSHED = "flushed"
LOST = "lost"
WORDS = {
    MEASURED: "all lines run",
    FLUSHED: "lines run up to the last flush",
    LOST: "nothing (SIGKILL cannot be caught; opt in to the periodic flush)",
}


def expected(kind: str, ending: str) -> str:
    """What covhook measures in a cell: everything, except what SIGKILL takes."""
    if ending == "sigkill":
        return LOST
    return FLUSHED if ending == "sigkill-after-flush" else MEASURED


# Launcher rows: (launcher, how it ends, what the test asserts is measured).
LAUNCHERS: list[tuple[str, str, str]] = [
    (
        "torchrun, 1 node x 4 ranks, `--max-restarts=1`",
        "attempt 0: rank 1 raises, torchrun SIGTERMs ranks 0, 2, 3; attempt 1: all return",
        "every rank of both attempts, tagged `torch-n0-r<R>of4-a0` / `-a1`",
    ),
    (
        "torchrun, 2 nodes x 2 ranks (c10d rendezvous on 127.0.0.1)",
        "all ranks return",
        "every rank, tagged `torch-n<N>-r<R>of4-a0` with its node",
    ),
    (
        "mpirun -n 4",
        "all ranks return",
        "every rank, tagged `mpi-r<R>of4`",
    ),
    (
        "mpirun -n 4, `COVHOOK_FLUSH_SECONDS=0.2`",
        "rank 2 raises (`python -m mpi4py` aborts), mpirun SIGTERMs the others and "
        "SIGKILLs them as soon as one has died",
        "every rank, tagged `mpi-r<R>of4`; the SIGTERM save races that SIGKILL, "
        "the flush makes it certain; no broken file either way",
    ),
    (
        "Ray tasks and an actor (workers never run atexit)",
        "driver returns; workers stay or are killed",
        "task and actor lines, from the periodic flush",
    ),
    (
        "Dask `LocalCluster` (spawned workers)",
        "client and cluster closed",
        "task lines in the worker processes",
    ),
    (
        "`concurrent.futures.ProcessPoolExecutor` (spawn and fork)",
        "pool shut down",
        "task lines in the worker processes",
    ),
    (
        "`subprocess.run(..., env={})` (scrubbed environment)",
        "returns normally",
        "not measured by default: noted in `.covhook-unmeasured.<pid>.json`; "
        "measured with `COVHOOK_SCRUBBED_ENV=measure`",
    ),
]


# Checked by tests/test_stress.py, tests/test_datadir_safety.py, tests/test_signals.py,
# tests/test_sigwake.py.
GUARANTEES = [
    "## Guarantees, and how they are checked",
    "",
    "covhook runs inside every process of a measured run.  These are checked on real",
    "processes (figures from the tests; each prints a summary line with `-s`):",
    "",
    "- **No hang on SIGTERM, SIGINT or SIGHUP.** 240 processes that import about 30",
    "  stdlib modules under `cover_pylib = True` get one of the three signals at a",
    "  random moment (`tests/test_stress.py`): none hangs (a hung process ignores",
    "  a second signal too), each dies by its signal, each leaves a readable data",
    '  file with its lines; a KeyboardInterrupt CPython itself swallows ("Exception',
    "  ignored\" in an import lock callback) is counted apart.  (coverage.py's",
    "  data lock is taken and released by the tracer without running Python code",
    "  in between, so no signal handler can run while it is held.)",
    "- **A child signalled as it is forked dies by it.** A SIGTERM that reaches a",
    "  child before Python's fork set-up ran there would be cleared by CPython",
    "  once covhook's handler stands in for the default action; covhook holds its",
    "  signals in the forking thread until the fork is over, so each of 10",
    "  children, SIGTERMed the instant it exists, dies by it as unmeasured, with",
    "  the fork server's own wake-up fd (`multiprocessing`'s default from 3.14)",
    "  and with covhook's (`tests/test_signals.py`).",
    "- **No broken file after SIGKILL.** 90 processes with a 0.05 s flush are",
    "  SIGKILLed at random: `coverage combine` warns about no file; `covhook combine`",
    "  publishes the complete copies they left in `.covhook-work/`, removes those",
    "  and the never-written ones, and names any file it could not use.",
    "- **fork() under a fast flush.** 100 forks under a 0.01 s flush: no child",
    "  stalls at exit, each child writes its own data file; a program with one thread of",
    '  its own forks on Python 3.12 and 3.13 without the "multi-threaded"',
    "  DeprecationWarning (the flush thread stops for the fork and starts again",
    "  in parent and child), and the flush goes on after it",
    "  (`tests/test_program_view.py`).",
    "- **A shared data directory.** In a 1777 directory, another user (`nobody`)",
    "  plants a symlink as `.covhook-work`, swaps the working file for a symlink to",
    "  a root-only file, and pre-creates `.covhook-unmeasured.<pid>.json` as a",
    "  symlink: covhook follows none of them (it says so in one line when it",
    "  refuses a symlinked work dir), publishes no byte of the root-only file, and",
    "  the data is complete.  A work dir of another user (other than the data",
    "  dir's owner) is not used: the process makes `.covhook-work.<uid>` instead.",
    "  A data file swapped for a FIFO after the combine listed it is one unusable",
    "  input, named, not a combine that waits for ever (`tests/test_combine_safety.py`).",
    "- **Nothing world-writable.** Under umask 000, data files and notes are 0644,",
    "  `.covhook-work` 0755.",
    "- **No silent loss.** A save that fails (the program called `os.setuid()`, the",
    "  filesystem is full) prints one line `covhook: ... Fix: ...` naming the file;",
    "  a complete copy kept in `.covhook-work/` is recovered by `covhook combine`.",
    "  Do not delete `.covhook-work/` before combining.",
    "- **The program's own output.** A KeyboardInterrupt traceback, and the",
    "  traceback of a program's own SIGTERM handler that raises, are byte-identical",
    "  to the unmeasured run (`tests/test_signals.py`); a bad",
    "  `COVHOOK_FLUSH_SECONDS` (`nan`, `inf`, `1e-9`) gives one line and no",
    "  periodic flush.",
    "- **Death by signal at once, even inside a long C call.** A process with no",
    "  SIGTERM handler, inside a C call that releases the GIL and would run for",
    "  half an hour (`hashlib.pbkdf2_hmac`), dies by SIGTERM at once, as the",
    "  unmeasured run does, with its data saved (`tests/test_signals.py`).  How: a",
    "  thread of covhook's, woken through Python's signal wakeup fd, saves and",
    "  re-sends the signal.  It does not change the program",
    "  (`tests/test_sigwake.py`, stdout, stderr and exit status compared with the",
    "  unmeasured run): `signal.set_wakeup_fd` returns the program's own fds, asyncio's",
    "  `add_signal_handler` works as before, a signal the program blocks still",
    "  reaches its `sigwait`, and `os.fork()` on Python 3.12 and 3.13 gives no",
    '  "multi-threaded" DeprecationWarning; parent and forked child each die at',
    "  once too.  The thread is not in `threading.enumerate()`; it is one more OS",
    "  thread (`ps -L`), born with every signal blocked, so the kernel never",
    "  hands it one of the program's signals.  A program that closes every fd",
    "  (`os.closerange(3, 4096)`, `os.close`, `os.dup2` onto covhook's numbers)",
    "  gets them: covhook first gives the wakeup fd back and ends the thread, so",
    "  no signal byte goes into a closed fd or the program's own; the main thread",
    "  then handles signals as without covhook.  Off the main thread (where the",
    "  wakeup fd cannot change) `close` and `closerange` leave covhook's two fds",
    "  open, and the prompt death stays (`tests/test_sigwake.py`).",
    "- **A signal that kills without coverage kills with it.** When a thread of",
    "  the program takes a signal that its main thread blocks, and that thread",
    "  ends before Python's handler runs in the main thread, the process still",
    "  dies by the signal, with its data saved (`tests/test_signals.py`).",
    "",
    "Not guaranteed: a C call that holds the GIL, or one that runs while the",
    "program has a wakeup fd of its own set (asyncio with `add_signal_handler`),",
    "delays the death until it returns, as for any Python signal handler; without",
    "covhook the default action kills at once.  A program's own handler runs",
    "when the main thread returns to Python code, with or without covhook.",
]


def render() -> str:
    """docs/processes.md."""
    kinds = list(KINDS)
    out = [
        "# Which processes covhook measures, however they end",
        "",
        "<!-- Generated by tests/support/matrix.py from the cells the tests check;",
        "     do not edit by hand.  Regenerate: .venv/bin/python tests/support/matrix.py -->",
        "",
        "Each cell below is a real run in `tests/test_endings.py`: a child started the",
        "row's way runs some lines, then ends the column's way.  The test checks, from",
        "the combined coverage data, that the lines are there, and that the child's",
        "exit status is the one it has without coverage (death by the same signal,",
        "the same exit code).",
        "",
        "| ending | " + " | ".join(KINDS[k] for k in kinds) + " |",
        "| --- | " + " | ".join("---" for _ in kinds) + " |",
    ]
    for ending, text in ENDINGS.items():
        cells = [WORDS[expected(k, ending)] for k in kinds]
        out.append(f"| {text} | " + " | ".join(cells) + " |")
    out += [
        "",
        "How: coverage.py's `patch = _exit, execv, subprocess` (covhook's default) saves",
        "before `os._exit` and `exec` and hands the configuration to children;",
        "covhook saves on SIGTERM, SIGINT and SIGHUP and then does what the program",
        "would have done (its own handler, or death by the same signal);",
        "`COVHOOK_FLUSH_SECONDS` saves periodically, so SIGKILL loses at most one",
        "interval.  SIGKILL before the first flush loses that process's data: no",
        "process can act on SIGKILL.  Every save is atomic (coverage.py's working",
        "file lives in `.covhook-work/`, copies are renamed into place), so a process",
        "killed while saving never leaves a file that `coverage combine` warns about.",
        "",
        "A child started with a scrubbed environment (`env={}`) gets no coverage",
        "configuration: covhook notes it in `<data dir>/.covhook-unmeasured.<pid>.json`",
        "(see the launcher table), or measures it with `COVHOOK_SCRUBBED_ENV=measure`.",
        "",
        *GUARANTEES,
        "",
        "## Launchers",
        "",
        "Each row is a real run in `tests/test_launchers_*.py`, asserted from the",
        "combined data (lines per origin tag).",
        "",
        "| launcher | how it ends | measured |",
        "| --- | --- | --- |",
    ]
    out += [f"| {a} | {b} | {c} |" for a, b, c in LAUNCHERS]
    from support import frameworks  # issue 20: the section from bench/frameworks.md

    out += frameworks.docs_section()
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for 'support'
    DOC.write_text(render(), encoding="utf-8")
