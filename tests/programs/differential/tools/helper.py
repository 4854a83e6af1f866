"""Out of scope and never runs in-scope code: measured by eager start, skipped by lazy."""

import json

print(json.dumps({"helper": True}))
