#!/usr/bin/env bash
# Real launchers for the process tests: torch (CPU build) + torchrun, Open MPI +
# mpi4py, Ray, dask.distributed.  Idempotent: a quick import check skips
# everything already present.  torch is pinned to the local "+cpu" build:
# that version label exists only in the CPU wheel, so pip can never pull a CUDA
# torch (and its GBs of nvidia-* packages) instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
TORCH_REQ="torch==2.13.0+cpu"
pip_install() {
    "$PY" -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v '^WARNING: Location' || true; }
}

if ! command -v mpirun >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
    echo "30-launchers: installing Open MPI (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null
fi

# Ask the installed metadata (importing torch and ray would take seconds).
read -r -a missing <<<"$("$PY" - "$TORCH_REQ" <<'PYEOF'
import sys
from importlib import metadata

wanted = {"torch": sys.argv[1], "mpi4py": "mpi4py", "ray": "ray",
          "distributed": "dask[distributed]", "numpy": "numpy"}
missing = []
for dist, req in wanted.items():
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        missing.append(req)
        continue
    if dist == "torch" and version != "2.13.0+cpu":
        missing.append(req)
print(" ".join(missing))
PYEOF
)"
if [ ${#missing[@]} -gt 0 ]; then
    echo "30-launchers: installing ${missing[*]}"
    pip_install "${missing[@]}"
fi
# A CUDA torch would have brought nvidia-* wheels: refuse to go on with one.
if "$PY" -m pip list --disable-pip-version-check 2>/dev/null | grep -qi '^nvidia-'; then
    echo "30-launchers: error: CUDA packages found in .venv; torch must be the CPU build" >&2
    exit 1
fi
test -x .venv/bin/torchrun && command -v mpirun >/dev/null
