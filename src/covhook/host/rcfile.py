"""Find the coverage configuration file a run should hand to its processes."""

from __future__ import annotations

import os
from pathlib import Path

from covhook.errors import CovhookError

# coverage.py's own search order, and the section that makes each file count.
_CANDIDATES = (
    (".coveragerc", None),
    ("setup.cfg", "[coverage:"),
    ("tox.ini", "[coverage:"),
    ("pyproject.toml", "[tool.coverage"),
)


def find_rcfile(explicit: str | None = None, directory: Path | None = None) -> Path | None:
    """The config file coverage.py would read here, or None if there is none."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise CovhookError(f"config file {explicit} does not exist", "pass an existing file")
        return path.resolve()
    if os.environ.get("COVERAGE_RCFILE"):
        return find_rcfile(os.environ["COVERAGE_RCFILE"])
    base = directory or Path.cwd()
    for name, marker in _CANDIDATES:
        path = base / name
        if path.is_file() and (marker is None or marker in path.read_text("utf-8", "replace")):
            return path.resolve()
    return None


def rcfile_for_run(explicit: str | None, scratch: Path) -> Path:
    """The config the measured processes get: the user's, or a minimal one in ``scratch``.

    Without any config file, processes still need one to name in
    COVERAGE_PROCESS_START; ``parallel`` is all a process tree needs.
    """
    found = find_rcfile(explicit)
    if found is not None:
        return found
    path = scratch / "coveragerc"
    path.write_text("[run]\nparallel = True\n", "utf-8")
    return path
