"""``covhook docker-args``: the ``docker run`` / ``podman run`` flags that measure a container.

It prepares a host data directory and prints the flags that mount it into the
container and point the image's covhook (installed with ``pip install
covhook``) at a coverage config written there::

    docker run $(covhook docker-args --data-dir covdata) -v "$PWD":/app IMAGE CMD

Ownership without ``chmod 777``: the directory stays the host user's and
becomes group-writable (setgid, so files keep its group); ``--group-add
<its gid>`` lets a container running as any ``--user`` write there; a
container running as root hands its files back to the directory's owner at
exit (``covhook.containers``).  Nothing is ever world-writable.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import stat
from pathlib import Path
from typing import NamedTuple

import coverage

from covhook import datadir, layout, settings
from covhook.commands import Typed
from covhook.errors import CovhookError
from covhook.host.rcfile import find_rcfile

MOUNT_POINT = "/covhook-data"
RC_NAME = "coveragerc"
RECORDER = "covhook.containers"  # public name: a shim for covhook.startup.containers
# [run] settings that change what a process measures, carried into the container.
CARRIED = (
    "branch",
    "source",
    "source_pkgs",
    "source_dirs",
    "include",
    "omit",
    "concurrency",
    "context",
    "dynamic_context",
    "cover_pylib",
    "timid",
    "relative_files",
    "patch",
    "disable_warnings",
    "debug",
)
DIR_MODE = 0o2775  # rwxrwsr-x: owner and group write, setgid, others only read


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "docker-args", help="print docker/podman run flags that measure the container"
    )
    parser.add_argument(
        "--data-dir", default="covdata", help="host directory for the data (default: covdata)"
    )
    parser.add_argument("--rcfile", help="your coverage config (default: coverage's search)")
    parser.add_argument(
        "--mount-point", default=MOUNT_POINT, help=f"where it is mounted (default: {MOUNT_POINT})"
    )
    parser.add_argument(
        "--flush",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="save data every SECONDS in long-lived processes (0: only at exit; default 10)",
    )
    parser.add_argument(
        "--as-owner",
        action="store_true",
        help="also print --user <uid>:<gid> of the data directory's owner",
    )
    parser.add_argument(
        "--format",
        choices=("shell", "lines", "json"),
        default="shell",
        help="shell: one line for $(...); lines: one flag per line; json: a list",
    )
    parser.set_defaults(func=Typed(Args, run))


class Args(NamedTuple):
    """``covhook docker-args``' command line."""

    data_dir: str
    rcfile: str | None
    mount_point: str
    flush: float
    as_owner: bool
    format: str


def run(args: Args) -> int:
    flags = prepare(
        Path(args.data_dir),
        rcfile=find_rcfile(args.rcfile),
        mount_point=args.mount_point,
        flush=args.flush,
        as_owner=args.as_owner,
    )
    if args.format == "json":
        print(json.dumps(flags))
    elif args.format == "lines":
        print("\n".join(flags))
    else:
        print(shlex.join(flags))
    return 0


def prepare(
    data_dir: Path,
    rcfile: Path | None = None,
    mount_point: str = MOUNT_POINT,
    flush: float = 10.0,
    as_owner: bool = False,
) -> list[str]:
    """Set up ``data_dir`` and return the flags for ``docker run``."""
    if not mount_point.startswith("/") or ":" in mount_point:
        raise CovhookError(
            f"--mount-point {mount_point!r} is not an absolute container path",
            "pass one like /covhook-data",
        )
    data_dir = data_dir.resolve()
    if ":" in str(data_dir) or "," in str(data_dir):
        raise CovhookError(
            f"docker -v cannot mount {data_dir} (it contains ':' or ',')",
            "use a --data-dir without those characters",
        )
    make_dir(data_dir, owner=None)
    owner = data_dir.stat()
    meta = data_dir / layout.META_DIR
    make_dir(meta, owner)
    make_dir(meta / layout.MOUNTS_DIR, owner)
    # The work dir for atomic saves, made here so that it is the owner's and
    # group-writable: the owner can delete what a SIGKILLed container's root
    # or --user left in it (covhook.datadir accepts it for that group only).
    make_dir(data_dir / layout.WORK_DIR, owner)
    write_file(meta / RC_NAME, container_rc(rcfile, mount_point), owner)
    write_file(
        meta / layout.DOCKER_ARGS_RECORD,
        json.dumps({"cwd": os.getcwd(), "data_dir": str(data_dir), "mount_point": mount_point})
        + "\n",
        owner,
    )
    container_rc_path = f"{mount_point.rstrip('/')}/{layout.META_DIR}/{RC_NAME}"
    flags = ["-v", f"{data_dir}:{mount_point}", "-e", f"COVERAGE_PROCESS_START={container_rc_path}"]
    if flush > 0:
        flags += ["-e", f"{settings.BY_NAME['flush_seconds'].env}={flush:g}"]
    # No value: docker/podman pass the client's own COVHOOK_TEST when it is set
    # (the running test, with per-test contexts on: issue 22), else nothing.
    flags += ["-e", str(settings.BY_NAME["test"].env)]
    if owner.st_gid != 0:
        flags += ["--group-add", str(owner.st_gid)]
    if as_owner:
        flags += ["--user", f"{owner.st_uid}:{owner.st_gid}"]
    return flags


