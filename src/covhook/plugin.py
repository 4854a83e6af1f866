"""The coverage.py configurer that tags a measuring process with its origin.

It renames the data file ``<data_file>`` to ``<data_file>.<tag>`` (coverage.py
then appends its own ``.<host>.pid<N>.X…x[.H…h]`` suffix) and sets the static
context to the tag unless the user set one.  Plain ``coverage combine`` finds
the files (it globs ``<data_file>.*``) with or without covhook installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import coverage

from covhook import origin, roots
from covhook._warn import warn


def is_starting_measurement() -> bool:
    """True when coverage calls us from ``Coverage.start()``.

    A configurer runs for every Coverage object, including those that only
    combine or report; renaming the data file there would make them look for
    ``<data_file>.<tag>.*``.  Only a measuring process gets a tag.
    """
    frame = sys._getframe(1)
    for _ in range(6):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return False
        if frame.f_code.co_name == "start" and isinstance(
            frame.f_locals.get("self"), coverage.Coverage
        ):
            return True
    return False


# Options of the ``[covhook]`` section (``[tool.covhook]`` in pyproject.toml).
KNOWN_OPTIONS = frozenset({"origin", "signals", "atomic", "flush_seconds", "scrubbed_env"})


def record_roots(data_dir: str, config: Any) -> None:
    """Note where this project lives (once per data dir), for combining elsewhere."""
    try:
        roots.record(data_dir, config)
    except Exception as exc:
        warn(
            f"could not record this project's location in {data_dir} ({exc!r}); "
            "combining on another machine will not map its paths",
            "make the data directory writable, or add [paths] by hand",
        )


class OriginTagger(coverage.CoveragePlugin):
    """Set ``run:data_file`` and ``run:context`` from the detected origin."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def configure(self, config: Any) -> None:
        try:
            if not is_starting_measurement():
                return
            self.check_options()
            if not config.get_option("run:parallel"):
                return
            environ: Mapping[str, str] = os.environ
            if self.options.get("origin") and not environ.get("COVHOOK_ORIGIN"):
                environ = {**environ, "COVHOOK_ORIGIN": str(self.options["origin"])}
            found = origin.detect(environ)
            base, _old_tag = origin.split_tagged_path(
                os.path.abspath(config.get_option("run:data_file"))
            )
            config.set_option("run:data_file", f"{base}.{found.tag}")
            record_roots(os.path.dirname(base), config)
            # A context that is a tag came from a measured parent's serialized
            # config (patch = subprocess): this process has its own origin.
            context = config.get_option("run:context")
            if not context or origin.TAG_RE.match(context):
                config.set_option("run:context", found.tag)
        except Exception as exc:  # never let tagging stop measurement
            warn(
                f"could not tag this process's coverage data with its origin ({exc!r}); "
                "it is measured untagged",
                "report this as a covhook bug with the line above",
            )

    def check_options(self) -> None:
        unknown = sorted(set(self.options) - KNOWN_OPTIONS)
        if unknown:
            warn(
                f"unknown option{'s' if len(unknown) > 1 else ''} in [covhook]: "
                f"{', '.join(unknown)}; ignored",
                f"use only {', '.join(sorted(KNOWN_OPTIONS))} (see docs/reference.md)",
            )
