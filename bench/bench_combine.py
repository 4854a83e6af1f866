"""Benchmark: ``covhook combine`` vs ``coverage combine`` on many data files.

Two generated sets (tests/support/datagen.py, written with coverage's own API):
1000 line-data files and 300 branch-data files, each a process that measured
about 40 source files in one of 8 origins (static contexts; every tenth also a
second, dynamic-like context; one file with a file tracer; every 7th file a
duplicate by data hash).  Branch data comes with small source files (220
lines: 0.2 MB data files) and with 1300-line ones (1.3 MB data files, the size
measured for real suites' branch data).
Every process runs every file differently, at random (the worst case for
covhook), except in "repeated code": there 80% of a process's files run
exactly as in one of three scenarios of its origin, as the processes of a real
suite re-run the same code.  Each is combined by

- ``coverage``: ``coverage combine --keep`` (the command users run);
- ``covhook``: ``covhook combine --keep`` (one process);
- ``covhook-2``: the same with ``COVHOOK_COMBINE_WORKERS=2`` (two threads);

``--reps`` times each (default 3), interleaved, in rotating order, as
commands (interpreter start-up included, as a user sees it).  The table gives
median wall times and the ratios coverage / covhook; every combined result is
compared with coverage's (files, contexts, lines, arcs, file tracers) and the
check is printed.  Usage::

    .venv/bin/python bench/bench_combine.py [--reps 3] [--out bench/combine.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import coverage

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from support import datagen  # noqa: E402

BIN = Path(sys.executable).parent
# name: (files, branch data, share of files each process runs as an earlier one did,
#        lines per source file)
SETS = {
    "lines": (1000, False, 0.0, 220),
    "branches, 0.2 MB files": (300, True, 0.0, 220),
    "branches, 1.3 MB files": (300, True, 0.0, 1300),
    "branches, 1.3 MB, repeated code": (300, True, 0.8, 1300),
}
MODES = ("coverage", "covhook", "covhook-2")
NOTES = """\
Notes:

- Ratios are within one run, commands interleaved; the machine is shared, so
  absolute times vary with its load (the load average is given above).
- Line data: the union is a Python integer per (file, context), one OR per
  row; most of the remaining time is interpreter start-up and opening files.
- Branch data: every arc is read through SQLite (`json_group_array` of an
  integer code) and merged into a Python set, and the union is written once;
  that reading is the floor. "Repeated code" skips the parsing of a
  (file, context) an earlier process ran identically (blake2b of the arcs'
  text), not SQLite's reading.
- A second thread (`COVHOOK_COMBINE_WORKERS=2`) overlaps SQLite's reading (it
  releases the GIL) but not the merging.
"""


def command(mode: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env.pop("COVERAGE_PROCESS_START", None)
    if mode == "coverage":
        return [str(BIN / "coverage"), "combine", "--keep", "-q"], env
    env["COVHOOK_COMBINE_WORKERS"] = "2" if mode == "covhook-2" else "1"
    return [str(BIN / "covhook"), "combine", "--keep", "--no-map"], env


def run_once(mode: str, where: Path) -> float:
    (where / ".coverage").unlink(missing_ok=True)
    cmd, env = command(mode)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=where, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_set(
    name: str, count: int, branch: bool, repeat: float, size: int, *, reps: int, root: Path
) -> dict[str, object]:
    where = root / "".join(c if c.isalnum() else "_" for c in name)
    files = datagen.write_many(
        where, count, root="/runner/a/proj", branch=branch, dups=7, repeat=repeat, lines=size
    )
    file_mb = statistics.median(f.stat().st_size for f in files) / 1e6
    (where / ".coveragerc").write_text("[run]\nparallel = True\n")
    times: dict[str, list[float]] = {m: [] for m in MODES}
    results: dict[str, object] = {}
    for rep in range(reps):
        order = MODES[rep % len(MODES) :] + MODES[: rep % len(MODES)]
        for mode in order:
            times[mode].append(run_once(mode, where))
            results[mode] = datagen.describe(where / ".coverage")
    same = all(results[m] == results["coverage"] for m in MODES)
    size = (where / ".coverage").stat().st_size
    shutil.rmtree(where)
    return {"count": count, "times": times, "same": same, "size": size, "file_mb": file_mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="covhook-bench-combine-"))
    load_before = os.getloadavg()
    rows = {
        name: bench_set(name, n, b, r, size, reps=args.reps, root=root)
        for name, (n, b, r, size) in SETS.items()
    }
    shutil.rmtree(root, ignore_errors=True)
    lines = [
        "# Benchmark: combining many data files",
        "",
        "Generated by `bench/bench_combine.py` (do not edit by hand):",
        f"`.venv/bin/python bench/bench_combine.py --reps {args.reps}`.",
        f"Python {platform.python_version()}, coverage {coverage.__version__}, "
        f"{os.cpu_count()} cores (shared; load average {load_before[0]:.1f} at the start).",
        f"Median wall time of {args.reps} runs of each command, interleaved, one run.",
        "",
        "| data | files | MB/file | coverage combine s | covhook s | ratio "
        "| covhook 2 threads s | ratio | identical data |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        times = row["times"]
        assert isinstance(times, dict)
        med = {m: statistics.median(times[m]) for m in MODES}
        lines.append(
            f"| {name} | {row['count']} | {row['file_mb']:.2f} "
            f"| {med['coverage']:.2f} | {med['covhook']:.2f} "
            f"| {med['coverage'] / med['covhook']:.1f}x | {med['covhook-2']:.2f} "
            f"| {med['coverage'] / med['covhook-2']:.1f}x "
            f"| {'yes' if row['same'] else 'NO'} |"
        )
    lines += [
        "",
        "All runs (seconds):",
        "",
    ]
    for name, row in rows.items():
        times = row["times"]
        assert isinstance(times, dict)
        for mode in MODES:
            lines.append(f"- {name}, {mode}: " + ", ".join(f"{t:.2f}" for t in times[mode]))
    text = "\n".join(lines) + "\n\n" + NOTES
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
