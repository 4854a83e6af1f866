#!/usr/bin/env bash
# Python 3.14 and 3.15 for the version matrix (scripts/matrix.sh), from the only
# registries reachable here: Debian's packages and PyPI.
#  - a Debian forky (testing) root filesystem with python3.14 and python3.15
#    (+ venv), built with debootstrap and kept as a directory to chroot into;
#  - the wheels the matrix cells need for those Pythons, downloaded on the host
#    (pip inside the chroot does not see the host's pip configuration) and
#    installed there with --no-index --find-links.
# Everything is cached under $COVHOOK_TEST_CACHE (default /var/cache/covhook-tests):
# a second run takes well under a second.  Prints the root's path on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${COVHOOK_TEST_CACHE:-/var/cache/covhook-tests}
ROOT="$CACHE/forky-py314-py315"
PYTHONS=(3.14 3.15)

if ! command -v debootstrap >/dev/null; then
    echo "installing: debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi
mkdir -p "$CACHE"
chmod 755 "$CACHE"

if [ ! -f "$ROOT/.done" ]; then
    echo "debootstrap: forky minbase + python3.14, python3.15 (a few minutes, cached in $CACHE)"
    rm -rf "$CACHE"/forky.* "$ROOT" # left by an interrupted run
    # The Debian mirror this machine's apt already uses: the only one reachable.
    MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
        true)
    [ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null ||
        true)
    [ -n "$MIRROR" ] || { echo "50-forky: no Debian mirror in apt's sources" >&2; exit 1; }
    TMP=$(mktemp -d "$CACHE/forky.XXXXXX")
    trap 'rm -rf "$TMP"' EXIT
    # Debian 12's debootstrap has no forky script: sid's fits (same layout).
    debootstrap --variant=minbase \
        --include=python3.14,python3.14-venv,python3.15,python3.15-venv \
        forky "$TMP" "$MIRROR" /usr/share/debootstrap/scripts/sid \
        >"$CACHE/debootstrap-forky.log" 2>&1 ||
        { tail -20 "$CACHE/debootstrap-forky.log"; exit 1; }
    rm -rf "$TMP"/var/lib/apt/lists/* "$TMP"/var/cache/apt/*.bin "$TMP"/usr/share/doc \
        "$TMP"/usr/share/man "$TMP"/usr/share/locale
    for py in "${PYTHONS[@]}"; do
        "$TMP/usr/bin/python$py" -c 'pass' 2>/dev/null ||
            chroot "$TMP" "/usr/bin/python$py" -c 'pass'
    done
    chroot "$TMP" dpkg-query -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' 'python3.1[45]' |
        awk '$1 == "ii" {print $2, $3}' >"$TMP/.done"
    mv "$TMP" "$ROOT"
    trap - EXIT
fi
chmod 755 "$ROOT"

# The wheels the matrix cells install (scripts/matrix.sh NEEDS + coverage), per Python:
# coverage at the version of the matrix's 3.14/3.15 cells (matrix.sh passes it).
COV=${COVHOOK_FORKY_COVERAGE:-7.18.0}
# The frameworks layer's servers and task queue (requirements-frameworks.txt): the
# 3.14 and 3.15 cells run it (scripts/matrix.sh FRAMEWORKS_CELLS).
REQS=(pip setuptools pytest pytest-xdist pytest-cov platformdirs cloudpickle)
mapfile -t FRAMEWORKS < <(grep -v '^#' requirements-frameworks.txt)
REQS+=("${FRAMEWORKS[@]}")
for py in "${PYTHONS[@]}"; do
    WHEELS="$CACHE/wheels-py${py/./}"
    stamp="${REQS[*]} coverage==$COV $(sha256sum constraints.txt | cut -c1-16)"
    if [ -f "$WHEELS/.done" ] && [ "$(cat "$WHEELS/.done")" = "$stamp" ]; then
        continue
    fi
    # Only ever added to, never emptied: checkouts with other pins or requirements share
    # this cache (emptying it under a concurrent install broke that install), and the
    # cells install with -c constraints.txt, which picks the pinned files.
    mkdir -p "$WHEELS"
    # (grep drops pip's notes about this machine's extra index; pipefail keeps pip's status.)
    grep -v '^coverage==' constraints.txt >"$WHEELS/constraints.txt"
    .venv/bin/python -m pip download -q --disable-pip-version-check -d "$WHEELS" \
        --only-binary=:all: --implementation cp --python-version "$py" \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 \
        --platform manylinux1_x86_64 --platform linux_x86_64 \
        -c "$WHEELS/constraints.txt" "${REQS[@]}" "coverage==$COV" 2>&1 |
        { grep -v '^WARNING: Location' || true; }
    # The coverage pinned in constraints.txt too: tests that build venvs with it (the recorder's).
    .venv/bin/python -m pip download -q --disable-pip-version-check -d "$WHEELS" --no-deps \
        --only-binary=:all: --implementation cp --python-version "$py" \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 \
        --platform manylinux1_x86_64 "$(grep '^coverage==' constraints.txt)" 2>&1 |
        { grep -v '^WARNING: Location' || true; }
    echo "$stamp" >"$WHEELS/.done"
done
chmod -R a+rX,go-w "$CACHE"/wheels-py31[45]
echo "forky: $(tr '\n' ' ' <"$ROOT/.done")"
echo "$ROOT"
