"""What the CLI turns into one line, and the exit statuses it uses (coverage.py's).

``coverage`` exits 0 when all went well, 1 for an error, 2 when the total is
under ``fail_under`` (``coverage/cmdline.py``: ``OK, ERR, FAIL_UNDER``).
covhook uses the same numbers so a CI script can treat both alike.
"""

from __future__ import annotations

import errno

OK = 0
ERR = 1
FAIL_UNDER = 2


class CovhookError(Exception):
    """Something the user can fix: what went wrong, and how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem, fix)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem}. Fix: {self.fix}"


def from_os_error(exc: OSError) -> CovhookError:
    """An OSError as problem + fix, naming the path it was about."""
    where = " -> ".join(repr(str(f)) for f in (exc.filename, exc.filename2) if f is not None)
    what = exc.strerror or exc.__class__.__name__
    problem = f"{what}: {where}" if where else f"{what} ({exc})"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "run as a user who may write there, or choose another path"
    elif exc.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        fix = "something of the other kind (file or directory) is in the way: choose another path"
    elif exc.errno == errno.ENOENT:
        fix = "check the path: it (or its directory) does not exist"
    elif exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = "free some disk space and run the command again"
    else:
        fix = "check the path and its permissions, then run the command again"
    return CovhookError(problem, fix)


# What to do about each coverage.py exception, by class name (coverage is
# imported lazily, so the classes are not referenced here).
_COVERAGE_FIXES = {
    "ConfigError": "correct the coverage config file (check it with 'coverage debug config')",
    "NoDataError": "measure first ('covhook run -- CMD'), then combine and report",
    "NoSource": "restore the source file, or leave it out with [report] omit",
    "NoCode": "restore the source file, or leave it out with [report] omit",
    "NotPython": "leave the file out with [report] omit, or correct its syntax",
    "DataError": (
        "check that the data file's directory is writable and the file is coverage data; "
        "delete a corrupt file and measure again"
    ),
    "PluginError": "fix or remove the plugin named above ([run] plugins)",
}


def from_coverage_error(exc: Exception) -> CovhookError:
    """A coverage.py exception (any ``CoverageException``) as problem + fix."""
    message = str(exc.args[0]) if exc.args else exc.__class__.__name__
    problem = f"coverage.py: {message.strip().rstrip('.')} ({exc.__class__.__name__})"
    for klass in type(exc).__mro__:
        fix = _COVERAGE_FIXES.get(klass.__name__)
        if fix:
            return CovhookError(problem, fix)
    return CovhookError(problem, "see coverage.py's message above for what to change")


def as_covhook_error(exc: BaseException) -> CovhookError | None:
    """The one-line form of an error the user can act on; None for anything else (a bug)."""
    if isinstance(exc, CovhookError):
        return exc
    if isinstance(exc, OSError):
        return from_os_error(exc)
    if any(klass.__module__ == "coverage.exceptions" for klass in type(exc).__mro__):
        return from_coverage_error(exc)  # type: ignore[arg-type]
    return None
