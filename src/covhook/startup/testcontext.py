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
    from collections.abc import Callable, Mapping

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
    if test:
        test = running_test(environ) or test
    if current and not _is_ours(current):
        if test and not current.endswith(f"|{test}"):
            return f"{current}|{test}"
        return current
    return f"{tag}|{test}" if test else tag


def _is_ours(context: str) -> bool:
    from covhook.origin import is_tag

    return is_tag(context.split("|", 1)[0])


FILE_ENV = "COVHOOK_TEST_FILE"


def running_test(environ: Mapping[str, str] = os.environ) -> str | None:
    """The test pytest runs now (``COVHOOK_TEST_FILE``), or None between tests or unreadable.

    A process may start after the test that started its parent ended: a
    forkserver's child, a lazily started child of a long-lived server.
    """
    path = environ.get(FILE_ENV)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(4096).strip() or None
    except (OSError, ValueError):
        return None


def follow_forks(
    switch: Callable[[str], object],
    tag: str,
    configured: str | None,
    environ: Mapping[str, str] = os.environ,
) -> None:
    """In a process a test started: its fork children take the test running when they fork.

    A process that outlives its test (a forkserver, a server forking per
    request) forks later children during later tests; covhook's pytest plugin
    keeps the running test in the file ``COVHOOK_TEST_FILE`` names, and a fork
    child reads it and switches its static context with ``switch``.  Only with
    per-test contexts on (``COVHOOK_TEST`` set): off, nothing is read.
    """
    if not environ.get(FILE_ENV) or not hasattr(os, "register_at_fork"):
        return

    def after_fork_in_child() -> None:
        try:
            # The file named now: a pytest run inside this process names its own.
            test = running_test(os.environ)
            if not test or test == os.environ.get(ENV):
                return  # between tests, or still the same test
            os.environ[ENV] = test  # for this child's own children
            switch(static_context(tag, configured))
        except Exception:
            return  # the child keeps its context: never break a fork

    os.register_at_fork(after_in_child=after_fork_in_child)
