import os
import sys

if os.environ.get("MARK") == "1":
    sys.exit(5)  # child-ran
sys.exit(9)
