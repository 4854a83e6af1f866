"""The public name of :mod:`covhook.startup.containers`, a coverage plugin.

Configs that ``covhook docker-args`` wrote list it in ``[run] plugins``.
"""

from covhook.startup.containers import coverage_init

__all__ = ["coverage_init"]
