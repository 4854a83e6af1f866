"""Where a process runs: the origin tag covhook puts in data file names and contexts.

A tag is ``<place>[_<role>...]``: the place is the machine or container
(``host-build7``, ``docker-3f2a9c81d0e4``, ``podman-…``, ``k8s-<pod>``,
``container-…``, or ``origin-<value>`` from ``COVHOOK_ORIGIN``), each role
is a launcher's identity for the process (``torch-n0-r3of4-a0``,
``mpi-r1of4``, ``slurm-j77-t3of8``, ``dist-r1of2``, ``xdist-gw0``).

Detection reads environment variables and at most three small files under
/proc and /run, never runs a subprocess and never imports the launcher: it
runs in every measured process.  Docker is recognised by combined signals
(``/.dockerenv`` alone is not enough: some VMs have one).
"""

from __future__ import annotations

import os

# No dataclasses, pathlib, socket, typing or re here: every measured process
# imports this module and detects its place, and those cost it milliseconds
# (issues 9 and 21).  The patterns below are matched by hand;
# tests/test_origin.py compares each with its regular expression.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Callable, Mapping

    StrPath = str | os.PathLike[str]

PLACE_KINDS = ("host", "docker", "podman", "k8s", "container", "origin")
ROLE_KINDS = ("torch", "dist", "mpi", "slurm", "xdist", "split")

_WORD = r"[A-Za-z0-9][A-Za-z0-9-]*"
TAG_PATTERN = (
    rf"^(?P<place>(?:{'|'.join(PLACE_KINDS)})-{_WORD})"
    rf"(?P<roles>(?:_(?:{'|'.join(ROLE_KINDS)})-{_WORD})*)$"
)
# Our own cgroup names the container (cgroup v1, or v2 seen from the host's namespace) ...
CGROUP_ID_PATTERN = r"(?:docker[-/]|libpod-|cri-containerd-|crio-)([0-9a-f]{64})"
_CGROUP_PREFIXES = ("docker-", "docker/", "libpod-", "cri-containerd-", "crio-")
# ... and on cgroup v2 the engine's bind mount of /etc/hostname does.  Only that
# mount point counts: a host's table lists every running container's shm mounts.
MOUNT_ID_PATTERN = r"/containers/([0-9a-f]{64})/hostname /etc/hostname "
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_HEX = frozenset("0123456789abcdef")
_tag_re: re.Pattern[str] | None = None


def tag_re() -> re.Pattern[str]:
    """:data:`TAG_PATTERN` compiled (once, when first asked: ``re`` costs a start 1 ms)."""
    global _tag_re
    if _tag_re is None:
        import re

        _tag_re = re.compile(TAG_PATTERN)
    return _tag_re


def is_tag(text: str) -> bool:
    """``text`` is an origin tag (``host-build7_torch-n0-r1of2-a0``): :data:`TAG_PATTERN`."""
    if text.endswith("\n"):  # ``$`` matches before a final newline
        text = text[:-1]
    first, *roles = text.split("_")
    return _is_part(first, PLACE_KINDS) and all(_is_part(role, ROLE_KINDS) for role in roles)


def _is_part(part: str, kinds: tuple[str, ...]) -> bool:
    kind, dash, word = part.partition("-")
    return (
        bool(dash and word)
        and kind in kinds
        and word[0] in _ALNUM
        and all(char in _ALNUM or char == "-" for char in word)
    )


class Origin:
    """A process's place plus the launcher roles it plays there (immutable, compared by value)."""

    __slots__ = ("place", "roles")
    place: str
    roles: tuple[str, ...]

    def __init__(self, place: str, roles: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "place", place)
        object.__setattr__(self, "roles", tuple(roles))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.place, self.roles) == (other.place, other.roles)

    def __hash__(self) -> int:
        return hash((self.place, self.roles))

    def __repr__(self) -> str:
        return f"Origin(place={self.place!r}, roles={self.roles!r})"

    @property
    def tag(self) -> str:
        """The name component and static context for this origin."""
        return "_".join((self.place, *self.roles))

    @property
    def kind(self) -> str:
        """``host``, ``docker``, ... : what kind of place the process ran in."""
        return self.place.split("-", 1)[0]


def sanitize(value: str, limit: int = 40) -> str:
    """Reduce ``value`` to letters, digits and inner dashes, as a tag needs."""
    # re.sub(r"[^A-Za-z0-9]+", "-", value), by hand
    kept: list[str] = []
    for char in value:
        if char in _ALNUM:
            kept.append(char)
        elif not kept or kept[-1] != "-":
            kept.append("-")
    cleaned = "".join(kept).strip("-")[:limit].strip("-")
    return cleaned or "unknown"


def parse_tag(tag: str) -> Origin | None:
    """Split a tag back into an :class:`Origin`, or None if it is not one."""
    match = tag_re().match(tag)
    if match is None:
        return None
    roles = tuple(r for r in match["roles"].split("_") if r)
    return Origin(match["place"], roles)


def _read(path: StrPath, limit: int = 65536) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return ""


