"""The one exception the CLI turns into a message and exit status 2."""

from __future__ import annotations


class CovhookError(Exception):
    """Something the user can fix: what went wrong, and how to fix it."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem, fix)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem}. Fix: {self.fix}"
