"""Lines caught in real servers, task queues and pools: covhook vs the alternatives.

Runs every case of the frameworks layer (``tests/support/frameworks.py``:
gunicorn, uvicorn --workers 2, a celery prefork pool, recycling pools,
pytest-xdist) in the project's ``.venv`` (``bash scripts/setup/35-frameworks.sh``),
measured five ways, and counts the case's worker-only lines found in the
combined data (request handlers, worker hooks, task bodies):

- covhook: ``COVERAGE_PROCESS_START``, ``covhook run``, ``pytest --cov`` (an
  inner pytest whose test starts the program; covhook's plugin on);
- coverage's own ``[run] patch = subprocess`` (``coverage run``, then
  ``coverage combine``), covhook off (``COVHOOK_DISABLE=1``);
- pytest-cov alone (``-p no:covhook``, ``COVHOOK_DISABLE=1``) with the
  ``patch = subprocess`` pytest-cov 7 documents for subprocesses.

It also checks each run's exit status against the unmeasured run's.  Writes
``bench/frameworks.md``:

    .venv/bin/python bench/bench_frameworks.py
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support import frameworks  # noqa: E402

PACKAGES = ("coverage", "pytest", "pytest-cov", "pytest-xdist", "gunicorn", "uvicorn", "celery")
FORMS = {
    "env": "covhook: `COVERAGE_PROCESS_START`",
    "run": "covhook: `covhook run`",
    "pytest": "covhook: `pytest --cov`",
    "coverage-patch": "coverage `patch = subprocess`",
    "pytest-cov": "pytest-cov alone",
}
DESCRIBED = {
    "gunicorn-SIGTERM": "gunicorn, 2 sync workers, SIGTERM",
    "gunicorn-SIGTERM-preload": "gunicorn --preload, SIGTERM",
    "gunicorn-SIGINT": "gunicorn, SIGINT",
    "gunicorn-SIGQUIT-preload": "gunicorn --preload, SIGQUIT",
    "uvicorn-SIGTERM": "uvicorn --workers 2, SIGTERM",
    "uvicorn-SIGINT": "uvicorn --workers 2, SIGINT",
    "celery-prefork": "celery prefork pool (filesystem:// broker), SIGTERM (warm shutdown)",
    "executor-max-tasks": "`ProcessPoolExecutor(max_tasks_per_child=1)`",
    "pool-maxtasksperchild": "`multiprocessing.Pool(maxtasksperchild=1)` (fork)",
    "xdist-subprocess": "pytest-xdist `-n 2`, tests start a subprocess",
}


def one(case: frameworks.Case, form: str, root: Path, bare: int) -> str:
    """'caught/expected' for one run, with a mark when the status differs from bare."""
    directory = root / f"{case.id}-{form}"
    directory.mkdir()
    try:
        outcome = frameworks.measure(case, form, directory, bare)
    except (AssertionError, OSError) as exc:  # a hang or a crash is a result too
        frameworks.kill_left(directory)
        return f"failed ({str(exc).splitlines()[0][:60]})"
    finally:
        frameworks.kill_left(directory)
    expected = case.expected(directory)
    want = sum(len(lines) for lines in expected.values())
    got = sum(len(lines & outcome.lines.get(name, set())) for name, lines in expected.items())
    wanted_status = 0 if form in ("pytest", "pytest-cov") else bare
    status = "" if outcome.status == wanted_status else f" (status {outcome.status})"
    cell = f"{got}/{want}{status}"
    return f"**{cell}**" if got < want else cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "frameworks.md")
    parser.add_argument("-k", default="", help="only cases whose id contains this")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-frameworks-") as tmp:
        root = Path(tmp).resolve()
        for case in frameworks.CASES.values():
            if args.k not in case.id:
                continue
            bare_dir = root / f"{case.id}-bare"
            bare_dir.mkdir()
            bare = frameworks.measure(case, "bare", bare_dir).status
            frameworks.kill_left(bare_dir)
            cells = [one(case, form, root, bare) for form in FORMS]
            rows.append(f"| {DESCRIBED[case.id]} | {bare} | " + " | ".join(cells) + " |")
            print(rows[-1], flush=True)
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    text = f"""# Benchmark: lines caught in real servers, task queues and pools

Output of `bench/bench_frameworks.py` (do not edit by hand).  Each cell: the
case's worker-only lines (request handlers, worker start/exit hooks, task
bodies) found in the combined data, of those the case runs; **bold** when
lines were lost.  "(status N)" marks a run whose exit status differs from the
unmeasured run's (the pytest columns: the inner pytest's, 0 when the program's
status matched).  One run each; the cases are deterministic.

    .venv/bin/python bench/bench_frameworks.py

Python {platform.python_version()}, {versions}.

| case | unmeasured status | {" | ".join(FORMS.values())} |
|---|---:|{"---:|" * len(FORMS)}
{chr(10).join(rows)}
"""
    args.out.write_text(text)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
