#!/usr/bin/env bash
# Container engines for the container tests (tests/test_containers*.py):
#  - docker.io (dockerd; the tests start their own daemon on their own socket
#    and stop it by PID), podman, debootstrap;
#  - a Debian bookworm root filesystem with python3 + pip, as a tarball that
#    `docker import` turns into a local base image (no registry is reachable);
#  - the wheels `pip install covhook` needs inside that image (offline there).
# Everything is cached under $COVHOOK_TEST_CACHE (default /var/cache/covhook-tests),
# so a second run takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${COVHOOK_TEST_CACHE:-/var/cache/covhook-tests}

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    apt-get update -qq
    # policy-rc.d (present on this machine kind) keeps the packages from starting services.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}" >/dev/null
fi
# The docker client: Debian's, unless one is already on PATH.
command -v docker >/dev/null

mkdir -p "$CACHE"
chmod 755 "$CACHE"

# Wheels for the image's Python (Debian bookworm: CPython 3.11, glibc 2.36).
WHEELS="$CACHE/wheels-py311"
# covhook's runtime dependencies and its [pytest] extra, at the versions pinned in constraints.txt.
REQS=(coverage pytest platformdirs)
PINS="${REQS[*]} $(sha256sum constraints.txt | cut -c1-16)"
if [ ! -f "$WHEELS/.done" ] || [ "$(cat "$WHEELS/.done")" != "$PINS" ]; then
    rm -rf "$WHEELS"
    mkdir -p "$WHEELS"
    # (grep drops pip's notes about this machine's extra index; pipefail keeps pip's status.)
    .venv/bin/python -m pip download -q --disable-pip-version-check -d "$WHEELS" \
        --only-binary=:all: --implementation cp --python-version 3.11 \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
        -c constraints.txt "${REQS[@]}" 2>&1 |
        { grep -v '^WARNING: Location' || true; }
    echo "$PINS" >"$WHEELS/.done"
fi
chmod -R a+rX,go-w "$WHEELS"

# A minimal Debian with python3 and pip, like the official python images
# (pip installs system-wide: no EXTERNALLY-MANAGED marker).
ROOTFS_TAR="$CACHE/bookworm-python3.tar"
if [ ! -s "$ROOTFS_TAR" ]; then
    echo "debootstrap: bookworm minbase + python3 (about a minute, cached in $CACHE)"
    rm -rf "$CACHE"/rootfs.*  # left by an interrupted run
    # The Debian mirror this machine's apt already uses: the only one reachable.
    MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
        true)
    [ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null ||
        true)
    [ -n "$MIRROR" ] || { echo "40-containers: no Debian mirror in apt's sources" >&2; exit 1; }
    ROOT=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    trap 'rm -rf "$ROOT"' EXIT
    debootstrap --variant=minbase --include=python3,python3-pip bookworm "$ROOT" \
        "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
        { tail -20 "$CACHE/debootstrap.log"; exit 1; }
    rm -f "$ROOT"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/* "$ROOT"/usr/share/doc \
        "$ROOT"/usr/share/man "$ROOT"/usr/share/locale
    tar -C "$ROOT" --numeric-owner -cf "$ROOTFS_TAR.tmp" .
    mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
    rm -rf "$ROOT"
    trap - EXIT
fi
echo "containers: dockerd $(dockerd --version | cut -d' ' -f3 | tr -d ,)," \
    "podman $(podman --version 2>/dev/null | cut -d' ' -f3), base rootfs $(du -h "$ROOTFS_TAR" | cut -f1)"
