"""``covhook combine DIR|FILE|ARCHIVE...``: CI artifacts in one call, and the progress bar.

Real data files (written by coverage's API), real archives, real ``covhook``
commands; the progress bar is read from a real pseudo-terminal.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from covhook.cli import main
from support import cli, datagen, processes
from support.datagen import describe

BIN = Path(sys.executable).parent
RC = "[run]\nparallel = True\n"


def artifacts(tmp_path: Path) -> tuple[list[str], list[Path]]:
    """A directory, a nested artifact directory, a .tar.gz and a .zip; and every data file."""
    every: list[Path] = []
    job1 = tmp_path / "artifacts" / "job-1"
    every += datagen.write_many(job1, 4, root="/r", sources=5)
    job2 = tmp_path / "downloads" / "run-7" / "job-2"  # nested: found from its parent
    every += datagen.write_many(job2, 4, root="/r", sources=5, origins=3)
    shutil.copy(every[0], job2)  # the same file in two artifacts: combined once
    packed = tmp_path / "packed"
    every += [p for p in datagen.write_many(packed / "tar", 3, root="/r", sources=5)]
    with tarfile.open(tmp_path / "job-3.tar.gz", "w:gz") as tar:
        tar.add(packed / "tar", arcname="coverage-data")
    for i in range(20, 23):
        every.append(datagen.write_process(packed / "zip", i, root="/r", sources=5))
    with zipfile.ZipFile(tmp_path / "job-4.zip", "w") as zf:
        for f in (packed / "zip").iterdir():
            zf.write(f, f.name)
    sources = [str(job1), str(tmp_path / "downloads"), "job-3.tar.gz", "job-4.zip"]
    return sources, every


def test_directories_files_and_archives_in_one_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources, every = artifacts(tmp_path)
    single = datagen.write_process(tmp_path / "single", 40, root="/r", sources=5)
    plain = tmp_path / "plain"
    plain.mkdir()
    for f in [*every, single]:
        shutil.copy(f, plain)
    (plain / ".coveragerc").write_text(RC)
    cli.coverage(["combine", "-q"], plain, check=True)
    (tmp_path / ".coveragerc").write_text(RC)
    assert main(["combine", *sources, str(single)]) == 0
    out = capsys.readouterr().out
    total = next(line for line in out.splitlines() if line.startswith("TOTAL"))
    assert total.split()[1] == str(len(every) + 1)  # the copied file is one process
    # the same data as coverage combine of all the files, each once
    assert describe(tmp_path / ".coverage") == describe(plain / ".coverage")
    # combined files are gone, archives are kept
    assert not list((tmp_path / "artifacts").rglob(".coverage.*"))
    assert not list((tmp_path / "downloads").rglob(".coverage.*"))
    assert not single.exists()
    assert (tmp_path / "job-3.tar.gz").exists()
    assert (tmp_path / "job-4.zip").exists()


def test_unusable_member_of_an_archive_is_named_with_its_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    datagen.write_many(tmp_path / "data", 2, root="/r", sources=2)
    (tmp_path / "data" / ".coverage.x.pid1.Xabcdefx").write_bytes(b"junk" * 50)
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        for f in (tmp_path / "data").iterdir():
            zf.write(f, f"d/{f.name}")
    (tmp_path / ".coveragerc").write_text(RC)
    assert main(["combine", "a.zip"]) == 0
    out = capsys.readouterr().out
    warning = next(line for line in out.splitlines() if line.startswith("covhook: skipped"))
    assert "a.zip:d/.coverage.x.pid1.Xabcdefx" in warning
    assert len(describe(tmp_path / ".coverage")["files"]) == 2


def test_broken_archive_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cut.tar.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated")
    (tmp_path / ".coveragerc").write_text(RC)
    assert main(["combine", "cut.tar.gz"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("covhook: error: cannot read the archive 'cut.tar.gz'")
    assert "Fix:" in err
    assert len(err.splitlines()) == 1


def test_archive_cannot_write_outside_its_directory(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "evil.tar", "w") as tar:
        src = datagen.write_process(tmp_path / "x", 0, root="/r", sources=1)
        tar.add(src, arcname="../../.coverage.evil.pid1.Xaaaaaax")
        tar.add(src, arcname="ok/.coverage.fine.pid2.Xbbbbbbx")
    (tmp_path / ".coveragerc").write_text(RC)
    assert main(["combine", "evil.tar"]) == 0
    assert not (tmp_path.parent / ".coverage.evil.pid1.Xaaaaaax").exists()
    assert len(describe(tmp_path / ".coverage")["files"]) == 1


def read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def combine_with_stderr(tmp_path: Path, tty: bool, workers: str = "1") -> str:
    env = {**os.environ, "COVHOOK_PROGRESS_AFTER": "0", "COVHOOK_COMBINE_WORKERS": workers}
    if not tty:
        done = processes.run([BIN / "covhook", "combine"], tmp_path, env)
        assert done.returncode == 0
        return done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "covhook"), "combine"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    text = read_all(master).decode()
    os.close(master)
    assert proc.wait() == 0
    return text


@pytest.mark.parametrize("workers", ["1", "2"], ids=["one-process", "two-processes"])
@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_progress_bar_on_a_terminal_only(tmp_path: Path, tty: bool, workers: str) -> None:
    """The bar counts files read in worker processes too."""
    datagen.write_many(tmp_path, 80, root="/r", sources=3)
    (tmp_path / ".coveragerc").write_text(RC)
    err = combine_with_stderr(tmp_path, tty, workers)
    if tty:
        assert "covhook: combining [" in err
        assert "80/80 files" in err
        assert "files/s, ETA" in err
    else:
        assert "combining" not in err
    assert len(describe(tmp_path / ".coverage")["files"]) == 3
