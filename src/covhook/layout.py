"""Every name covhook gives a file in a data directory, and how to read the names back.

A data directory (where ``[run] data_file`` points) holds, beside coverage's
combined ``<data_file>``:

- ``<data_file>.<tag>.<host>.pid<N>.X<6>x[.H<10>h]``: one process's data.  The
  tag (:mod:`covhook.origin`) is covhook's; the rest is coverage's own parallel
  suffix (``_compat.DATA_SUFFIX_RE``).
- ``.covhook-work/`` (``.covhook-work.<uid>`` when another user owns that one):
  working copies, published by rename (:mod:`covhook.datadir`,
  :mod:`covhook.startup.flush`); what dead processes left there is recovered by
  :mod:`covhook.host.leftovers`.
- ``.covhook-tmp-<pid>-<random>``: a publish in progress.
- ``.covhook-unmeasured.<pid>.json``: children that ran without coverage;
  ``.covhook-skipped``: processes the scope rules skipped (both
  :mod:`covhook.notes`).
- ``.covhook/``: records: ``roots-<crc>.json`` (:mod:`covhook.roots`),
  ``mounts/<place>.json`` (:mod:`covhook.mounts`), and ``docker-args.json``
  (where ``covhook docker-args`` ran, :mod:`covhook.commands.docker_args`).
- ``.covhook-combine.lock``: held by the one combine at work there
  (:mod:`covhook.host.combinelock`); ``.covhook-combining.<pid>-<random>.tmp``:
  a combine in progress;
  ``.covhook-fold.<pid>-<random>.tmp``: children's data being folded into a
  running pytest's coverage (:mod:`covhook.host.fold`).

Measured processes import this module: it imports nothing but ``os`` at load.
"""

from __future__ import annotations

import os

WORK_DIR = ".covhook-work"
TMP_PREFIX = ".covhook-tmp-"
NOTE_PREFIX = ".covhook-unmeasured."
SKIPPED_NOTE = ".covhook-skipped"
META_DIR = ".covhook"
MOUNTS_DIR = "mounts"
ROOTS_PREFIX = "roots-"
COMBINING_PREFIX = ".covhook-combining."
COMBINE_LOCK = ".covhook-combine.lock"
FOLD_PREFIX = ".covhook-fold."
DOCKER_ARGS_RECORD = "docker-args.json"  # in META_DIR: where docker-args ran


def is_work_dir_name(name: str) -> bool:
    """``.covhook-work`` or a per-user ``.covhook-work.<uid>``."""
    return name == WORK_DIR or name.startswith(WORK_DIR + ".")


def work_dir_candidates(data_dir: str) -> list[str]:
    """Work directories to try: the shared name, then one per user id."""
    shared = os.path.join(data_dir, WORK_DIR)
    return [shared, f"{shared}.{os.geteuid()}"]


def meta_dir(data_dir: str) -> str:
    """covhook's records directory beside the data files."""
    return os.path.join(data_dir, META_DIR)


def mounts_dir(data_dir: str) -> str:
    """Where containers record their mounts."""
    return os.path.join(data_dir, META_DIR, MOUNTS_DIR)


def note_path(data_dir: str, pid: int) -> str:
    """The unmeasured-children note of process ``pid``."""
    return os.path.join(data_dir, f"{NOTE_PREFIX}{pid}.json")


def skipped_note(data_dir: str) -> str:
    """The one file every skipped process appends a line to."""
    return os.path.join(data_dir, SKIPPED_NOTE)


def combining_path(directory: str) -> str:
    """This process's temporary output while it combines.

    Unpredictable (pid, then random): SQLite creates it through whatever is
    there, and another user of a shared data dir must not plant a link at
    its name beforehand (issue 23).
    """
    return os.path.join(directory, f"{COMBINING_PREFIX}{os.getpid()}-{os.urandom(6).hex()}.tmp")


def fold_path(directory: str) -> str:
    """This process's temporary file while it folds children's data into its own (random too)."""
    return os.path.join(directory, f"{FOLD_PREFIX}{os.getpid()}-{os.urandom(6).hex()}.tmp")


def parallel_files(data_file: str, paths: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """The parallel data files ``coverage combine`` would pick up (same glob).

    ``paths`` are files (taken as they are) or directories (searched for
    ``<basename of data_file>.*``); none means the data file's own directory.
    """
    import glob

    data_dir, local = os.path.split(os.path.abspath(data_file))
    found: list[str] = []
    for p in list(paths or ()) or [data_dir]:
        if os.path.isfile(p):
            found.append(os.path.abspath(p))
        elif os.path.isdir(p):
            found.extend(glob.glob(glob.escape(os.path.join(os.path.abspath(p), local)) + ".*"))
    return sorted(f for f in found if not f.endswith("-journal"))


def tag_of(path: str, data_file: str) -> str | None:
    """The origin tag in a parallel data file's name (of ``data_file``), or None.

    The tag is the first name component after the data file's (tags hold no
    dots); what follows must be coverage's own suffix, whose host may hold dots.
    """
    from covhook._compat import DATA_SUFFIX_RE
    from covhook.origin import is_tag

    name = os.path.basename(path)
    local = os.path.basename(data_file) + "."
    if not name.startswith(local):
        return None
    tag, dot, suffix = name[len(local) :].partition(".")
    if not dot or not is_tag(tag) or not DATA_SUFFIX_RE.fullmatch("." + suffix):
        return None
    return tag


def pid_of(path: str) -> int | None:
    """The pid coverage put in a parallel data file's (or working copy's) name.

    It stands before the random ``X<6>x`` part: ``pid<N>``, or just ``<N>``
    (coverage before 7.11).
    """
    parts = os.path.basename(path).split(".")
    for i in range(len(parts) - 1, 0, -1):
        part = parts[i]
        if len(part) == 8 and part[0] == "X" and part[-1] == "x":
            pid = parts[i - 1].removeprefix("pid")
            return int(pid) if pid.isdigit() else None
    return None


def split_tagged_path(path: str) -> tuple[str, str | None]:
    """Split ``<base>.<tag>`` into base and tag; an untagged path gives ``(path, None)``."""
    from covhook.origin import is_tag

    base, dot, last = path.rpartition(".")
    if dot and os.sep not in last and "/" not in last and is_tag(last):
        return base, last
    return path, None
