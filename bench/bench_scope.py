"""Per-process cost of scoped lazy start and the lean path, vs coverage's own hook.

Builds (once, under --work) three venvs from one interpreter: ``bare``,
``coverage`` (coverage only: its own ``a1_coverage.pth`` runs
``coverage.process_startup()``) and ``covhook`` (coverage + covhook from this
checkout), and a project: ``src/app`` (in scope: ``[run] source = src``) and
an out-of-scope ``helper.py``.  Then times, interleaved run by run (shuffled)
so machine noise hits every variant alike, median wall and CPU (user+system
from ``wait4``) milliseconds of:

- out of scope: ``python helper.py``, which runs no line of ``src``;
- in scope: ``python -m app.cli`` with line data and with branch data:
  covhook as installed (its recorder: coverage's C tracer and data format
  without importing coverage.py), and with ``COVHOOK_RECORDER=0`` (the lean
  import of coverage.py) and also ``COVHOOK_LEAN=0`` (coverage.py as is).

and checks the data files each variant leaves (lazy: none out of scope).

    .venv/bin/python bench/bench_scope.py --runs 30
    .venv/bin/python bench/bench_scope.py --runs 30 \
        --python /root/.pyenv/versions/3.12.1/bin/python3 --coverage coverage==7.17.5 --core sysmon

``--core sysmon`` sets ``COVERAGE_CORE=sysmon`` for every measured variant
(coverage.py's ``sys.monitoring`` core, and covhook's sysmon recorder); from
3.14 it is coverage's default core.  Branch data with sysmon needs 3.14 (on
3.12/3.13 coverage.py falls back to its C tracer), so there only lines are
timed.  On 3.12+ it also times a *floor* for any sys.monitoring recorder: a
few lines that register a LINE callback for files under ``src`` and write
the lines to an SQLite file at exit (no coverage import at all).
bench/per_python.sh runs it for every Python (issue 21).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COVERAGE = "coverage==7.17.3"

CLI = """\
import sys


def main(argv):
    total = 0
    for arg in argv or ["1", "2"]:
        if arg.isdigit():
            total += int(arg)
        else:
            total -= 1
    return total


if __name__ == "__main__":
    main(sys.argv[1:])
"""
HELPER = """\
import json
import os

print(json.dumps({"cwd": os.getcwd()}) if os.environ.get("HELPER_VERBOSE") else "", end="")
"""
# The least any sys.monitoring recorder must do: import sqlite3, register a
# LINE callback, write the lines at exit.  No coverage.py at all.
FLOOR = """\
import atexit, os, sqlite3, sys, runpy
mon = sys.monitoring
SRC = os.path.abspath("src") + os.sep
seen = {}
def line(code, number):
    if code.co_filename.startswith(SRC):
        seen.setdefault(code.co_filename, set()).add(number)
    else:
        return mon.DISABLE
mon.use_tool_id(3, "floor")
mon.register_callback(3, mon.events.LINE, line)
mon.set_events(3, mon.events.LINE)
def save():
    db = sqlite3.connect(f".floor.{os.getpid()}")
    db.execute("create table if not exists line (file text, numbers blob)")
    db.executemany("insert into line values (?, ?)",
                   [(f, repr(sorted(n))) for f, n in seen.items()])
    db.commit()
    db.close()
