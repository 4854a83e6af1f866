"""The coverage plugin ``covhook.startup.containers``, for processes measured in a container.

``covhook docker-args`` writes the container's coverage config with this
plugin listed.  In every process that starts measuring it:

- records, once per container, the container's mounts next to the data files
  (``<data dir>/.covhook/mounts/<place>.json``, see :mod:`covhook.host.pathmap`),
  so the host can map ``/app/…`` back to its own paths when combining;
- when the process runs as root (root in a container is root on the host's
  files unless user namespaces remap it), hands the data files it leaves to
  the owner of the data directory at exit, so the host user owns them.

It never raises: a problem is one stderr line, and measurement goes on.
"""

from __future__ import annotations

import atexit
import os
import stat
from typing import Any

import coverage

from covhook import layout, origin
from covhook._warn import warn
from covhook.startup.plugin import is_starting_measurement

RECORD_VERSION = 1
# Mounts that can never hold source code.
VIRTUAL_FS = frozenset(
    {"proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2", "devtmpfs", "overlay", "securityfs"}
)
_SKIP_UNDER = ("/proc", "/sys", "/dev")
# (mount point, mounted directory inside its filesystem, "major:minor", fstype)
MountRow = tuple[str, str, str, str]


def coverage_init(reg: Any, options: dict[str, Any]) -> None:
    """coverage.py's plugin entry point."""
    reg.add_configurer(ContainerRecorder(options))


class ContainerRecorder(coverage.CoveragePlugin):
    """Record the container's mounts; give root-written files to the data dir's owner."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        self.registered = False

    def configure(self, config: Any) -> None:
        try:
            if not is_starting_measurement(config):
                return
            data_file = os.path.abspath(str(config.get_option("run:data_file")))
            # covhook's tagger runs after us (plugins configure in order), so
            # this is still the configured name: <data dir>/<base>.
            data_dir, base = os.path.split(data_file)
            base = layout.split_tagged_path(base)[0]
            record(data_dir)
            if os.geteuid() == 0 and not self.registered:
                self.registered = True
                # atexit runs last-registered first: coverage registers its
                # save after configurers run, so this runs after the save.
                atexit.register(give_to_owner, data_dir, base)
        except Exception as exc:
            warn(
                f"could not record this container's mounts ({exc!r}); "
                "its paths are not mapped to the host automatically",
                "check that the data directory is writable, or add [paths] by hand",
            )


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


def give_to_owner(data_dir: str, base: str) -> None:
    """chown what root left in ``data_dir`` (data files, covhook's files) to the dir's owner.

    That is every ``<base>.*`` entry and every ``.covhook*`` entry (records,
    the periodic flush's working directory and temporary files), recursively.
    """
    try:
        owner = os.stat(data_dir)
        if owner.st_uid == 0:
            return
        tops = [
            os.path.join(data_dir, n)
            for n in os.listdir(data_dir)
            if n.startswith((f"{base}.", layout.META_DIR))
        ]
        for top in tops:
            for path in _tree(top):
                try:
                    st = os.lstat(path)
                    if st.st_uid == 0 and (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                        os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)
                except FileNotFoundError:  # combined or replaced meanwhile
                    continue
    except OSError as exc:
        warn(
            f"could not give the coverage data in {data_dir} to its owner ({exc})",
            "the files stay owned by root; delete them as root or run the container with --user",
        )


def _tree(top: str) -> list[str]:
    """``top`` and, for a real directory, everything below it (symlinks not followed)."""
    if os.path.islink(top) or not os.path.isdir(top):
        return [top]
    found = [top]
    for root, dirs, files in os.walk(top):
        found += [os.path.join(root, n) for n in (*dirs, *files)]
    return found
