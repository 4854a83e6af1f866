"""Record where a measuring process's project lives, for combining on another machine.

Each measuring process knows its project's roots: the directory of its
coverage config, its ``[run] source`` directories and its working directory.
CI runners, nodes of a multi-node job and developers' machines put the same
project at different paths; combining their data in one checkout needs to
know which prefix was the project on each.  So the first process with a given
set of roots writes ``<data dir>/.covhook/roots-<crc32>.json`` (beside the
containers' mount records; a name ``coverage combine`` never globs; directly
in ``.covhook/``, which ``covhook docker-args`` makes the host user's, so a
record written by root in a container stays deletable); every later one pays
a single ``stat``.  :mod:`covhook.host.pathmap` turns the records
into ``[paths]`` aliases when combining.
"""

from __future__ import annotations

import os
import zlib

from covhook import layout

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (issue 9: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

RECORD_VERSION = 1


def config_dir(config: Any) -> str:
    """The directory of the coverage config this process read, or ""."""
    path = os.environ.get("COVERAGE_PROCESS_START") or getattr(config, "config_file", None)
    inner = getattr(config, "config", None)  # a Coverage object instead of its config
    if not path and inner is not None:
        path = getattr(inner, "config_file", None)
    return os.path.dirname(os.path.abspath(path)) if isinstance(path, str) and path else ""


def source_dirs(config: Any) -> list[str]:
    """``[run] source`` entries that are directories (not module names)."""
    found = []
    for option in ("run:source", "run:source_dirs"):
        try:
            values = config.get_option(option) or []
        except Exception:  # an older coverage without the option
            continue
        found += [os.path.abspath(v) for v in values if isinstance(v, str) and os.path.isdir(v)]
    return found


def record(data_dir: str, config: Any) -> str | None:
    """Write this project's roots once per data dir; return the path (None if it existed)."""
    cwd = os.getcwd()
    conf = config_dir(config)
    sources = source_dirs(config)
    key = "\0".join([os.uname().nodename, cwd, conf, *sources])
    path = os.path.join(
        layout.meta_dir(data_dir), f"{layout.ROOTS_PREFIX}{zlib.crc32(key.encode()):08x}.json"
    )
    if os.path.exists(path):
        return None
    import json

    doc = {
        "version": RECORD_VERSION,
        "host": os.uname().nodename,
        "cwd": cwd,
        "config_dir": conf,
        "sources": sources,
    }
    from covhook import datadir

    # Issue 23: a .covhook/ another user made (or a symlink in its place) is refused,
    # the file goes in by a new temp file and a rename, the dirs are 0755 under any umask.
    blob = json.dumps(doc, indent=1, sort_keys=True).encode("utf-8")
    return datadir.write_record(data_dir, (layout.META_DIR,), os.path.basename(path), blob)


def read(data_dirs: Sequence[str]) -> list[dict[str, Any]]:
    """Every valid roots record in these data dirs; a malformed one is named and skipped."""
    from covhook import datadir

    found = []
    for data_dir in data_dirs:
        directory = layout.meta_dir(data_dir)
        try:
            names = sorted(
                n
                for n in os.listdir(directory)
                if n.startswith(layout.ROOTS_PREFIX) and n.endswith(".json")
            )
        except OSError:
            continue
        for name in names:
            doc = datadir.read_record(os.path.join(directory, name), problem_in_roots)
            if doc is not None:
                found.append(doc)
    return found


def problem_in_roots(doc: Any) -> str | None:
    """What makes ``doc`` no roots record, or None."""
    if not isinstance(doc, dict):
        return f"a JSON {type(doc).__name__}, not an object"
    for key in ("host", "cwd", "config_dir"):
        if not isinstance(doc.get(key, ""), str):
            return f"{key!r} is not a string"
    sources = doc.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        return "'sources' is not a list of strings"
    return None


def recorded_roots(doc: dict[str, Any]) -> list[str]:
    """The directories one record (checked by :func:`problem_in_roots`) names as roots."""
    values = [doc.get("config_dir"), doc.get("cwd"), *(doc.get("sources") or [])]
    return [v for v in values if isinstance(v, str) and os.path.isabs(v) and v != "/"]


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def aliases(records: Sequence[dict[str, Any]], local_roots: Sequence[str]) -> list[tuple[str, str]]:
    """(recorded root, local directory) pairs: paths under the first may be under the second.

    The outermost recorded roots of a record (usually its config's
    directory) map to each local root; a root inside another (``src/``, a
    working directory below the config) keeps its place below it, so
    ``/ci/proj/src`` maps to ``<local>/src``, never to ``<local>``.  A recorded
    root that contains a local root, or lies inside one, is this checkout (or
    a directory around it) and is left alone.  coverage.py applies an alias
    only to files that exist under the result.
    """
    pairs = []
    for doc in records:
        found = recorded_roots(doc)
        for root in found:
            if any(_inside(root, local) or _inside(local, root) for local in local_roots):
                continue
            top = min((r for r in found if _inside(root, r)), key=len)
            rest = os.path.relpath(root, top)
            pairs += [(root, os.path.normpath(os.path.join(local, rest))) for local in local_roots]
    return sorted(set(pairs))


def forget(data_dir: str) -> None:
    """Remove the records once no data file is left to need them."""
    import contextlib

    directory = layout.meta_dir(data_dir)
    with contextlib.suppress(OSError):
        for name in os.listdir(directory):
            if name.startswith(layout.ROOTS_PREFIX) and name.endswith(".json"):
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(directory, name))