def make_dir(path: Path, owner: os.stat_result | None) -> None:
    """Create ``path`` (group-writable, setgid, not world-writable); never loosen 'others'.

    A directory made by an earlier run keeps the group it had then; after
    ``chgrp`` of the data dir (docs/containers.md) it gets the new group too,
    or docker-args refuses: a container user could not write there.
    """
    if not path.is_dir():
        datadir.make_dirs(str(path))  # 0755 under any umask (issue 23), then the mode below
        if owner is not None and os.geteuid() == 0:
            os.chown(path, owner.st_uid, owner.st_gid)
    elif owner is not None and path.stat().st_gid != owner.st_gid:
        try:
            os.chown(path, owner.st_uid if os.geteuid() == 0 else -1, owner.st_gid)
        except PermissionError as exc:
            raise CovhookError(
                f"{path} has group {path.stat().st_gid}, not the data dir's group "
                f"{owner.st_gid} ({exc.strerror}): a container user could not write there",
                f"run 'chgrp -R {owner.st_gid} {path.parent}' as its owner, then docker-args again",
            ) from exc
    mode = stat.S_IMODE(path.stat().st_mode)
    wanted = (mode | DIR_MODE) & ~stat.S_IWOTH
    if mode != wanted:
        try:
            path.chmod(wanted)
        except PermissionError as exc:
            raise CovhookError(
                f"cannot make {path} group-writable ({exc.strerror})",
                f"run covhook docker-args as the owner of {path}, or choose another --data-dir",
            ) from exc


def write_file(path: Path, text: str, owner: os.stat_result) -> None:
    """Write a small file readable by the container's user, owned like the data dir.

    A new temp file (unpredictable name), then a rename: the directory is
    group-writable, so a container user could plant a link at a name (issue 23).
    """
    ids = (owner.st_uid, owner.st_gid) if os.geteuid() == 0 else None
    datadir.put(str(path), text.encode("utf-8"), ids, 0o644)


def container_rc(rcfile: Path | None, mount_point: str) -> str:
    """The container's coverage config: the user's measuring settings, data in the mount."""
    user = coverage.Coverage(config_file=str(rcfile) if rcfile else False)
    default = coverage.Coverage(config_file=False)
    data_name = os.path.basename(str(user.get_option("run:data_file")))
    lines = [
        f"# Written by covhook docker-args from {rcfile or 'coverage defaults'}; do not edit.",
        "[run]",
        "parallel = True",
        f"data_file = {mount_point.rstrip('/')}/{data_name}",
        # Saves on SIGTERM (docker stop), also for a Python that is PID 1.
        "sigterm = True",
    ]
    for name in CARRIED:
        try:
            value = user.get_option(f"run:{name}")
        except Exception:  # an option this coverage does not have
            continue
        if value != default.get_option(f"run:{name}"):
            lines.append(f"{name} ={ini_value(value)}")
    plugins = [str(p) for p in user.get_option("run:plugins") or []]  # type: ignore[union-attr]
    lines.append(f"plugins ={ini_value([*plugins, RECORDER])}")
    return "\n".join(lines) + "\n"


def ini_value(value: object) -> str:
    """A coverage config value as .coveragerc text, after ``name =``."""
    if isinstance(value, list | tuple):
        return "".join(f"\n    {v}" for v in value)
    return f" {value}"
