#!/usr/bin/env bash
# The peers job (issue 26): pytest-cov's own test suite and coverage.py's
# process-related tests, run in a venv with covhook installed (as a user
# installs it: a wheel built from this checkout), then every test that failed
# there re-run in a venv without covhook.  The job fails when a test fails only
# with covhook, unless tests/peers-expected.txt lists it with its reason.
#
# Both venvs are cached under .venv-peers/ and rebuilt only when their inputs
# change (pins, this script, covhook's sources).  Run by CI (.ci/run); locally:
#   bash scripts/peers.sh [pytest-cov|coverage ...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PEERS=$ROOT/.venv-peers
PY=${COVHOOK_PYTHON:-$(command -v python3.11 || command -v python3)}
pin() { grep -i "^$1==" constraints.txt | head -n 1; }
COV_PIN=$(pin coverage)
PTC_PIN=$(pin pytest-cov)
SUITES=("$@")
[ ${#SUITES[@]} -gt 0 ] || SUITES=(pytest-cov coverage)

pip_in() {
    local venv=$1
    shift
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -c "$ROOT/constraints.txt" "$@" 2>&1 |
        { grep -v '^WARNING: Location' || true; }
}

sources() {
    # The sdists, unpacked once: the test suites are not in the wheels.
    mkdir -p "$PEERS/src"
    local spec name
    for spec in "$COV_PIN" "$PTC_PIN"; do
        name=${spec/==/-}
        name=${name/pytest-cov/pytest_cov}
        if [ ! -d "$PEERS/src/$name" ]; then
            "$PY" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
                "$spec" -d "$PEERS/sdist" 2>&1 | { grep -v '^WARNING: Location' || true; }
            tar -xzf "$PEERS/sdist/$name.tar.gz" -C "$PEERS/src"
        fi
    done
    COV_SRC=$PEERS/src/${COV_PIN/==/-}
    PTC_SRC=$PEERS/src/pytest_cov-${PTC_PIN#*==}
}

make_venv() {
    # $1: with | without.  coverage is editable from its sdist (its tests
    # import the package beside them), pytest-cov installed from its sdist.
    local side=$1 venv=$PEERS/$1 stamp
    stamp=$(cat constraints.txt requirements-peers.txt "$0" pyproject.toml setup.py pth/*.py | sha256sum | cut -c1-16)
    if [ "$side" = with ]; then
        stamp=$stamp-$(git ls-files -s src | sha256sum | cut -c1-16)
    fi
    if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
        return 0
    fi
    echo "== peers: building the venv $side covhook"
    rm -rf "$venv"
    "$PY" -m venv "$venv"
    pip_in "$venv" pip
    pip_in "$venv" -r requirements-peers.txt -e "$COV_SRC" "$PTC_SRC"
    if [ "$side" = with ]; then
        pip_in "$venv" "$ROOT"
        "$venv/bin/python" -c "import covhook"
    fi
    echo "$stamp" >"$venv/.stamp"
}

run_suite() {
    # $1 suite, $2 side, rest: test ids (none: the suite's whole selection).
    local suite=$1 side=$2
    shift 2
    local py=$PEERS/$side/bin/python tests=("$@")
    case $suite in
    pytest-cov)
        [ ${#tests[@]} -gt 0 ] || tests=(tests)
        # Not its 26 `3xdist` cases: each is a `2xdist` case again with one more
        # worker (the same covhook code paths: a controller and its workers), and
        # together they cost minutes of the 45 the whole CI run has on 2 cores.
        (cd "$PTC_SRC" && env PATH="$PEERS/$side/bin:$PATH" PYTHONPATH="$PTC_SRC/tests" PYTHONUNBUFFERED=yes \
            "$py" -m pytest -q -p no:cacheprovider -n 2 -rfE -k "not 3xdist" \
            --deselect tests/test_pytest_cov.py::test_celery "${tests[@]}")
        ;;
    coverage)
        [ ${#tests[@]} -gt 0 ] || tests=(tests/test_process.py tests/test_concurrency.py tests/test_api.py)
        # (its own addopts: -q already, and --failed-first needs the cache plugin)
        (cd "$COV_SRC" && env PATH="$PEERS/$side/bin:$PATH" "$py" -m pytest -n 2 -rfE "${tests[@]}")
        ;;
    esac
}

sources
make_venv with
make_venv without
status=0
for suite in "${SUITES[@]}"; do
    start=$SECONDS
    out=$PEERS/results/$suite
    rm -rf "$out"
    mkdir -p "$out"
    run_suite "$suite" with >"$out/with.log" 2>&1 || true
    "$PEERS/with/bin/python" scripts/peers_compare.py failed "$out/with.log" >"$out/failed.txt"
    if [ -s "$out/failed.txt" ]; then
        mapfile -t failed <"$out/failed.txt"
        run_suite "$suite" without "${failed[@]}" >"$out/without.log" 2>&1 || true
        "$PEERS/with/bin/python" scripts/peers_compare.py candidates "$out" >"$out/candidates.txt"
        if [ -s "$out/candidates.txt" ]; then
            # Once more with covhook: a timing test that lost a race on a loaded
            # machine is flaky, not covhook's.
            mapfile -t failed <"$out/candidates.txt"
            run_suite "$suite" with "${failed[@]}" >"$out/again.log" 2>&1 || true
        fi
    fi
    if "$PEERS/with/bin/python" scripts/peers_compare.py verdict "$suite" "$out" tests/peers-expected.txt; then
        echo "== peers: $suite passed in $((SECONDS - start)) s"
    else
        echo "== peers: $suite FAILED in $((SECONDS - start)) s (logs: $out)"
        status=1
    fi
done
exit $status