def detect_place(environ: Mapping[str, str], root: StrPath = "/") -> str:
    """Name the machine or container this process runs in."""
    override = environ.get("COVHOOK_ORIGIN")
    if override:
        return f"origin-{sanitize(override)}"
    hostname = _hostname()

    containerenv = os.path.join(root, "run/.containerenv")
    if environ.get("container") == "podman" or os.path.exists(containerenv):
        import re

        text = _read(containerenv)
        found = re.search(r'^id="([0-9a-f]{12,})"', text, re.M)
        cid = found[1] if found else _container_id(root)
        return f"podman-{(cid or sanitize(hostname))[:12]}"

    if environ.get("KUBERNETES_SERVICE_HOST"):
        return f"k8s-{sanitize(environ.get('HOSTNAME') or hostname)}"

    cid = _container_id(root)
    dockerenv = os.path.exists(os.path.join(root, ".dockerenv"))
    # Docker: /.dockerenv plus a container id in cgroup or mountinfo.  An id
    # without /.dockerenv is some other engine (containerd, CRI-O, ...).
    if cid and dockerenv:
        return f"docker-{cid[:12]}"
    if cid or environ.get("container"):
        return f"container-{(cid or sanitize(hostname))[:12]}"
    return f"host-{sanitize(hostname)}"


def _hostname() -> str:
    """``socket.gethostname()``, without importing socket where ``os.uname`` says the same."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _container_id(root: StrPath) -> str | None:
    """The 64-hex id a container engine left in our cgroup or mount table."""
    return cgroup_id(_read(os.path.join(root, "proc/self/cgroup"), 1 << 20)) or mount_id(
        _read(os.path.join(root, "proc/self/mountinfo"), 1 << 20)
    )


def _hex64_at(text: str, start: int) -> str | None:
    found = text[start : start + 64]
    return found if len(found) == 64 and _HEX.issuperset(found) else None


def cgroup_id(text: str) -> str | None:
    """The first match of :data:`CGROUP_ID_PATTERN` in ``text`` (its group), as ``re.search``."""
    starts = sorted(
        (at, len(prefix)) for prefix in _CGROUP_PREFIXES for at in _find_all(text, prefix)
    )
    for at, width in starts:
        found = _hex64_at(text, at + width)
        if found:
            return found
    return None


def mount_id(text: str) -> str | None:
    """The first match of :data:`MOUNT_ID_PATTERN` in ``text`` (its group), as ``re.search``."""
    for at in _find_all(text, "/containers/"):
        found = _hex64_at(text, at + 12)
        if found and text.startswith("/hostname /etc/hostname ", at + 76):
            return found
    return None


def _find_all(text: str, part: str) -> list[int]:
    found = []
    at = text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def _ints(environ: Mapping[str, str], *names: str) -> list[int] | None:
    try:
        return [int(environ[name]) for name in names]
    except (KeyError, ValueError):
        return None


def _torch(env: Mapping[str, str]) -> str | None:
    if "TORCHELASTIC_RUN_ID" not in env:
        return None
    nums = _ints(env, "GROUP_RANK", "RANK", "WORLD_SIZE")
    if nums is None:
        return None
    restart = _ints(env, "TORCHELASTIC_RESTART_COUNT") or [0]
    return f"torch-n{nums[0]}-r{nums[1]}of{nums[2]}-a{restart[0]}"


def _dist(env: Mapping[str, str]) -> str | None:
    # torch.distributed's env:// convention, used by launchers other than torchrun.
    if "TORCHELASTIC_RUN_ID" in env:
        return None
    nums = _ints(env, "RANK", "WORLD_SIZE")
    return f"dist-r{nums[0]}of{nums[1]}" if nums else None


def _mpi(env: Mapping[str, str]) -> str | None:
    for rank_var, size_var in (
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMI_RANK", "PMI_SIZE"),
        ("PMIX_RANK", "OMPI_COMM_WORLD_SIZE"),
    ):
        rank = _ints(env, rank_var)
        if rank is not None:
            size = _ints(env, size_var)
            return f"mpi-r{rank[0]}" + (f"of{size[0]}" if size else "")
    return None


def _slurm(env: Mapping[str, str]) -> str | None:
    proc = _ints(env, "SLURM_PROCID")
    if proc is None:
        return None
    job = sanitize(env.get("SLURM_JOB_ID", "")) if env.get("SLURM_JOB_ID") else None
    ntasks = _ints(env, "SLURM_NTASKS")
    return (
        "slurm-"
        + (f"j{job}-" if job else "")
        + f"t{proc[0]}"
        + (f"of{ntasks[0]}" if ntasks else "")
    )


def _xdist(env: Mapping[str, str]) -> str | None:
    worker = env.get("PYTEST_XDIST_WORKER")
    return f"xdist-{sanitize(worker)}" if worker else None


def _split(env: Mapping[str, str]) -> str | None:
    nums = _ints(env, "COVHOOK_SPLIT", "COVHOOK_SPLITS")
    return f"split-{nums[0]}of{nums[1]}" if nums else None


ROLE_DETECTORS: tuple[Callable[[Mapping[str, str]], str | None], ...] = (
    _torch,
    _dist,
    _mpi,
    _slurm,
    _xdist,
    _split,
)


def detect_roles(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Every launcher identity the environment shows, in a fixed order."""
    return tuple(role for detector in ROLE_DETECTORS if (role := detector(environ)))


def detect(environ: Mapping[str, str] | None = None, root: StrPath = "/") -> Origin:
    """The origin of the current process."""
    env = os.environ if environ is None else environ
    return Origin(detect_place(env, root), detect_roles(env))
