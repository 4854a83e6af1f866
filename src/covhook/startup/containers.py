"""The coverage plugin ``covhook.startup.containers``, for processes measured in a container.

``covhook docker-args`` writes the container's coverage config with this
plugin listed.  In every process that starts measuring it:

- records, once per container, the container's mounts next to the data files
  (``<data dir>/.covhook/mounts/<place>.json``, :mod:`covhook.mounts`),
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

from covhook import layout
from covhook._warn import warn
from covhook.mounts import record, record_path  # the old names here (covhook.mounts owns them)
from covhook.startup.plugin import is_starting_measurement

__all__ = ["ContainerRecorder", "coverage_init", "record", "record_path"]


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
