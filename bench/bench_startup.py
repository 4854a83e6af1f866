"""Interpreter start-up cost of covhook's hook, inactive and active.

Builds the venvs it compares (once, under --work), then times ``python -c
pass`` in each, interleaving the variants run by run so machine noise hits
them alike, and prints a Markdown table of medians and differences.

    .venv/bin/python bench/bench_startup.py --runs 40

Inactive (no COVERAGE_PROCESS_START):
  bare       a venv with nothing installed
  a1         + coverage (its own a1_coverage.pth)
  a0         bare + covhook's a0_covhook.pth only (covhook's own cost)
  a0+a1      coverage + covhook, as ``pip install covhook`` leaves it
  a0+a1+start  the same plus ``a0_covhook_entry.start`` (what the wheel shipped
             before issue 21: on 3.15 site.py then imports pkgutil in every process)

Python 3.14/3.15 (Debian's, in the forky root of scripts/setup/50-forky.sh):

    bash scripts/forky.sh /usr/bin/python3.15 bench/bench_startup.py --runs 40 \
        --python /usr/bin/python3.15 --coverage coverage==7.18.0
Active (COVERAGE_PROCESS_START=rc with parallel = True):
  coverage   coverage.process_startup() via a1_coverage.pth
  covhook    covhook's hook (plugin, origin tag, defaults), same rc

PEP 829 (Python 3.15+ runs ``a0_covhook.start`` instead of the .pth's import
line): the first, cold-in-process cost of resolving and calling the entry
point the way 3.15's site.py does, against the first processing of the .pth,
each in a fresh interpreter of the covhook venv (inactive; target <= +0.1 ms).
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
sys.path.insert(0, str(REPO / "pth"))
from make_pth import PTH_NAME, START_NAME, start_text  # noqa: E402

COVERAGE = "coverage==7.17.3"


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def make_venvs(work: Path, python: str, coverage: str = COVERAGE) -> dict[str, Path]:
    """bare, with-coverage, with-covhook venvs (reused), covhook rebuilt from this checkout."""
    wheel_dir = work / "wheel"
    names = ("bare", "coverage", "covhook", "a0only", "withstart")
    venvs = {name: work / name for name in names}
    pip = ("-m", "pip", "install", "-q", "--disable-pip-version-check")
    for name, venv in venvs.items():
        if not (venv / "bin" / "python").exists():
            sh(python, "-m", "venv", str(venv))
            if name in ("coverage", "covhook", "withstart"):
                sh(str(venv / "bin" / "python"), *pip, coverage)
    shutil.rmtree(wheel_dir, ignore_errors=True)
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheel_dir), str(REPO))
    (wheel,) = wheel_dir.glob("*.whl")
    covhook_python = str(venvs["covhook"] / "bin" / "python")
    sh(covhook_python, *pip, "--force-reinstall", "--no-deps", str(wheel))
    sh(
        str(venvs["withstart"] / "bin" / "python"),
        *pip,
        "--force-reinstall",
        "--no-deps",
        str(wheel),
    )
    (site_of(venvs["withstart"]) / START_NAME).write_text(start_text(), "utf-8")
    shutil.copy(site_of(venvs["covhook"]) / "a0_covhook.pth", site_of(venvs["a0only"]))
    return {k: v / "bin" / "python" for k, v in venvs.items()}


def site_of(venv: Path) -> Path:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def time_once(python: Path, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms) of one ``python -c pass``; CPU time shrugs off a busy machine."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(python), "-c", "pass"], env=env, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{python} failed with status {proc.returncode}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


Variants = dict[str, tuple[Path, dict[str, str]]]


def measure(variants: Variants, runs: int, cwd: Path) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) per variant, the variants interleaved run by run."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for python, env in variants.values():  # warm the page cache
        time_once(python, env, cwd)
    order = list(variants)
    shuffle = random.Random(0).shuffle
    for _ in range(runs):
        shuffle(order)  # no variant always runs right after another one
        for name in order:
            python, env = variants[name]
            samples[name].append(time_once(python, env, cwd))
        for stale in cwd.glob(".coverage*"):
            stale.unlink()
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in samples.items()
    }


PTH_COST = """
import site, sys, timeit
directory, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
print(timeit.timeit(lambda: site.addpackage(directory, name, set()), number=n) / n * 1e6)
"""


def pth_cost_us(python: Path, pth: Path, number: int = 5000) -> float:
    """Microseconds ``site`` spends on one .pth file, measured inside the interpreter."""
    out = subprocess.run(
        [str(python), "-c", PTH_COST, str(pth.parent), pth.name, str(number)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)


FIRST_COST = """
import pkgutil, site, sys, time  # site.py has these loaded already
kind, arg, directory = sys.argv[1:4]
start = time.perf_counter_ns()
if kind == "start":
    pkgutil.resolve_name(arg)()
