"""A generated pytest suite whose tests run a CLI and an out-of-scope helper as subprocesses.

Usage: ``.venv/bin/python bench/bench_suite.py [--tests 100] [--rounds 3] [--modes ...]``.
Writes ``bench/suite.md`` after every round (a long run stopped early keeps
the rounds it finished, and says how many).  The project: package ``pkg`` (its CLI has a few
branches), ``helper.py`` outside it, and ``--tests`` tests, each running
``python -m pkg.cli`` 3 times and ``python helper.py`` 3 times (300 + 300 for
100 tests).  Modes, interleaved round by round, from this checkout's ``.venv``
(pytest, pytest-cov, coverage, covhook):

- ``none``: ``pytest`` without coverage;
- ``pytest-cov + patch``: ``pytest --cov=pkg`` with ``[run] patch = subprocess``
  and ``COVHOOK_DISABLE=1``: coverage.py's own child measurement;
- ``covhook``: ``pytest --cov=pkg`` with covhook's plugin (children get the
  config, start lazily: the helpers never start coverage).

Both coverage modes must give the same ``coverage report``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLI = """\
import sys


def parse(argv):
    numbers = []
    for arg in argv:
        if arg.isdigit():
            numbers.append(int(arg))
        elif arg == "--neg":
            numbers = [-n for n in numbers]
        else:
            raise SystemExit(f"bad argument {arg!r}")
    return numbers


def main(argv=None):
    numbers = parse(sys.argv[1:] if argv is None else argv)
    if not numbers:
        print(0)
        return 0
    print(sum(numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
"""
HELPER = """\
import json
import sys

print(json.dumps({"argv": sys.argv[1:]}))
"""
TEST = """\
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)


def test_{n}():
    assert run("-m", "pkg.cli", "{n}", "1").stdout.strip() == str({n} + 1)
    assert run("-m", "pkg.cli").stdout.strip() == "0"
    assert run("-m", "pkg.cli", "{n}", "--neg").stdout.strip() == str(-{n})
    for _ in range(3):
        assert "argv" in run("helper.py", "{n}").stdout
"""
MODES = ("none", "pytest-cov + patch", "covhook")


def base_env() -> dict[str, str]:
    drop = ("COVERAGE_", "COVHOOK_", "PYTHONPATH", "PYTEST_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def make_project(root: Path, tests: int) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "cli.py").write_text(CLI)
    (root / "helper.py").write_text(HELPER)
    (root / "tests").mkdir()
    for n in range(tests):
        (root / "tests" / f"test_gen_{n:03d}.py").write_text(TEST.replace("{n}", str(n)))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_mode(mode: str, root: Path) -> tuple[float, float, str]:
    """(seconds, CPU seconds, coverage report) of one pytest run of the project."""
    for stale in root.glob(".cov*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    env = base_env()
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    rc = root / ".coveragerc"
    rc.write_text("[run]\nparallel = True\n")
    if mode != "none":
        cmd[3:3] = ["--cov=pkg", "--cov-report="]
    if mode == "pytest-cov + patch":
        rc.write_text("[run]\nparallel = True\npatch = subprocess\n")
        env["COVHOOK_DISABLE"] = "1"
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=root, env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    cpu = children_cpu() - cpu
    report = ""
    if mode != "none":
        report = subprocess.run(
            [sys.executable, "-m", "coverage", "report", "-m"],
            cwd=root, env=base_env(), capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    return elapsed, cpu, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=MODES,
        default=list(MODES),
        help="the two coverage modes always run: the target compares them",
    )
    parser.add_argument("--out", type=Path, default=HERE / "suite.md")
    args = parser.parse_args()
    modes = tuple(m for m in MODES if m in args.modes or m != "none")
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    cpus: dict[str, list[float]] = {mode: [] for mode in modes}
    reports: dict[str, set[str]] = {mode: set() for mode in modes}
    text = ""
    with tempfile.TemporaryDirectory(prefix="covhook-bench-suite-") as tmp:
        root = Path(tmp) / "project"
        make_project(root, args.tests)
        for round_ in range(args.rounds):
            order = modes if round_ % 2 == 0 else tuple(reversed(modes))
            for mode in order:
                seconds, cpu, report = run_mode(mode, root)
                times[mode].append(seconds)
                cpus[mode].append(cpu)
                reports[mode].add(report)
                print(f"round {round_ + 1} {mode:20s} {seconds:7.2f} s", flush=True)
            text = summary(
                args.tests, round_ + 1, planned=args.rounds, times=times, cpus=cpus, reports=reports
            )
            args.out.write_text(text, encoding="utf-8")
    print(text)


def summary(
    tests: int,
    done: int,
    *,
    planned: int,
    times: dict[str, list[float]],
    cpus: dict[str, list[float]],
    reports: dict[str, set[str]],
) -> str:
    """bench/suite.md for the rounds done so far."""
    median = {mode: statistics.median(values) for mode, values in times.items()}
    cpu_median = {mode: statistics.median(values) for mode, values in cpus.items()}
    cpu_ratio = cpu_median["covhook"] / cpu_median["pytest-cov + patch"]
    same = reports["covhook"] == reports["pytest-cov + patch"] and len(reports["covhook"]) == 1
    ratio = median["covhook"] / median["pytest-cov + patch"]
    rounds = f"{done} rounds" if done == planned else f"{done} of {planned} rounds (stopped early)"
    lines = [
        "# Benchmark: a generated pytest suite that runs its CLI and a helper",
        "",
        "Generated by `bench/bench_suite.py` (do not edit by hand).",
        f"{tests} tests; each runs `python -m pkg.cli` 3 times and the",
        f"out-of-scope `python helper.py` 3 times ({3 * tests} + {3 * tests}",
        f"subprocesses). {rounds}, modes interleaved, one run, this machine",
        "(2 cores, shared).",
        "",
        "| mode | median (s) | CPU median (s) | runs (s) |",
        "| --- | --- | --- | --- |",
    ]
    for mode, values in times.items():
        runs = ", ".join(f"{t:.1f}" for t in values)
        lines.append(f"| {mode} | {median[mode]:.1f} | {cpu_median[mode]:.1f} | {runs} |")
    lines += [
        "",
        f"covhook / pytest-cov with `patch = subprocess`: **{ratio:.2f}** wall, "
        f"**{cpu_ratio:.2f}** CPU (target: <= 0.6).",
        f"Identical `coverage report` in every coverage run: **{'yes' if same else 'NO'}**.",
        "",
        "```text",
        *sorted(reports["covhook"])[0].rstrip().splitlines(),
        "```",
        "",
        f"Python {sys.version.split()[0]}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
