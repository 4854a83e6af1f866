"""The host side: what the ``covhook`` command does where data is combined and reported.

Combining (:mod:`.combine` and :mod:`.fastcombine`), path mapping, origins,
installing hooks.  Measured processes never import this package.
"""