else:
    site.addpackage(directory, arg, set())
print((time.perf_counter_ns() - start) / 1000)
"""


def first_cost_us(python: Path, kind: str, arg: str, directory: Path, runs: int) -> float:
    """Median microseconds of the first .start entry point call / .pth processing."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [str(python), "-c", FIRST_COST, kind, arg, str(directory)],
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(out.stdout))
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs")
    parser.add_argument("--coverage", default=COVERAGE, help="the coverage requirement")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "covhook-bench-startup"
    )
    parser.add_argument(
        "--pep829-only", action="store_true", help="only the .start entry point's first call"
    )
    args = parser.parse_args()
    py = make_venvs(args.work, args.python, args.coverage)
    if args.pep829_only:
        return pep829(py, args)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}
    data_dir = Path(tempfile.mkdtemp(prefix="covhook-bench-"))
    rc = args.work / "coveragerc"  # outside data_dir, whose .coverage* files are removed
    rc.write_text(f"[run]\nparallel = True\ndata_file = {data_dir}/.coverage\n")
    active = {**base, "COVERAGE_PROCESS_START": str(rc)}

    inactive = measure(
        {"bare": (py["bare"], base), "a1": (py["coverage"], base),
         "a0": (py["a0only"], base), "a0+a1": (py["covhook"], base),
         "a0+a1+start": (py["withstart"], base)},
        args.runs, data_dir,
    )  # fmt: skip
    activated = measure(
        {"coverage": (py["coverage"], active), "covhook": (py["covhook"], active)},
        args.runs, data_dir,
    )  # fmt: skip
    version = subprocess.run(
        [args.python, "-V"], capture_output=True, text=True, check=True
    ).stdout.strip()
    load = os.getloadavg()[0]
    print(
        f"`python -c pass`, {version}, {args.coverage}, median of {args.runs} runs each, "
        f"interleaved (load average {load:.1f}).\n"
    )
    print("| variant | wall ms | vs bare | ratio | CPU ms | vs bare | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    bare_wall, bare_cpu = inactive["bare"]
    for kind, results in (("inactive", inactive), ("active", activated)):
        for name, (wall, cpu) in results.items():
            print(
                f"| {kind}: {name} | {wall:.2f} | {wall - bare_wall:+.2f} "
                f"| {wall / bare_wall:.3f} | {cpu:.2f} | {cpu - bare_cpu:+.2f} "
                f"| {cpu / bare_cpu:.3f} |"
            )
    print()
    for column, label in ((0, "wall"), (1, "CPU")):
        idle = inactive["a0"][column] - inactive["bare"][column]
        extra = activated["covhook"][column] - activated["coverage"][column]
        ratio = activated["covhook"][column] / activated["coverage"][column]
        print(
            f"- {label}: covhook's .pth inactive {idle:+.2f} ms over a bare venv "
            f"(target <= +0.1); active, covhook vs coverage.process_startup() "
            f"{extra:+.2f} ms per process, ratio {ratio:.3f} (target <= +2 ms)."
        )
    print()
    print("In-process cost of one .pth file (``site.addpackage``; a venv runs it twice):")
    print()
    print("| .pth | microseconds per processing |")
    print("|---|---:|")
    covhook_site = site_of(args.work / "covhook")
    for pth in (covhook_site / "a0_covhook.pth", covhook_site / "a1_coverage.pth"):
        print(f"| {pth.name} | {pth_cost_us(py['bare'], pth):.1f} |")
    pep829(py, args)
    shutil.rmtree(data_dir)
    return 0


def pep829(py: dict[str, Path], args: argparse.Namespace) -> int:
    """The .start entry point's first call against the .pth's first processing."""
    covhook_site = site_of(args.work / "covhook")
    print()
    print("PEP 829: first call in a fresh interpreter (inactive), median microseconds:")
    print()
    print("| what | microseconds |")
    print("|---|---:|")
    lines = start_text().splitlines()
    (entry,) = [x for x in lines if x.strip() and not x.startswith("#")]
    pth = first_cost_us(py["covhook"], "pth", PTH_NAME, covhook_site, args.runs)
    start = first_cost_us(py["covhook"], "start", entry, covhook_site, args.runs)
    print(f"| {PTH_NAME} processed by site.addpackage | {pth:.1f} |")
    print(f"| {entry} resolved and called | {start:.1f} |")
    print(f"\n- .start instead of .pth: {(start - pth) / 1000:+.3f} ms (target <= +0.1).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
