"""A public suite no one here wrote, measured three ways side by side (issue 27).

Usage (one command, from the checkout): ``.venv/bin/python bench/bench_real_suite.py
[--rounds 3] [--variants site name] [--phases 20]``.  Writes ``bench/real_suite.md``.

The suite: python-dotenv (pinned in constraints.txt), whose sdist on PyPI
carries its tests; its CLI (``dotenv``, a click program) is tested through
subprocesses (``dotenv run`` starts a Python child of its own).  It is
installed the way tox does it: the sdist (downloaded with pip into
``bench/.cache/``, git-ignored; never committed) built and installed
non-editable into a venv, and pytest run on a copy of its ``tests/`` only, so
every child imports the installed package.  Two venvs with the same pins:
one without covhook, one with covhook installed from this checkout (no config).

Variants (the coverage setting the suite runs with):

- ``site``: ``pytest --cov=<the venv's site-packages>/dotenv`` (source named by path);
- ``name``: ``pytest --cov`` with the project's own ``[tool.coverage]``
  (``source = ["dotenv"]``, an importable name; ``relative_files``; ``[paths]``).

Modes, interleaved round by round: ``none`` (pytest-cov, children not
measured), ``patch`` (coverage's own ``[run] patch = subprocess, execv,
_exit``, the patches covhook applies, no covhook), ``covhook`` (covhook
installed, no config).  The TOTAL of both child
measuring modes must be equal.  A child's cost: a mode's wall minus ``none``'s.

``--phases N``: what one CLI child costs, phase by phase (``-X importtime``
and timers around coverage.py's own start, in a child of the ``patch`` kind).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache" / "real-suite"
SUITE = "python-dotenv"
PACKAGE = "dotenv"
MODES = ("none", "patch", "covhook")
VARIANTS = ("site", "name")
# coverage.py's own child measurement with the patches covhook applies by default
# (`dotenv run` replaces itself with os.execvpe: execv's patch saves before it).
PATCH = 'patch = ["subprocess", "execv", "_exit"]\n'
PY = os.environ.get("COVHOOK_BENCH_PYTHON", shutil.which("python3.11") or sys.executable)


def pinned(name: str) -> str:
    """``name==version`` from constraints.txt."""
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(name.lower() + "=="):
            return line.strip()
    raise SystemExit(f"{name} is not pinned in constraints.txt")


def sh(*cmd: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], check=True, text=True, **kw)  # type: ignore[call-overload,no-any-return]


def sdist() -> Path:
    """The suite's sdist, downloaded once with pip."""
    where = CACHE / "sdist"
    found = sorted(where.glob("*.tar.gz"))
    if not found:
        where.mkdir(parents=True, exist_ok=True)
        sh(PY, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
           pinned(SUITE), "-d", where)  # fmt: skip
        found = sorted(where.glob("*.tar.gz"))
    return found[-1]


def venv(name: str, with_covhook: bool, archive: Path) -> Path:
    """A venv with pytest, pytest-cov, coverage and the suite's package, all pinned."""
    root = CACHE / name
    python = root / "bin" / "python"
    if not (root / ".ready").exists():
        shutil.rmtree(root, ignore_errors=True)
        sh(PY, "-m", "venv", root)
        pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
               "-c", REPO / "constraints.txt"]  # fmt: skip
        sh(*pip, "pytest", "pytest-cov", "coverage", "click", archive)
        (root / ".ready").write_text("")
    if with_covhook:
        # covhook as this checkout has it now (non-editable, as a user installs it).
        sh(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
           "--force-reinstall", "-c", REPO / "constraints.txt", REPO)  # fmt: skip
    return python


def tests_copy(archive: Path) -> Path:
    """The sdist's tests and pyproject.toml (its coverage config), without the package source."""
    work = CACHE / "work"
    if not (work / "tests").exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            top = tar.getnames()[0].split("/")[0]
            tar.extractall(CACHE / "src", filter="data")
        shutil.copytree(CACHE / "src" / top / "tests", work / "tests")
        shutil.copy(CACHE / "src" / top / "pyproject.toml", work / "pyproject.toml")
    return work


def site_packages(python: Path) -> str:
    out = sh(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
             capture_output=True)  # fmt: skip
    return out.stdout.strip()


