"""Started by a test under pytest-xdist: lines marked '# worker' run only in this child."""

import sys

value = int(sys.argv[1])  # worker
print(value * 2)  # worker
