"""The mounts record a container leaves beside its data: its format, written and read here.

``<data dir>/.covhook/mounts/<place>.json`` (:func:`covhook.layout.mounts_dir`),
one per container: the container's mounts as ``/proc/self/mountinfo`` shows
them (mount point, the mounted directory's path inside its filesystem, that
filesystem's device number and type), its cwd and data directory.  Written
once per container by :mod:`covhook.startup.containers` (in every measured
process there, so :func:`record` stays cheap); read by
:mod:`covhook.host.pathmap`, which maps the container's paths to the host's.
"""

from __future__ import annotations

import os

from covhook import layout, origin

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

RECORD_VERSION = 1
# Mounts that can never hold source code.
VIRTUAL_FS = frozenset(
    {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "devtmpfs", "overlay", "securityfs"}
)
_SKIP_UNDER = ("/proc", "/sys", "/dev")
# (mount point, mounted directory inside its filesystem, "major:minor", fstype)
MountRow = tuple[str, str, str, str]


def record_path(data_dir: str, place: str) -> str:
    """This container's mounts record, next to its data files."""
    return os.path.join(layout.mounts_dir(data_dir), f"{place}.json")


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo.
    if "\\" not in field:
        return field
    import re

    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def parse_mountinfo(text: str) -> list[MountRow]:
    """Every mount in a mountinfo table; malformed lines are skipped."""
    rows = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if sep and len(fields) >= 5 and tail:
            rows.append((_unescape(fields[4]), _unescape(fields[3]), fields[2], tail[0]))
    return rows


def may_hold_source(target: str, fstype: str) -> bool:
    """A real filesystem mounted somewhere other than /, /proc, /sys or /dev."""
    return (
        fstype not in VIRTUAL_FS
        and target != "/"
        and not any(target == s or target.startswith(s + "/") for s in _SKIP_UNDER)
    )


def record(data_dir: str, mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """Write this container's mount record once; return its path (None if it existed).

    Runs at start-up of every measured process in the container, so it stays
    cheap: one stat when the record exists, no dataclasses, no extra imports.
    """
    place = origin.detect_place(os.environ)
    path = record_path(data_dir, place)
    if os.path.exists(path):
        return None
    import json

    with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
        rows = parse_mountinfo(f.read())
    mounts = [
        {"target": t, "root": r, "device": d, "fstype": fs}
        for t, r, d, fs in rows
        if may_hold_source(t, fs) and os.path.isdir(t)
    ]
    doc = {
        "version": RECORD_VERSION,
        "place": place,
        "cwd": os.getcwd(),
        "data_dir": data_dir,
        "mounts": mounts,
    }
    from covhook import datadir

    # Issue 23: only in .covhook/mounts/ dirs that are safe to write (never another
    # user's, never a symlink); a new temp file, then a rename: readers see all or nothing.
    blob = json.dumps(doc, indent=1, sort_keys=True).encode("utf-8")
    parts = (layout.META_DIR, layout.MOUNTS_DIR)
    return datadir.write_record(data_dir, parts, os.path.basename(path), blob)


_MOUNT_KEYS = ("target", "root", "device", "fstype")


def problem_in_record(doc: Any) -> str | None:
    """What makes ``doc`` no mounts record (:mod:`covhook.startup.containers`), or None."""
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}, not an object"
    if not isinstance(doc.get("place"), str):
        return "'place' is not a string"
    for key in ("cwd", "data_dir"):
        if not isinstance(doc.get(key, ""), str):
            return f"{key!r} is not a string"
    mounts = doc.get("mounts", [])
    if not isinstance(mounts, list) or not all(
        isinstance(m, dict) and all(isinstance(m.get(k), str) for k in _MOUNT_KEYS) for m in mounts
    ):
        return "'mounts' is not a list of mounts (target, root, device, fstype)"
    return None


def read(data_dirs: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(data dir, record) for every valid record in the data dirs; a malformed one is named
    and skipped (:func:`covhook.datadir.read_record`)."""
    from covhook import datadir

    for data_dir in data_dirs:
        directory = layout.mounts_dir(data_dir)
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
        except OSError:
            continue
        for name in names:
            doc = datadir.read_record(os.path.join(directory, name), problem_in_record)
            if doc is not None:
                yield data_dir, doc
