"""Start a Python child with a scrubbed environment (env={}), as hermetic tests do."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

subprocess.run([sys.executable, os.path.join(HERE, "scrubbed_child.py")], env={}, check=True)
