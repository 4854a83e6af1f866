"""The coverage.py configurer that tags a measuring process with its origin.

It renames the data file ``<data_file>`` to ``<data_file>.<tag>`` (coverage.py
then appends its own ``.<host>.pid<N>.X…x[.H…h]`` suffix) and sets the static
context to the tag unless the user set one.  Plain ``coverage combine`` finds
the files (it globs ``<data_file>.*``) with or without covhook installed.

covhook's start-up creates the Coverage object itself, so it tags it
explicitly (:func:`tag_at_startup`) before ``start()``.  The configurer is
for users who list ``covhook`` in ``[run] plugins`` under plain ``coverage
run``: a configurer runs for every Coverage object, also those that only
combine or report, so there it looks at the stack to see whether coverage
is starting to measure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import coverage

from covhook import _compat, layout, origin, roots, settings
from covhook._warn import warn
from covhook.startup import testcontext

# The Coverage object covhook's start-up tagged (and so measures with).
_startup_coverage: coverage.Coverage | None = None


def is_startup_coverage(config: Any) -> bool:
    """``config`` is the Coverage covhook's start-up made, or its configuration.

    coverage.py hands a configurer either the Coverage object or its config.
    """
    cov = _startup_coverage
    return cov is not None and (config is cov or config is getattr(cov, "config", None))


def is_starting_measurement(config: Any = None) -> bool:
    """True when coverage calls us from ``Coverage.start()``.

    A configurer runs for every Coverage object, including those that only
    combine or report; renaming the data file there would make them look for
    ``<data_file>.<tag>.*``.  Only a measuring process gets a tag.
    """
    if config is not None and is_startup_coverage(config):
        return True
    frame = _compat.caller_frame(1)
    for _ in range(6):
        frame = frame.f_back  # type: ignore[assignment]
        if frame is None:
            return False
        if frame.f_code.co_name == "start" and isinstance(
            frame.f_locals.get("self"), coverage.Coverage
        ):
            return True
    return False


def tag(config: Any, options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> None:
    """Set ``run:data_file`` and ``run:context`` of a parallel measurement to its origin."""
    if not config.get_option("run:parallel"):
        return
    tag = origin_tag(options, environ)
    base, _old_tag = layout.split_tagged_path(os.path.abspath(config.get_option("run:data_file")))
    config.set_option("run:data_file", f"{base}.{tag}")
    record_roots(os.path.dirname(base), config)
    # A context that is a tag came from a measured parent's serialized
    # config (patch = subprocess): this process has its own origin, and
    # with per-test contexts the running test's id (issue 22).
    context = config.get_option("run:context")
    chosen_context = testcontext.static_context(tag, context, environ)
    config.set_option("run:context", chosen_context)
    if chosen_context != tag and is_startup_coverage(config):
        testcontext.follow_forks(
            lambda new: _compat.switch_collector_context(config, new), tag, context, environ
        )


def origin_tag(options: Mapping[str, Any], environ: Mapping[str, str] = os.environ) -> str:
    """This process's origin tag (``[covhook] origin`` / ``COVHOOK_ORIGIN``, else detected)."""
    chosen = settings.value("origin", options, environ, problems=[])
    if chosen and not environ.get("COVHOOK_ORIGIN"):
        environ = {**environ, "COVHOOK_ORIGIN": str(chosen)}
    return origin.detect(environ).tag


def record_roots(data_dir: str, config: Any) -> None:
    """Note where this project lives (once per data dir), for combining elsewhere."""
    try:
        roots.record(data_dir, config)
    except OSError:
        return  # an unwritable data dir: start-up says so (and why) in its own line
    except Exception as exc:
        warn(
            f"could not record this project's location in {data_dir} ({exc!r}); "
            "combining on another machine will not map its paths",
            "make the data directory writable, or add [paths] by hand",
        )


def tag_at_startup(cov: coverage.Coverage, options: Mapping[str, Any]) -> None:
    """Tag the Coverage covhook's start-up made, before ``cov.start()``.

    The configurer then recognises ``cov`` and leaves it alone (no stack walk).
    """
    global _startup_coverage
    _startup_coverage = cov
    try:
        tag(cov, options)
    except Exception as exc:  # never let tagging stop measurement
        warn_untagged(exc)


def warn_untagged(exc: BaseException) -> None:
    warn(
        f"could not tag this process's coverage data with its origin ({exc!r}); "
        "it is measured untagged",
        "report this as a covhook bug with the line above",
    )


# Options of the ``[covhook]`` section (``[tool.coverage.covhook]`` in pyproject.toml).
KNOWN_OPTIONS = settings.OPTIONS


class OriginTagger(coverage.CoveragePlugin):
    """Set ``run:data_file`` and ``run:context`` from the detected origin."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def configure(self, config: Any) -> None:
        if is_startup_coverage(config):
            return  # tagged by covhook's start-up already
        try:
            if not is_starting_measurement():
                return
            settings.check_options(self.options)
            tag(config, self.options)
        except Exception as exc:  # never let tagging stop measurement
            warn_untagged(exc)