atexit.register(save)
sys.argv = ["app.cli"]
runpy.run_module("app.cli", run_name="__main__", alter_sys=True)
"""


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def make_venvs(work: Path, python: str, coverage: str = COVERAGE) -> dict[str, Path]:
    venvs = {name: work / name for name in ("bare", "coverage", "covhook")}
    pip = ("-m", "pip", "install", "-q", "--disable-pip-version-check")
    for name, venv in venvs.items():
        if not (venv / "bin" / "python").exists():
            sh(python, "-m", "venv", str(venv))
            if name != "bare":
                sh(str(venv / "bin" / "python"), *pip, coverage)
    wheel_dir = work / "wheel"
    shutil.rmtree(wheel_dir, ignore_errors=True)
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel_dir), str(REPO))
    (wheel,) = wheel_dir.glob("*.whl")
    sh(str(venvs["covhook"] / "bin" / "python"), *pip, "--force-reinstall", "--no-deps", str(wheel))
    return {k: v / "bin" / "python" for k, v in venvs.items()}


def make_project(root: Path) -> dict[str, Path]:
    (root / "src" / "app").mkdir(parents=True, exist_ok=True)
    (root / "src" / "app" / "__init__.py").write_text("")
    (root / "src" / "app" / "cli.py").write_text(CLI)
    (root / "helper.py").write_text(HELPER)
    (root / "floor.py").write_text(FLOOR)
    data = root / "data"
    data.mkdir(exist_ok=True)
    rcs = {}
    for kind, branch in (("line", False), ("branch", True)):
        rc = root / f"{kind}.rc"
        rc.write_text(
            f"[run]\nsource = src\nbranch = {branch}\nparallel = True\n"
            f"data_file = {data}/.coverage\n"
        )
        rcs[kind] = rc
    return rcs


def time_once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{cmd} failed with status {status}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


Variant = tuple[list[str], dict[str, str]]


def measure(
    variants: dict[str, Variant], runs: int, cwd: Path, data: Path
) -> dict[str, tuple[float, float, float]]:
    """{name: (median wall ms, median CPU ms, data files per run)}."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    files: dict[str, int] = dict.fromkeys(variants, 0)
    for cmd, env in variants.values():  # warm caches (and .pyc files)
        time_once(cmd, env, cwd)
    for stale in data.glob(".*"):
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    order = list(variants)
    shuffle = random.Random(0).shuffle
    for _ in range(runs):
        shuffle(order)
        for name in order:
            cmd, env = variants[name]
            samples[name].append(time_once(cmd, env, cwd))
            made = [p for p in data.glob(".coverage.*")] + list(cwd.glob(".floor.*"))
            files[name] += len(made)
            for path in made:
                path.unlink()
    return {
        name: (
            statistics.median(w for w, _ in values),
            statistics.median(c for _, c in values),
            files[name] / runs,
        )
        for name, values in samples.items()
    }


