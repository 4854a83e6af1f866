"""Old name of :mod:`covhook.startup.boot`, kept for hooks covhook 0.1 installed.

Their ``.pth`` line runs ``import covhook._startup; covhook._startup.start()``
in other environments (``covhook install``), which a newer covhook must still start.
"""

from covhook.startup.boot import start

__all__ = ["start"]
