"""Map paths measured in containers back to the host files they came from.

Inside a container, ``covhook.startup.containers`` records the container's mounts
(:mod:`covhook.mounts` owns that record's format)
(``/proc/self/mountinfo``: mount point, the mounted directory's path inside
its filesystem, and that filesystem's device number) once per container, in
``<data dir>/.covhook/mounts/<place>.json``: a name that plain ``coverage
combine`` never globs.  On the host, the same device number names the host
mount, so ``/app`` becomes the host directory that was bind-mounted there,
without anyone writing ``[paths]``.

Files of a package *installed* in the image (``…/site-packages/pkg/…``) are
mapped to the host source tree that holds the same files (``src/pkg/…`` or
``pkg/…`` under the checkout).  coverage.py applies each alias only when the
mapped file exists on the host, so a wrong guess maps nothing.

The result is an ordinary coverage ``[paths]`` setting, which
``covhook combine`` applies and ``covhook combine --print-paths`` prints for
plain ``coverage combine``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from covhook import datadir, layout, roots
from covhook import mounts as mount_records
from covhook.mounts import problem_in_record, record_path

__all__ = ["problem_in_record"]  # the old name here

CONTAINER_KINDS = frozenset({"docker", "podman", "container", "k8s"})
_PACKAGES_DIR = re.compile(r"^(?P<prefix>.*/(?:site|dist)-packages)/(?P<rest>.+)$")


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo: what is mounted where."""

    target: str  # the mount point
    root: str  # the mounted directory, as a path inside its filesystem
    device: str  # "major:minor" of that filesystem
    fstype: str


def parse_mountinfo(text: str) -> list[Mount]:
    """Every mount in a mountinfo table; malformed lines are skipped."""
    return [Mount(*row) for row in mount_records.parse_mountinfo(text)]


def source_mounts(mounts: Iterable[Mount]) -> list[Mount]:
    """The mounts that may hold source code: real filesystems, not / or /proc etc."""
    return [m for m in mounts if mount_records.may_hold_source(m.target, m.fstype)]


def _within(path: str, top: str) -> bool:
    return top in ("/", path) or path.startswith(top.rstrip("/") + "/")


def host_path(mount: Mount, host_mounts: Sequence[Mount]) -> str | None:
    """Where ``mount`` (seen in a container) is on this host, or None if unknown.

    A bind mount keeps its filesystem's device number, so the host mount of
    the same device whose root contains the mounted directory tells the host
    path.  Without one (combined on another machine), the directory's path in
    its filesystem is the best guess: right for the root filesystem (a whole
    filesystem of its own, root ``/``, has no host path).
    """
    candidates = [
        h for h in host_mounts if h.device == mount.device and _within(mount.root, h.root)
    ]
    if not candidates:
        return mount.root if mount.root != "/" and os.path.isdir(mount.root) else None
    best = max(candidates, key=lambda h: (len(h.root), -len(h.target)))
    rest = mount.root[len(best.root.rstrip("/")) :].lstrip("/")
    return os.path.normpath(os.path.join(best.target, rest))


@dataclass(frozen=True)
class Record:
    """What one container recorded about itself when its data was written."""

    place: str
    mounts: tuple[Mount, ...]
    cwd: str = ""
    data_dir: str = ""  # in the container
    found_in: str = field(default="", compare=False)  # the host data dir it was read from

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Record:
        """A record from a document :func:`covhook.mounts.problem_in_record` accepted."""
        mounts = tuple(
            Mount(m["target"], m["root"], m["device"], m["fstype"]) for m in doc.get("mounts", [])
        )
        return cls(doc["place"], mounts, doc.get("cwd", ""), doc.get("data_dir", ""))


def read_records(data_dirs: Iterable[str]) -> dict[str, Record]:
    """Every valid record in the data dirs, by place; a malformed one is named and skipped."""
    records: dict[str, Record] = {}
    for data_dir, doc in mount_records.read(data_dirs):
        record = Record.from_doc(doc)
        records[record.place] = replace(record, found_in=os.path.abspath(data_dir))
    return records


@dataclass(frozen=True, order=True)
class Alias:
    """Paths starting with ``pattern`` are really under ``result`` on this host."""

    pattern: str
    result: str


