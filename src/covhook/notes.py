"""The note files measured processes leave in a data directory, and the one line each is told with.

Two kinds (names in :mod:`covhook.layout`):

- ``.covhook-unmeasured.<pid>.json``: one JSON line per Python child that ran
  without coverage (``parent_pid``, ``argv``, ``kind``, ``why``, ``fix``),
  written by :mod:`covhook.startup.children`;
- ``.covhook-skipped``: one tab-separated line (pid, why, command line) per
  process the scope rules or lazy start skipped, written by
  :mod:`covhook.startup.scope` (through :mod:`covhook.startup.boot`).

Written here, read here (by ``covhook combine``, ``covhook doctor`` and the
pytest plugin), and told here: :func:`unmeasured_line` and
:func:`skipped_line` are the only places the user-facing lines are built.
Measured processes import this module only when they write a note; it
imports nothing but ``os`` and ``sys`` at load (issue 9: start-up cost).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (issue 9: start-up cost)
if TYPE_CHECKING:
    from typing import Any

# --- children that ran without coverage ------------------------------------------

SCRUBBED = "scrubbed-env"
SITE_DISABLED = "site-disabled"
WHY = {
    SCRUBBED: (
        "started with an explicit environment without COVERAGE_PROCESS_CONFIG",
        "pass os.environ's COVERAGE_PROCESS_CONFIG to the child, "
        "or set COVHOOK_SCRUBBED_ENV=measure",
    ),
    SITE_DISABLED: (
        "started with python -S: no site, so no .pth file runs (neither covhook's hook "
        "nor coverage's)",
        "drop -S from the child's command line; if you wanted isolation, -I keeps "
        "site-packages' .pth files running, so the child is measured",
    ),
}


def note_child(data_dir: str, argv: list[str], kind: str) -> None:
    """Append one JSON line about an unmeasured child of this process."""
    import json

    why, fix = WHY[kind]
    line = json.dumps(
        {"parent_pid": os.getpid(), "argv": argv[:8], "kind": kind, "why": why, "fix": fix}
    )
    from covhook import datadir, layout

    # The data dir may be shared: never through a symlink, never another user's file.
    datadir.append_line(layout.note_path(data_dir, os.getpid()), line)


def unmeasured(directory: str) -> list[dict[str, Any]]:
    """Every note left in ``directory``: children that ran without coverage, and why.

    Notes are read as regular files only (never a FIFO, never via a symlink);
    a line that is not a note is skipped, and its file named once (issue 23).
    """
    import json

    from covhook import datadir
    from covhook.layout import NOTE_PREFIX

    found: list[dict[str, Any]] = []
    try:
        names = sorted(n for n in os.listdir(directory) if n.startswith(NOTE_PREFIX))
    except OSError:
        return found
    for name in names:
        path = os.path.join(directory, name)
        try:
            lines = datadir.read_text(path).splitlines()
        except FileNotFoundError:
            continue
        except OSError as exc:
            datadir.skipped(path, f"cannot read it: {exc.strerror or exc}")
            continue
        bad = 0
        for line in filter(str.strip, lines):
            try:
                note = json.loads(line)
            except ValueError:
                note = None
            if _is_note(note):
                found.append(note)
            else:
                bad += 1
        if bad:
            datadir.skipped(path, f"{bad} line(s) that are not notes of unmeasured children")
    return found


def _is_note(note: Any) -> bool:
    return (
        isinstance(note, dict)
        and all(isinstance(note.get(k, ""), str) for k in ("kind", "why", "fix"))
        and isinstance(note.get("argv", []), list)
        and all(isinstance(a, str) for a in note.get("argv", []))
    )


def forget(directory: str) -> None:
    """Remove the notes once they have been reported (like combined data files)."""
    import contextlib

    from covhook.layout import NOTE_PREFIX

    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if name.startswith(NOTE_PREFIX):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(directory, name))


def unmeasured_line(count: int, note: dict[str, Any]) -> str:
    """The line that tells ``count`` children ran unmeasured, ``note`` the example.

    ``why`` and ``fix`` come from a file others can write: printed on one line,
    control characters escaped (issue 23).
    """
    from covhook.quoting import one_line

    example = " ".join(note.get("argv", []))
    return (
        f"covhook: {count} Python child process(es) ran without coverage: "
        f"{one_line(note.get('why'))} (e.g. {example!r}). Fix: {one_line(note.get('fix'))}"
    )


# --- processes the scope skipped ---------------------------------------------------


def note_skipped(data_dir: str, why: str) -> None:
    """Append one line (pid, why, command line) to ``<data dir>/.covhook-skipped``."""
    argv = getattr(sys, "orig_argv", None) or sys.argv
    line = f"{os.getpid()}\t{why}\t{' '.join(argv)[:200]}".replace("\n", " ")
    from covhook import datadir, layout

    # Never through a symlink, never another user's file, never looser than 0644 (issue 8).
    datadir.append_line(layout.skipped_note(data_dir), line)


def skipped_count(data_dir: str) -> int:
    """How many processes the scope skipped (no coverage, no data file) in ``data_dir``."""
    from covhook import datadir, layout

    try:  # never a FIFO (it would hang), never through a symlink (issue 23)
        fd = datadir.open_regular(layout.skipped_note(data_dir))
    except OSError:
        return 0
    with open(fd, "rb") as f:
        return sum(1 for line in f if line.strip())


def skipped_records(data_dir: str) -> list[dict[str, str]]:
    """The skipped processes' lines: pid, why, command line."""
    from covhook import datadir, layout

    found: list[dict[str, str]] = []
    try:  # a regular file only: never a FIFO, never through a symlink (issue 23)
        text = datadir.read_regular(layout.skipped_note(data_dir), None).decode("utf-8", "replace")
    except OSError:
        return found
    for line in text.splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3:
            found.append({"pid": parts[0], "why": parts[1], "argv": parts[2]})
    return found


def forget_skipped(data_dir: str) -> None:
    """Remove the note once reported (like combined data files)."""
    import contextlib

    from covhook import layout

    with contextlib.suppress(OSError):
        os.unlink(layout.skipped_note(data_dir))


def skipped_line(count: int) -> str | None:
    """The line ``covhook combine`` and the pytest summary print for ``count``, or None."""
    if count <= 0:
        return None
    s = "es" if count != 1 else ""
    return f"covhook: {count} process{s} skipped by scope (ran no measured code)"


def skipped_summary(data_dir: str) -> str | None:
    """:func:`skipped_line` for the notes in ``data_dir`` now."""
    return skipped_line(skipped_count(data_dir))