TOTAL = re.compile(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$", re.MULTILINE)


def patched_config(work: Path, extra: str = "") -> Path:
    """The project's pyproject.toml with coverage.py's patches in its [tool.coverage.run]."""
    patched = work / "bench-patch.toml"
    text = (work / "pyproject.toml").read_text()
    head = "[tool.coverage.run]\n"
    if head not in text:
        raise SystemExit("the suite's pyproject.toml has no [tool.coverage.run]")
    patched.write_text(text.replace(head, head + PATCH + extra, 1))
    return patched


def run_suite(python: Path, work: Path, mode: str, variant: str) -> tuple[float, float, str, str]:
    """(wall seconds, CPU seconds of the process tree, TOTAL, pytest's summary) of one run."""
    for stale in work.glob(".coverage*"):
        stale.unlink()
    cov = [f"--cov={site_packages(python)}/{PACKAGE}"] if variant == "site" else ["--cov"]
    config = []
    if mode == "patch":
        config = [f"--cov-config={patched_config(work)}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    cmd = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--ignore=tests/test_ipython.py",
           *cov, *config, "--cov-report=term", "--cov-precision=2", "tests"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(
        [str(c) for c in cmd], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    found = TOTAL.search(out.stdout)
    if out.returncode != 0 or not found:
        tail = out.stdout[-3000:]
        raise SystemExit(f"{mode}/{variant}: pytest failed ({out.returncode}):\n{tail}")
    summary = [line for line in out.stdout.splitlines() if " passed" in line][-1:]
    return wall, cpu, found.group(1), (summary or [""])[0]


def children_of(python: Path, work: Path, variant: str) -> int:
    """How many Python processes the suite starts (each one writes a data file with patch)."""
    for stale in work.glob(".coverage*"):
        stale.unlink()
    rc = patched_config(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "COVHOOK_"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    cov = [f"--cov={site_packages(python)}/{PACKAGE}"] if variant == "site" else ["--cov"]
    debug = work / "procs.txt"
    subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--ignore=tests/test_ipython.py", *cov, f"--cov-config={rc}", "--cov-report=",
         "--no-cov-on-fail", "tests", "-p", "no:randomly"],
        cwd=work, env={**env, "COVERAGE_DEBUG": "process", "COVERAGE_DEBUG_FILE": str(debug)},
        capture_output=True, check=False,
    )  # fmt: skip
    text = (work / "procs.txt").read_text() if (work / "procs.txt").exists() else ""
    (work / "procs.txt").unlink(missing_ok=True)
    return len(set(re.findall(r"New process: pid=(\d+)", text, re.MULTILINE))) - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=HERE / "real_suite.md")
    args = parser.parse_args(argv)

    archive = sdist()
    pythons = {"plain": venv("venv-plain", False, archive),
               "covhook": venv("venv-covhook", True, archive)}  # fmt: skip
    work = tests_copy(archive)
    walls: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    totals: dict[tuple[str, str], set[str]] = {}
    summaries: dict[tuple[str, str], str] = {}
    for r in range(args.rounds):
        for variant in args.variants:
            for mode in MODES:
                python = pythons["covhook" if mode == "covhook" else "plain"]
                wall, cpu, total, summary = run_suite(python, work, mode, variant)
                walls.setdefault((variant, mode), []).append(wall)
                cpus.setdefault((variant, mode), []).append(cpu)
                totals.setdefault((variant, mode), set()).add(total)
                summaries[(variant, mode)] = summary
                print(f"round {r + 1} {variant} {mode} {wall:.2f} s, CPU {cpu:.2f} s, {total}%")
    children = {v: children_of(pythons["plain"], work, v) for v in args.variants}
    write(args.out, args, walls, cpus, totals, summaries, children)
    print(f"wrote {args.out}")
    return 0


def ratio(med: dict[str, float]) -> float:
    """covhook's child cost over coverage's own (each over the no-child run)."""
    patch = med["patch"] - med["none"]
    return (med["covhook"] - med["none"]) / patch if patch > 0 else float("nan")


def write(  # noqa: PLR0917
    out: Path,
    args: argparse.Namespace,
    walls: dict[tuple[str, str], list[float]],
    cpus: dict[tuple[str, str], list[float]],
    totals: dict[tuple[str, str], set[str]],
    summaries: dict[tuple[str, str], str],
    children: dict[str, int],
) -> None:
    lines = [
        "# A real suite: python-dotenv's own tests, three ways (issue 27)",
        "",
        f"Written by `bench/bench_real_suite.py --rounds {args.rounds}` (one command; re-run it on",
        "a quiet machine).  The suite: "
        f"`{pinned(SUITE)}` from its PyPI sdist, installed non-editable into a venv",
        "as tox does, pytest on a copy of its `tests/` (`test_ipython.py` left out: IPython is not",
        f"installed); {pinned('pytest-cov')}, {pinned('coverage')}, Python "
        f"{sys.version_info.major}.{sys.version_info.minor} venvs, covhook from this checkout",
        "installed with no config.  Medians of the rounds, modes interleaved.  Child cost: the",
        "mode's wall (or CPU: user + system of pytest and every process it started) minus the",
        "`none` run's (children not measured).  CPU is what the children cost; wall on a",
        "shared machine moves with the other load.",
        "",
    ]
    for variant in args.variants:
        med = {m: statistics.median(walls[(variant, m)]) for m in MODES}
        cpu = {m: statistics.median(cpus[(variant, m)]) for m in MODES}
        same = totals[(variant, "covhook")] == totals[(variant, "patch")]
        cov = (
            "`--cov=<site-packages>/dotenv`"
            if variant == "site"
            else '`--cov` with the project\'s config (`source = ["dotenv"]`, `relative_files`)'
        )
        lines += [
            f"## {cov}",
            "",
            f"{children[variant]} Python children; {summaries[(variant, 'none')]}",
            "",
            "| run | TOTAL | wall | child cost (wall) | CPU | child cost (CPU) | walls (rounds) |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        labels = ("no child measurement", "coverage `patch = subprocess, execv, _exit`", "covhook")
        for mode, label in zip(MODES, labels, strict=True):
            rounds = ", ".join(f"{w:.1f}" for w in walls[(variant, mode)])
            cost = "" if mode == "none" else f"{med[mode] - med['none']:.2f} s"
            cpu_cost = "" if mode == "none" else f"{cpu[mode] - cpu['none']:.2f} s"
            total = "/".join(sorted(totals[(variant, mode)]))
            lines.append(
                f"| {label} | {total} % | {med[mode]:.2f} s | {cost} | {cpu[mode]:.2f} s "
                f"| {cpu_cost} | {rounds} |"
            )
        lines += [
            "",
            f"covhook's child cost / coverage's: **{ratio(med):.2f}x** wall, "
            f"**{ratio(cpu):.2f}x** CPU (target <= 0.5x); same TOTAL: "
            f"**{'yes' if same else 'NO'}**.",
            "",
        ]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()[:2])
    lines += [f"Load average (1, 5 min) at the end: {load} on {os.cpu_count()} cores.", ""]
    out.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
