"""``python -m covhook``."""

import sys

from covhook.cli import main

sys.exit(main())