def mount_aliases(record: Record, host_mounts: Sequence[Mount]) -> list[Alias]:
    """A container's bind mounts as aliases: mount point -> host directory."""
    aliases = []
    for mount in record.mounts:
        if record.data_dir and _within(mount.target, record.data_dir):
            continue  # the data mount: no source there
        host = host_path(mount, host_mounts)
        if host and host != mount.target and os.path.isdir(host):
            aliases.append(Alias(mount.target, host))
    return aliases


def map_with(aliases: Sequence[Alias], path: str) -> str | None:
    """``path`` through the first alias that matches it (most specific first)."""
    for alias in aliases:
        if _within(path, alias.pattern):
            return alias.result + path[len(alias.pattern.rstrip("/")) :]
    return None


def package_aliases(files: Iterable[str], roots: Sequence[str]) -> list[Alias]:
    """``…/site-packages/pkg`` -> ``<root>/src/pkg`` (or ``<root>/pkg``) where the files exist.

    A top-level module (``…/site-packages/mod.py``) maps its packages
    directory to the source directory that holds it; coverage.py maps each
    file only if it exists there, so other installed modules are untouched.
    """
    found: dict[str, str] = {}
    for path in files:
        match = _PACKAGES_DIR.match(path)
        if not match:
            continue
        top = match["rest"].split("/", 1)[0]
        pattern = match["prefix"] if top.endswith(".py") else f"{match['prefix']}/{top}"
        if pattern in found:
            continue
        for root in roots:
            for base in (os.path.join(root, "src"), root):
                if os.path.isfile(os.path.join(base, match["rest"])):
                    found[pattern] = base if top.endswith(".py") else os.path.join(base, top)
                    break
            if pattern in found:
                break
    return [Alias(p, r) for p, r in found.items()]


def ordered(aliases: Iterable[Alias]) -> list[Alias]:
    """Unique aliases, longest pattern first: coverage.py uses the first that matches."""
    return sorted(set(aliases), key=lambda a: (-len(a.pattern), a.pattern, a.result))


def conflicts(aliases: Iterable[Alias]) -> dict[str, set[str]]:
    """Patterns that different containers map to different host directories."""
    results: dict[str, set[str]] = {}
    for alias in aliases:
        results.setdefault(alias.pattern, set()).add(alias.result)
    return {p: r for p, r in results.items() if len(r) > 1}


def as_paths_option(aliases: Sequence[Alias], prefix: str = "covhook") -> dict[str, list[str]]:
    """The aliases as coverage's ``[paths]`` option: one entry per alias, in order."""
    width = len(str(len(aliases)))
    return {f"{prefix}-{i:0{width}d}": [a.result, a.pattern] for i, a in enumerate(aliases, 1)}


def paths_section(aliases: Sequence[Alias]) -> str:
    """A ``[paths]`` section for .coveragerc that maps like ``covhook combine``."""
    lines = [
        "# Learned by covhook from where the data was measured (recorded mounts and roots);",
        "# paste into your .coveragerc (after any [paths] entries of your own) for plain",
        "# `coverage combine`.",
        "[paths]",
    ]
    for name, (result, pattern) in as_paths_option(aliases).items():
        lines += [f"{name} =", f"    {result}", f"    {pattern}"]
    return "\n".join(lines) + "\n"


@dataclass
class Plan:
    """How to combine a set of data files: which aliases apply to which files."""

    groups: list[tuple[list[str], list[Alias]]] = field(default_factory=list)
    places: set[str] = field(default_factory=set)  # records that the plan used

    @property
    def aliases(self) -> list[Alias]:
        """Every alias of the plan, most specific first."""
        return ordered(a for _files, aliases in self.groups for a in aliases)


def measured_files(data_file: str) -> list[str]:
    """The source files one data file measured ([] if it cannot be read)."""
    from coverage import CoverageData

    try:
        data = CoverageData(data_file)
        data.read()
        return sorted(data.measured_files())
    except Exception:
        return []


DOCKER_ARGS_RECORD = layout.DOCKER_ARGS_RECORD  # the old name here


def recorded_checkouts(data_dirs: Iterable[str]) -> list[str]:
    """The host working directories ``covhook docker-args`` recorded for these data dirs."""
    found = []
    for data_dir in data_dirs:
        path = os.path.join(layout.meta_dir(data_dir), DOCKER_ARGS_RECORD)
        if not os.path.lexists(path):
            continue
        doc = datadir.read_record(path, _problem_in_docker_args)
        cwd = doc.get("cwd") if doc is not None else None
        if isinstance(cwd, str) and os.path.isdir(cwd):
            found.append(cwd)
    return found


