"""Per-test contexts in child processes: ``<origin>|<test id>|<phase>`` (issue 22).

When per-test contexts are on, covhook's pytest plugin puts the running test
in ``COVHOOK_TEST`` (``<pytest node id>|<setup, run or teardown>``) for the
span of each phase; every process started then inherits it (subprocess,
multiprocessing spawn/forkserver, torchrun and MPI ranks, containers through
``covhook docker-args``), and its static context becomes ``<origin tag>|<test
id>|<phase>``.  With contexts off nothing sets the variable and a process
pays one dictionary lookup.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING (issue 9: start-up cost)
if TYPE_CHECKING:
    from collections.abc import Mapping

ENV = "COVHOOK_TEST"


def static_context(tag: str, current: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The static context of a process whose origin is ``tag``.

    ``current`` is the configured context; covhook replaces it only when it is
    empty or one covhook made (a parent's, passed on in its serialized config:
    a tag, maybe followed by ``|<test id>|<phase>``).  The user's own stays,
    followed by the test as pytest-cov adds it to pytest's own (once: a
    grandchild gets its parent's context, the test already in it).
    """
    test = environ.get(ENV)
    if current and not _is_ours(current):
        if test and not current.endswith(f"|{test}"):
            return f"{current}|{test}"
        return current
    return f"{tag}|{test}" if test else tag


def _is_ours(context: str) -> bool:
    from covhook.origin import TAG_RE

    return TAG_RE.match(context.split("|", 1)[0]) is not None
