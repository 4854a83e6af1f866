"""Benchmark: one suite run sequentially with coverage, with xdist -n 2, and as covhook splits.

Two generated suites over a 50-module package:

- ``tiny``: 2000 tests of about a millisecond (the common unit-test suite);
- ``cpu``: 200 CPU-bound tests (tens of milliseconds each, in measured code).

Each is run, side by side in one session and in rotating order, as

- ``sequential``: ``pytest --cov`` (pytest-cov, one process);
- ``xdist``: ``pytest -n 2 --cov``;
- ``splits``: ``covhook split -n 2 -j 2 --selector=covhook -- pytest`` (no xdist
  inside a split; covhook's sharding: each split collects only its own files);
- ``splits-pytest-split``: the same with pytest-split picking the tests (every
  split collects the whole suite, then keeps its group).

Every mode runs ``--reps`` times (default 3); the table gives median wall
times, the ratios sequential / mode, and each mode's total coverage and number
of covered lines, which must be identical.  Usage::

    .venv/bin/python bench/bench_splits.py [--reps 3] [--out bench/splits.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import coverage

BIN = Path(sys.executable).parent
MODULES = 50

MODULE = """\
def clamp_{n}(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def parse_{n}(text):
    parts = [p.strip() for p in text.split(",") if p.strip()]
    return [int(p) for p in parts]


def spin_{n}(rounds):
    total = 0
    for i in range(rounds):
        total = (total * 31 + i) % 1000003
    return total


def never_{n}():
    return "not covered"
"""

TINY_TEST = """\
import pytest

from benchpkg import m{n}


@pytest.mark.parametrize("x", range(20))
def test_clamp(x):
    assert m{n}.clamp_{n}(x - 10, -5, 5) in range(-5, 6)


@pytest.mark.parametrize("k", range(20))
def test_parse(k):
    assert m{n}.parse_{n}(",".join(str(i) for i in range(k))) == list(range(k))
"""

CPU_TEST = """\
import pytest

from benchpkg import m{n}


@pytest.mark.parametrize("k", range(4))
def test_spin(k):
    assert m{n}.spin_{n}({rounds} + k) >= 0
"""

COVERAGERC = "[run]\nsource = benchpkg\n"


def make_suite(root: Path, kind: str, rounds: int) -> None:
    pkg = root / "benchpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    tests = root / "tests"
    tests.mkdir()
    for n in range(MODULES):
        (pkg / f"m{n}.py").write_text(MODULE.format(n=n))
        test = TINY_TEST if kind == "tiny" else CPU_TEST
        (tests / f"test_m{n}.py").write_text(textwrap.dedent(test.format(n=n, rounds=rounds)))
    (root / ".coveragerc").write_text(COVERAGERC)
    (root / "conftest.py").write_text("")


PYTEST = ["-q", "-p", "no:cacheprovider"]
SPLIT = [str(BIN / "covhook"), "split", "-n", "2", "-j", "2"]
MODES = {
    "sequential": [sys.executable, "-m", "pytest", *PYTEST, "--cov"],
    "xdist": [sys.executable, "-m", "pytest", *PYTEST, "-n", "2", "--cov"],
    "splits": [*SPLIT, "--selector=covhook", "--", "pytest", *PYTEST],
    "splits-pytest-split": [*SPLIT, "--selector=pytest-split", "--", "pytest", *PYTEST],
}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}


def run_mode(root: Path, mode: str) -> tuple[float, float, int, float]:
    """Wall time, total %, covered lines, CPU seconds of one run of ``mode`` in ``root``."""
    for stale in root.glob(".coverage*"):
        if stale.name != ".coveragerc":
            stale.unlink()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(MODES[mode], cwd=root, env=clean_env(), check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cov = coverage.Coverage(
        data_file=str(root / ".coverage"), config_file=str(root / ".coveragerc")
    )
    cov.load()
    old = Path.cwd()
    os.chdir(root)
    try:
        with open(os.devnull, "w") as devnull:
            total = cov.report(file=devnull)
    finally:
        os.chdir(old)
    data = cov.get_data()
    lines = sum(len(data.lines(f) or ()) for f in data.measured_files())
    return wall, total, lines, cpu


def bench(reps: int, rounds: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="covhook-bench-") as tmp:
        for kind in ("tiny", "cpu"):
            root = Path(tmp, kind)
            make_suite(root, kind, rounds)
            times: dict[str, list[float]] = {m: [] for m in MODES}
            cpus: dict[str, list[float]] = {m: [] for m in MODES}
            results: dict[str, set[tuple[float, int]]] = {m: set() for m in MODES}
            order = list(MODES)
            run_mode(root, "sequential")  # warm caches (pyc files, page cache)
            for rep in range(reps):
                shift = rep % len(order)
                for mode in order[shift:] + order[:shift]:
                    wall, total, lines, cpu = run_mode(root, mode)
                    times[mode].append(wall)
                    cpus[mode].append(cpu)
                    results[mode].add((round(total, 6), lines))
                    print(
                        f"{kind:5} {mode:19} rep {rep + 1}: {wall:6.2f}s  "
                        f"{total:.2f}%  {lines} lines  cpu {cpu:.2f}s"
                    )
            base = statistics.median(times["sequential"])
            for mode in MODES:
                median = statistics.median(times[mode])
                rows.append(
                    {
                        "suite": kind,
                        "mode": mode,
                        "median": median,
                        "times": times[mode],
                        "ratio": base / median,
                        "cpu": statistics.median(cpus[mode]),
                        "results": sorted(results[mode]),
                    }
                )
            shutil.rmtree(root)
    return rows


def markdown(
    rows: list[dict[str, object]], reps: int, rounds: int, load: tuple[float, float]
) -> str:
    cores = len(os.sched_getaffinity(0))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    head = f"""\
# covhook split: benchmark

Generated by `bench/bench_splits.py --reps {reps}` on {when}:
{cores} CPU cores, Python {platform.python_version()}, coverage {coverage.__version__}.
Suites over a {MODULES}-module package: `tiny` = 2000 tests of about 1 ms;
`cpu` = 200 CPU-bound tests (`spin({rounds})` in measured code).
Modes: `sequential` = `pytest --cov`; `xdist` = `pytest -n 2 --cov`;
`splits` = `covhook split -n 2 -j 2 --selector=covhook -- pytest`;
`splits-pytest-split` = the same with `--selector=pytest-split`. Median of {reps} runs per mode, run
side by side in rotating order; ratio = sequential median / mode median
(higher is faster). CPU = user + system seconds of all the run's processes.
Coverage: total % and covered lines of each run (identical
means every run of every mode measured the same lines). Load average (1 min)
before / after the runs: {load[0]:.2f} / {load[1]:.2f} (other work on the machine
slows every mode, the parallel ones most).

| suite | mode | median wall (s) | runs (s) | speed-up | median CPU (s) | coverage (%, lines) |
| --- | --- | ---: | --- | ---: | ---: | --- |
"""
    body = ""
    for r in rows:
        runs = ", ".join(f"{t:.2f}" for t in r["times"])  # type: ignore[attr-defined]
        res = "; ".join(f"{t:.2f}%, {n}" for t, n in r["results"])  # type: ignore[attr-defined]
        body += (
            f"| {r['suite']} | {r['mode']} | {r['median']:.2f} | {runs} | "
            f"{r['ratio']:.2f}x | {r['cpu']:.2f} | {res} |\n"
        )
    return head + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200_000, help="spin rounds per cpu test")
    parser.add_argument("--out", type=Path, default=None, help="write the markdown table here")
    args = parser.parse_args()
    before = os.getloadavg()[0]
    rows = bench(args.reps, args.rounds)
    text = markdown(rows, args.reps, args.rounds, (before, os.getloadavg()[0]))
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
