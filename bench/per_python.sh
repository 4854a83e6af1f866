#!/usr/bin/env bash
# Per-process cost of covhook against coverage.py's own hook, one table per
# Python (issue 21), in one command:
#
#   bash bench/per_python.sh            # RUNS=20 ROUNDS=5 by default
#   RUNS=40 ROUNDS=10 bash bench/per_python.sh 3.14 3.15
#
# For each Python: bench/bench_scope.py (one process in scope, line and
# branch data, and one out of scope; medians of RUNS interleaved runs) and
# bench/bench_subprocesses.py --source (a parent and 200 short children, all
# in scope; ROUNDS interleaved rounds), measuring coverage.py's
# sys.monitoring core: COVERAGE_CORE=sysmon on 3.12 and 3.13 (lines only:
# coverage.py measures branches with sysmon from 3.14), its default core on
# 3.14 and 3.15.  3.12/3.13 come from pyenv; 3.14/3.15 run in the Debian
# forky root (scripts/forky.sh, or FORKY=path/to/forky.sh).  Tables go to
# bench/per-python/.  Machine noise: every variant is interleaved with the
# others in the same run; read the CPU columns and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
ROUNDS=${ROUNDS:-5}
CHILDREN=${CHILDREN:-200}
WORK=${WORK:-/tmp/covhook-bench-scope}
OUT=bench/per-python
FORKY=${FORKY:-scripts/forky.sh}
[ -f "$FORKY" ] || FORKY=/work/wt/h6-python-314-315/scripts/forky.sh
mkdir -p "$OUT" "$WORK"

# python  interpreter  coverage  COVERAGE_CORE  where
CELLS=(
    "3.12 /root/.pyenv/versions/3.12.1/bin/python3 7.17.5 sysmon host"
    "3.13 /root/.pyenv/versions/3.13.0/bin/python3 7.17.5 sysmon host"
    "3.14 /usr/bin/python3.14 7.18.0 default forky"
    "3.15 /usr/bin/python3.15 7.18.0 default forky"
)
wanted=("$@")
for row in "${CELLS[@]}"; do
    read -r ver py cov core where <<<"$row"
    if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $ver "* ]]; then
        continue
    fi
    core_args=()
    [ "$core" = default ] || core_args=(--core "$core")
    if [ "$where" = forky ]; then
        in=(env FORKY_BIND="$PWD" bash "$FORKY")
        runner=$WORK/runner-$ver/bin/python  # a venv with pip, inside the root
        [ -x "$runner" ] || "${in[@]}" "$py" -m venv "$WORK/runner-$ver"
    else
        in=()
        runner=.venv/bin/python
    fi
    echo "== per_python: Python $ver, coverage $cov, core $core"
    "${in[@]}" "$runner" bench/bench_scope.py --runs "$RUNS" --python "$py" \
        --coverage "coverage==$cov" "${core_args[@]}" --work "$WORK" --out "$OUT/scope-$ver.md"
    # bench_scope.py's covhook venv (a wheel of this checkout + that coverage) runs the parent.
    venv_python=$(ls -d "$WORK/$ver".*"-coverage$cov/covhook/bin/python" | head -1)
    "${in[@]}" "$venv_python" bench/bench_subprocesses.py --source --repeat "$ROUNDS" --children "$CHILDREN" \
        "${core_args[@]}" --out "$OUT/subprocesses-$ver.md"
done
