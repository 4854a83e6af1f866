"""Origin detection and tags.

The container cases read a fake root directory: the real files exist only
inside a container, and the container tests (tests/test_containers*.py) check
the same rules against a real engine.  The host case reads this machine's own
/proc: a VM that has a /.dockerenv file but is not a container.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from covhook import layout, origin

CID = "3f2a9c81d0e4" + "ab" * 26
DOCKER_MOUNTINFO = (
    f"612 590 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/x\n"
    f"630 612 254:1 /var/lib/docker/containers/{CID}/hostname /etc/hostname rw - ext4 /dev/vda\n"
)


def fake_root(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_this_vm_is_a_host_despite_its_dockerenv() -> None:
    place = origin.detect_place({})
    assert place == f"host-{origin.sanitize(socket.gethostname())}"


def test_dockerenv_alone_is_not_docker(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {".dockerenv": "", "proc/self/cgroup": "0::/\n"})
    assert origin.detect_place({}, root).startswith("host-")


@pytest.mark.parametrize(
    "files",
    [
        {".dockerenv": "", "proc/self/cgroup": "0::/\n", "proc/self/mountinfo": DOCKER_MOUNTINFO},
        {".dockerenv": "", "proc/self/cgroup": f"12:memory:/docker/{CID}\n"},
        {".dockerenv": "", "proc/self/cgroup": f"0::/system.slice/docker-{CID}.scope\n"},
    ],
    ids=["cgroup2-mountinfo", "cgroup1", "systemd-scope"],
)
def test_docker(tmp_path: Path, files: dict[str, str]) -> None:
    assert origin.detect_place({}, fake_root(tmp_path, files)) == f"docker-{CID[:12]}"


def test_host_listing_other_containers_mounts_is_still_a_host(tmp_path: Path) -> None:
    """A host's mount table shows running containers' shm mounts: not our own id."""
    mounts = f"700 30 0:60 / /var/lib/docker/containers/{CID}/mounts/shm rw - tmpfs shm rw\n"
    root = fake_root(tmp_path, {".dockerenv": "", "proc/self/mountinfo": mounts})
    assert origin.detect_place({}, root).startswith("host-")


def test_podman(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {"run/.containerenv": f'engine="podman-4.3.1"\nid="{CID}"\n'})
    assert origin.detect_place({}, root) == f"podman-{CID[:12]}"
    assert origin.detect_place({"container": "podman"}, tmp_path / "empty").startswith("podman-")


def test_kubernetes_and_other_engines(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "HOSTNAME": "web-7d4b9c-x2x"}
    assert origin.detect_place(env, tmp_path) == "k8s-web-7d4b9c-x2x"
    root = fake_root(tmp_path / "c", {"proc/self/cgroup": f"0::/kubepods/cri-containerd-{CID}\n"})
    assert origin.detect_place({}, root) == f"container-{CID[:12]}"
    assert origin.detect_place({"container": "lxc"}, tmp_path).startswith("container-")


def test_override_wins_and_is_sanitized(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {".dockerenv": "", "proc/self/cgroup": f"1:x:/docker/{CID}\n"})
    assert origin.detect_place({"COVHOOK_ORIGIN": "CI runner #3"}, root) == "origin-CI-runner-3"


TORCHRUN = {
    "TORCHELASTIC_RUN_ID": "abc",
    "GROUP_RANK": "1",
    "RANK": "3",
    "WORLD_SIZE": "4",
    "LOCAL_RANK": "1",
    "TORCHELASTIC_RESTART_COUNT": "2",
}


@pytest.mark.parametrize(
    ("env", "roles"),
    [
        ({}, ()),
        (TORCHRUN, ("torch-n1-r3of4-a2",)),
        ({"RANK": "1", "WORLD_SIZE": "2"}, ("dist-r1of2",)),
        ({"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4"}, ("mpi-r2of4",)),
        ({"PMI_RANK": "0"}, ("mpi-r0",)),
        (
            {"SLURM_PROCID": "3", "SLURM_NTASKS": "8", "SLURM_JOB_ID": "77"},
            ("slurm-j77-t3of8",),
        ),
        ({"PYTEST_XDIST_WORKER": "gw1"}, ("xdist-gw1",)),
        ({"COVHOOK_SPLIT": "2", "COVHOOK_SPLITS": "4"}, ("split-2of4",)),
        ({**TORCHRUN, "SLURM_PROCID": "0"}, ("torch-n1-r3of4-a2", "slurm-t0")),
        ({"RANK": "x", "WORLD_SIZE": "2"}, ()),
    ],
)
def test_roles(env: dict[str, str], roles: tuple[str, ...]) -> None:
    assert origin.detect_roles(env) == roles


def test_tags_round_trip_and_strip_from_paths() -> None:
    found = origin.Origin("docker-3f2a9c81d0e4", ("torch-n0-r1of2-a0",))
    assert origin.parse_tag(found.tag) == found
    assert found.kind == "docker"
    assert layout.split_tagged_path(f"/d/.coverage.{found.tag}") == ("/d/.coverage", found.tag)
    assert layout.split_tagged_path("/d/.coverage") == ("/d/.coverage", None)
    assert layout.split_tagged_path("/d.host-x/cov") == ("/d.host-x/cov", None)
    assert origin.parse_tag("myhost") is None


# origin.py matches its patterns by hand (``re`` costs every measured process
# 1 ms): each is compared with its regular expression on texts built from the
# pieces that matter (prefixes, hex runs of every length near 64, separators).
_PIECES = (
    "docker-", "docker/", "libpod-", "cri-containerd-", "crio-", "cri-", "docker",
    "/containers/", "/hostname /etc/hostname ", "/hostname", " ", "/", "-", "\n",
    "0", "f", "a9", "G", "x", "é", "_", ".", "0123456789abcdef" * 3, "0123456789abcdef" * 4,
)  # fmt: skip


def _texts(seed: int, count: int) -> list[str]:
    import random

    die = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [die.choice(_PIECES) for _ in range(die.randint(0, 12))]
        if die.random() < 0.5:  # a hex run of 60..70 after a prefix
            parts.insert(die.randint(0, len(parts)), "0123456789abcdef" * 5)
            parts[-1] = parts[-1][: die.randint(60, 70)] if parts[-1][:1] == "0" else parts[-1]
        texts.append("".join(parts))
    return texts


@pytest.mark.fast
def test_hand_matching_equals_the_regular_expressions() -> None:
    import re

    cgroup = re.compile(origin.CGROUP_ID_PATTERN)
    mount = re.compile(origin.MOUNT_ID_PATTERN)
    tag = re.compile(origin.TAG_PATTERN)
    hex64 = "0123456789abcdef" * 4
    fixed = [
        f"0::/system.slice/docker-{hex64}.scope",
        f"docker-{hex64[:63]} crio-{hex64}",
        f"x/containers/{hex64}/hostname /etc/hostname rw",
        f"/containers/{hex64}/hostname /etc/hostnam",
        f"/containers//containers/{hex64}/hostname /etc/hostname ",
        f"cri-containerd-{hex64.upper()}",
    ]
    for text in fixed + _texts(21, 8000):
        want = cgroup.search(text)
        assert origin.cgroup_id(text) == (want[1] if want else None), text
        want = mount.search(text)
        assert origin.mount_id(text) == (want[1] if want else None), text
        cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40].strip("-") or "unknown"
        assert origin.sanitize(text) == cleaned, text
        assert origin.is_tag(text) == bool(tag.match(text)), text
    # and texts near tags
    import random

    die = random.Random(7)
    words = ["host", "docker", "k8s", "origin", "torch", "xdist", "split", "dist", "hosts", "",
             "-", "_", "a", "A9", "-x", "gw0", "\n", "é", "r1of2"]  # fmt: skip
    for _ in range(8000):
        text = "".join(die.choice(words) for _ in range(die.randint(1, 9)))
        assert origin.is_tag(text) == bool(tag.match(text)), text
    for text in ("host-a", "docker-3f2a_torch-n0-r1of2-a0_xdist-gw0", "host-a_", "host-a\n"):
        assert origin.is_tag(text) == bool(tag.match(text)), text
