"""Start a Python child with a scrubbed environment (env={}), as hermetic tests do.

``posix_spawn`` as the only argument asks for the route ``subprocess`` takes
through ``os.posix_spawn`` (the default on Python 3.13; on 3.11 and 3.12 when
``close_fds=False``) instead of ``_posixsubprocess.fork_exec``.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
close_fds = sys.argv[1:] != ["posix_spawn"]

subprocess.run(
    [sys.executable, os.path.join(HERE, "scrubbed_child.py")],
    env={},
    close_fds=close_fds,
    check=True,
)
