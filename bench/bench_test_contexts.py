"""Per-process cost of per-test contexts (issue 22): off before/after, and on.

Usage: ``.venv/bin/python bench/bench_test_contexts.py --old-src DIR [--runs 60]``
where DIR is the ``src`` of a checkout without per-test contexts (e.g. ``git
worktree add /tmp/old <commit>``).  Writes ``bench/test_contexts.md``.

One process start per sample, the variants interleaved run by run (the machine
is shared and noisy), covhook taken from ``--old-src`` ("before") or this
checkout's ``src`` ("after") through ``PYTHONPATH`` (ahead of the editable
install's path entry), the same ``.venv`` otherwise:

- ``inactive``: ``python -c pass``, no coverage asked for.
- ``active``: a measured child (``COVERAGE_PROCESS_START``, ``source`` = the
  child's directory: covhook's recorder) that imports and runs a small module.
- ``active, test``: the same with ``COVHOOK_TEST`` and ``COVHOOK_TEST_FILE``
  set, as covhook's pytest plugin sets them while a test runs with per-test
  contexts on (the child reads the running test from that file).

Wall time and CPU time (user + system of the child, from ``wait4``); both
``src`` trees are byte-compiled first.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEW_SRC = HERE.parent / "src"
MODULE = "def work():\n    return sum(range(10))\n\n\nwork()\n"
TEST = "tests/test_app.py::test_one[case-1]|run"
VARIANTS = (
    "inactive, before",
    "inactive, after",
    "active, before",
    "active, after",
    "active, test, after",
)


def env_for(variant: str, old_src: Path, rc: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}
    env["PYTHONPATH"] = str(old_src if "before" in variant else NEW_SRC)
    env["COVHOOK_CACHE_DIR"] = str(cache / ("before" if "before" in variant else "after"))
    if variant.startswith("active"):
        env["COVERAGE_PROCESS_START"] = str(rc)
    if "test" in variant:
        env["COVHOOK_TEST"] = TEST
        env["COVHOOK_TEST_FILE"] = str(cache / "running-test")
    return env


def once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed in {variant_of(env)}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def variant_of(env: dict[str, str]) -> str:
    return f"PYTHONPATH={env.get('PYTHONPATH')} test={env.get('COVHOOK_TEST')}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old-src", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--out", type=Path, default=HERE / "test_contexts.md")
    args = parser.parse_args()
    # Both checkouts byte-compiled: PYTHONDONTWRITEBYTECODE (set on some machines)
    # would otherwise make one side compile its modules in every process.
    for src in (args.old_src, NEW_SRC):
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(src)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "app").mkdir()
        (root / "app" / "__init__.py").write_text("")
        (root / "app" / "work.py").write_text(MODULE)
        rc = root / ".coveragerc"
        rc.write_text(f"[run]\nparallel = True\nsource = {root / 'app'}\n")
        cache = root / "cache"
        cache.mkdir()
        (cache / "running-test").write_text(TEST)
        samples: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
        for run in range(args.runs + 3):
            order = list(VARIANTS)
            random.shuffle(order)
            for variant in order:
                code = "pass" if variant.startswith("inactive") else "import app.work"
                got = once(
                    [sys.executable, "-c", code], env_for(variant, args.old_src, rc, cache), root
                )
                if run >= 3:  # warm-up: fills the config caches and the page cache
                    samples[variant].append(got)
            for data in root.glob(".coverage.*"):
                data.unlink()
    rows = ["| variant | wall ms | CPU ms |", "|---|---:|---:|"]
    med = {
        v: (statistics.median(w for w, _ in s), statistics.median(c for _, c in s))
        for v, s in samples.items()
    }
    for v in VARIANTS:
        rows.append(f"| {v} | {med[v][0]:.2f} | {med[v][1]:.2f} |")

    def diff(a: str, b: str) -> str:
        return f"{med[b][0] - med[a][0]:+.2f} ms wall, {med[b][1] - med[a][1]:+.2f} ms CPU"

    lines = [
        f"Median of {args.runs} runs each, interleaved, Python {sys.version.split()[0]}.",
        "",
        *rows,
        "",
        f"- inactive, after vs before: {diff('inactive, before', 'inactive, after')}",
        f"- active (contexts off), after vs before: {diff('active, before', 'active, after')}",
        f"- active, contexts on vs off: {diff('active, after', 'active, test, after')}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(
        "# Per-test contexts: per-process cost (bench/bench_test_contexts.py)\n\n" + text
    )


if __name__ == "__main__":
    main()