def _problem_in_docker_args(doc: Any) -> str | None:
    return None if isinstance(doc, dict) else f"a JSON {type(doc).__name__}, not an object"


def host_mounts(mountinfo: str = "/proc/self/mountinfo") -> list[Mount]:
    try:
        with open(mountinfo, encoding="utf-8", errors="surrogateescape") as f:
            return parse_mountinfo(f.read())
    except OSError:
        return []


def plan(
    files: Sequence[str],
    data_file: str,
    cwd: str | None = None,
    local_roots: Sequence[str] = (),
) -> Plan:
    """Learn the aliases for ``files`` (data files named ``<data_file>.<tag>…``).

    Files from one place get that place's mount record; a container-tagged
    file whose place has no record, or one tagged by an origin override
    (``origin-…``), gets the records of its directory when those agree.
    Files measured on a host get no container aliases.  When containers
    disagree (``/app`` is a different host directory in two of them) each
    place is combined with its own aliases; otherwise there is one group.
    Every group also gets the aliases from the projects' recorded roots
    (:mod:`covhook.roots`) to ``local_roots``: data from other checkouts and
    machines maps to this checkout where the same files exist.
    """
    data_dirs = sorted({os.path.dirname(os.path.abspath(f)) for f in files})
    checkouts = [Alias(r, local) for r, local in roots.aliases(roots.read(data_dirs), local_roots)]
    found = _container_plan(files, data_file, data_dirs, cwd)
    for group in found.groups:
        mounted = {a.pattern for a in group[1]}  # a container's own record knows better
        group[1][:] = ordered([*group[1], *(a for a in checkouts if a.pattern not in mounted)])
    return found


def _container_plan(
    files: Sequence[str], data_file: str, data_dirs: Sequence[str], cwd: str | None
) -> Plan:
    from covhook.origin import parse_tag

    records = read_records(data_dirs)
    if not records and not any(_container_place(f, data_file) for f in files):
        return Plan([(list(files), [])])
    here = host_mounts()
    roots_extra = [*recorded_checkouts(data_dirs), cwd or os.getcwd()]
    by_place: dict[str, list[str]] = {}
    for f in files:
        tag = layout.tag_of(f, data_file)
        parsed = parse_tag(tag) if tag else None
        by_place.setdefault(parsed.place if parsed else "", []).append(f)

    result = Plan()
    for place, place_files in by_place.items():
        record = records.get(place)
        if record is not None:
            aliases = mount_aliases(record, here)
            result.places.add(place)
        elif place.split("-", 1)[0] in (*CONTAINER_KINDS, "origin"):
            aliases = _agreed(records, place_files, here)
        else:
            result.groups.append((place_files, []))
            continue
        mapped = ordered(aliases)
        unmapped = {
            m
            for f in place_files
            for m in measured_files(f)
            if map_with(mapped, m) is None and _PACKAGES_DIR.match(m)
        }
        roots = [*(a.result for a in mapped), *roots_extra]
        aliases += package_aliases(sorted(unmapped), roots)
        result.groups.append((place_files, ordered(aliases)))
    every = [a for _files, aliases in result.groups for a in aliases]
    if not conflicts(every):
        result.groups = [([f for fs, _a in result.groups for f in fs], ordered(every))]
    return result


def _container_place(path: str, data_file: str) -> bool:

    tag = layout.tag_of(path, data_file)
    return tag is not None and tag.split("-", 1)[0] in CONTAINER_KINDS


def _agreed(records: dict[str, Record], files: Sequence[str], here: Sequence[Mount]) -> list[Alias]:
    """The aliases of the records next to these files, if those records do not conflict."""
    dirs = {os.path.dirname(os.path.abspath(f)) for f in files}
    aliases = [a for r in records.values() if r.found_in in dirs for a in mount_aliases(r, here)]
    return [] if conflicts(aliases) else aliases


def forget(files: Sequence[str], plan: Plan) -> None:
    """Remove the records of places whose data files were all combined (and deleted)."""
    dirs = {os.path.dirname(os.path.abspath(f)) for f in files}
    for data_dir in dirs:
        for place in plan.places:
            path = record_path(data_dir, place)
            leftover = any(os.path.exists(f) and f".{place}" in os.path.basename(f) for f in files)
            if not leftover:
                with contextlib.suppress(OSError):
                    os.remove(path)