def table(title: str, results: dict[str, tuple[float, float, float]], base: str) -> list[str]:
    bare_wall, bare_cpu, _ = results[base]
    lines = [
        f"**{title}**",
        "",
        "| variant | wall ms | over bare | CPU ms | over bare | data files per run |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, (wall, cpu, files) in results.items():
        lines.append(
            f"| {name} | {wall:.1f} | {wall - bare_wall:+.1f} | {cpu:.1f} "
            f"| {cpu - bare_cpu:+.1f} | {files:g} |"
        )
    return [*lines, ""]


def ratio(results: dict[str, tuple[float, float, float]], ours: str, theirs: str) -> str:
    out = []
    for column, label in ((0, "wall"), (1, "CPU")):
        base = results["bare"][column]
        mine = results[ours][column] - base
        other = results[theirs][column] - base
        out.append(f"{label} {mine:+.1f} / {other:+.1f} ms = **{mine / other:.2f}x**")
    return ", ".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--coverage", default=COVERAGE, help="pip requirement for coverage")
    parser.add_argument("--core", choices=("sysmon", "ctrace"), help="COVERAGE_CORE for all")
    parser.add_argument("--out", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "covhook-bench-scope"
    )
    args = parser.parse_args()
    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    work = args.work / f"{version}-{args.coverage.replace('=', '')}"
    work.mkdir(parents=True, exist_ok=True)
    py = make_venvs(work, args.python, args.coverage)
    project = work / "project"
    rcs = make_project(project)
    data = project / "data"
    drop = ("COVERAGE_", "COVHOOK_", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    base = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    base["PYTHONPATH"] = str(project / "src")
    base["COVHOOK_CACHE_DIR"] = str(work / "covhook-cache")  # the recorder's config cache

    core = {"COVERAGE_CORE": args.core} if args.core else {}

    def env(rc: str, **extra: str) -> dict[str, str]:
        return {**base, "COVERAGE_PROCESS_START": str(rcs[rc]), **core, **extra}

    helper = ["helper.py"]
    cli = ["-m", "app.cli", "3", "x"]
    out_of_scope = {
        "bare": ([str(py["bare"]), *helper], base),
        "coverage's hook": ([str(py["coverage"]), *helper], env("line")),
        "covhook lazy": ([str(py["covhook"]), *helper], env("line")),
        "covhook eager (COVHOOK_LAZY=0)": (
            [str(py["covhook"]), *helper], env("line", COVHOOK_LAZY="0", COVHOOK_LEAN="0")
        ),
    }  # fmt: skip
    in_scope: dict[str, dict[str, Variant]] = {}
    minor = int(version.split(".")[1])
    monitoring = minor >= 12
    kinds = ("line",) if args.core == "sysmon" and minor < 14 else ("line", "branch")
    for kind in kinds:
        in_scope[kind] = {
            "bare": ([str(py["bare"]), *cli], base),
            "coverage's hook": ([str(py["coverage"]), *cli], env(kind)),
            "covhook": ([str(py["covhook"]), *cli], env(kind)),
            "covhook, COVHOOK_RECORDER=0 (lean)": (
                [str(py["covhook"]), *cli], env(kind, COVHOOK_RECORDER="0")
            ),
            "covhook, COVHOOK_RECORDER=0 COVHOOK_LEAN=0": (
                [str(py["covhook"]), *cli], env(kind, COVHOOK_RECORDER="0", COVHOOK_LEAN="0")
            ),
        }  # fmt: skip
        if monitoring and kind == "line":
            in_scope[kind]["floor: sys.monitoring + sqlite3, no coverage"] = (
                [str(py["bare"]), "floor.py"], base
            )  # fmt: skip

    results = {"out": measure(out_of_scope, args.runs, project, data)}
    for kind, variants in in_scope.items():
        results[kind] = measure(variants, args.runs, project, data)

    load = os.getloadavg()
    used = which_path(py["covhook"], env("line"), project)
    lines = [
        f"Python {version}, {args.coverage}, core: "
        f"{args.core or 'coverage default'}, median of {args.runs} runs each, interleaved; "
        f"load average (1, 5 min) at the end {load[0]:.1f}, {load[1]:.1f} on 2 cores "
        "(other sessions running).",
        "",
        f"The in-scope covhook process measured with: {used}.",
        "",
    ]
    lines += table("Out of scope: `python helper.py`", results["out"], "bare")
    lines.append(
        "- covhook lazy over bare vs coverage's hook over bare: "
        + ratio(results["out"], "covhook lazy", "coverage's hook")
        + " (target <= 0.1x, no data file; issue 21)"
    )
    lines.append("")
    for kind in kinds:
        lines += table(f"In scope, {kind} data: `python -m app.cli`", results[kind], "bare")
        lines.append(
            "- covhook over bare vs coverage's hook over bare: "
            + ratio(results[kind], "covhook", "coverage's hook")
            + " (target <= 0.3x, issue 21)"
        )
        lines.append(
            "- without the recorder (lean path only): "
            + ratio(results[kind], "covhook, COVHOOK_RECORDER=0 (lean)", "coverage's hook")
        )
        lines.append("")
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


PROBE = """\
import sys
import app.cli
mon = getattr(sys, "monitoring", None)
tool = mon and mon.get_tool(mon.COVERAGE_ID)
tracer = type(sys.gettrace()).__name__
print("coverage.py" if "coverage" in sys.modules else "covhook's recorder", tracer, tool)
"""


def which_path(python: Path, env: dict[str, str], cwd: Path) -> str:
    """What measured an in-scope covhook process: coverage.py or the recorder, which core."""
    out = subprocess.run(
        [str(python), "-c", PROBE], env=env, cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.split()
    for made in (cwd / "data").glob(".coverage.*"):
        made.unlink()
    who = " ".join(out[:-2])
    core = "sys.monitoring" if out[-1] == "coverage.py" else f"trace function {out[-2]}"
    return f"{who} ({core})"


if __name__ == "__main__":
    sys.exit(main())
