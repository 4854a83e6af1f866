"""The coverage.py configurer that tags a measuring process with its origin.

It renames the data file ``<data_file>`` to ``<data_file>.<tag>`` (coverage.py
then appends its own ``.<host>.pid<N>.X…x[.H…h]`` suffix) and sets the static
context to the tag unless the user set one.  Plain ``coverage combine`` finds
the files (it globs ``<data_file>.*``) with or without covhook installed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import coverage

from covhook import origin
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


class OriginTagger(coverage.CoveragePlugin):
    """Set ``run:data_file`` and ``run:context`` from the detected origin."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def configure(self, config: Any) -> None:
        try:
            if not is_starting_measurement() or not config.get_option("run:parallel"):
                return
            found = origin.detect()
            base, _old_tag = origin.split_tagged_path(
                os.path.abspath(config.get_option("run:data_file"))
            )
            config.set_option("run:data_file", f"{base}.{found.tag}")
            context = config.get_option("run:context")
            # A parent's tag arrives in the configuration coverage.py hands to
            # children (patch = subprocess); it names the parent, not us.
            if not context or origin.parse_tag(str(context)) is not None:
                config.set_option("run:context", found.tag)
        except Exception as exc:
            warn(
                f"could not tag this process's coverage data with its origin ({exc!r}); "
                "it is measured untagged",
                "report this as a covhook bug with the line above",
            )
