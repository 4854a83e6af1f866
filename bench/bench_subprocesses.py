"""200 short Python subprocesses: no coverage vs coverage.py's ``patch = subprocess`` vs covhook.

Usage: ``.venv/bin/python bench/bench_subprocesses.py [--children 200] [--repeat 5]``.
Writes ``bench/subprocesses.md``.  The three modes run interleaved in each
round, in one run, from the same venv (``.venv``: covhook's ``a0_covhook.pth``
and coverage.py's ``a1_coverage.pth`` both installed), so the ratios compare
like with like on a busy machine:

- ``none``: no coverage anywhere.
- ``coverage``: ``coverage run`` with ``[run] parallel = True, patch = subprocess``
  and ``COVHOOK_DISABLE=1``, so children are started by coverage.py's own
  ``a1_coverage.pth`` from ``COVERAGE_PROCESS_CONFIG``.
- ``covhook``: ``COVERAGE_PROCESS_START`` pointing at ``[run] parallel = True``;
  covhook's hook starts the parent and every child (with its defaults:
  ``patch = _exit, execv, subprocess``, signal saving, origin tags).
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
PARENT = """\
import subprocess, sys
for _ in range(int(sys.argv[1])):
    subprocess.run([sys.executable, sys.argv[2]], check=True)
"""
CHILD = """\
def main():
    return sum(range(10))
main()
"""
MODES = ("none", "coverage", "covhook")


def base_env() -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every child compile covhook's modules
    # (an editable install has no .pyc files until one is written).
    drop = ("COVERAGE_", "COVHOOK_", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def children_cpu() -> float:
    """CPU seconds (user + system) of every waited-for descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_mode(mode: str, work: Path, children: int, scope: str = "") -> tuple[float, float]:
    """(wall seconds, CPU seconds of the whole process tree)."""
    """Seconds for one parent that starts ``children`` children, in a fresh directory."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    (work / "parent.py").write_text(PARENT)
    (work / "child.py").write_text(CHILD)
    env = base_env()
    cmd = [sys.executable, "parent.py", str(children), "child.py"]
    if mode == "coverage":
        rc = work / "cov.rc"
        rc.write_text(f"[run]\nparallel = True\npatch = subprocess\n{scope}")
        env["COVHOOK_DISABLE"] = "1"
        cmd = [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", *cmd[1:]]
    elif mode == "covhook":
        rc = work / "hook.rc"
        rc.write_text(f"[run]\nparallel = True\n{scope}")
        env["COVERAGE_PROCESS_START"] = str(rc)
        env["COVHOOK_CACHE_DIR"] = str(work.parent / "covhook-cache")
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(cmd, cwd=work, env=env, check=True)
    elapsed = time.perf_counter() - start
    cpu = children_cpu() - cpu
    files = list(work.glob(".coverage.*"))
    expected = 0 if mode == "none" else children + 1
    if len(files) != expected:
        raise SystemExit(f"{mode}: {len(files)} data files, expected {expected}")
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "subprocesses.md")
    parser.add_argument(
        "--source",
        action="store_true",
        help="both configs name a scope (source = .): covhook's scoped lean start applies",
    )
    args = parser.parse_args()
    scope = "source = .\n" if args.source else ""
    load_before = os.getloadavg()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "src")],
        env=base_env(), check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    cpus: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="covhook-bench-") as tmp:
        for round_ in range(args.repeat):
            order = MODES if round_ % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                seconds, cpu = run_mode(mode, Path(tmp) / mode, args.children, scope)
                times[mode].append(seconds)
                cpus[mode].append(cpu)
                print(f"round {round_ + 1} {mode:9s} {seconds:7.2f} s {cpu:7.2f} s CPU", flush=True)
    median = {mode: statistics.median(values) for mode, values in times.items()}
    cpu_median = {mode: statistics.median(values) for mode, values in cpus.items()}
    ratio = median["covhook"] / median["coverage"]
    cpu_ratio = cpu_median["covhook"] / cpu_median["coverage"]
    lines = [
        "# Benchmark: 200 short subprocesses",
        "",
        "Generated by `bench/bench_subprocesses.py` (do not edit by hand).  One parent",
        f"starts {args.children} short Python children one after another; each mode ran",
        f"{args.repeat} times, interleaved, in one run on this machine (2 cores, shared).",
        f"Config: `[run] parallel = True{', source = .' if args.source else ''}`"
        + (" (every process in scope: covhook's recorder)." if args.source else "."),
        f"Load average (1 min) before/after: {load_before[0]:.1f} / {os.getloadavg()[0]:.1f}"
        " on 2 cores: other sessions were running.",
        "",
        "| mode | median (s) | per child (ms) | CPU median (s) | runs (s) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for mode in MODES:
        runs = ", ".join(f"{t:.2f}" for t in times[mode])
        per_child = 1000 * median[mode] / args.children
        lines.append(
            f"| {mode} | {median[mode]:.2f} | {per_child:.1f} | {cpu_median[mode]:.2f} | {runs} |"
        )
    lines += [
        "",
        f"covhook / coverage's own `patch = subprocess`: **{ratio:.3f}** wall, "
        f"**{cpu_ratio:.3f}** CPU (target: <= 0.5).",
        f"covhook / no coverage: {median['covhook'] / median['none']:.2f}.",
        "",
        f"Python {sys.version.split()[0]}, coverage "
        + subprocess.run(
            [sys.executable, "-c", "import coverage; print(coverage.__version__)"],
            capture_output=True,
            text=True,
            check=True,
            env=base_env(),
        ).stdout.strip()
        + ".",
    ]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
