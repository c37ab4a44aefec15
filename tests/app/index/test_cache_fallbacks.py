"""The cache folder when things go wrong: a full disk (a real small tmpfs where the
machine allows), a read-only or network folder, two windows on one topic."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from evfactory import random_events

from app.index import storage
from app.index import store_files as files
from app.index.storage import DiskFullError
from app.index.store import load_or_new, release, save
from app.index.topic_index import ReadOnlyIndexError

CLUSTER = "cluster-F"


@contextlib.contextmanager
def _mounted(folder: Path, options: str) -> Iterator[bool]:
    """A tmpfs at ``folder`` (True), or nothing when this machine does not allow it."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, check=False)  # fmt: skip
    try:
        yield done.returncode == 0
    finally:
        if done.returncode == 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 3 MiB filesystem: a real tmpfs when mounting is allowed (root, as here and in
    CI), else writes that fail with ENOSPC past 3 MiB at the write layer."""
    folder = tmp_path / "small"
    with _mounted(folder, "size=3m") as real:
        if not real:
            written = [0]
            original = storage.write_at

            def limited(fd: int, data: memoryview, offset: int) -> int:
                written[0] += len(data)
                if written[0] > 3 * 2**20:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return original(fd, data, offset)

            monkeypatch.setattr(storage, "write_at", limited)
            import app.index.mapped as mapped

            monkeypatch.setattr(mapped, "write_at", limited)
        yield folder


def test_a_full_disk_stops_the_build_and_keeps_the_last_saved_index(small_disk: Path) -> None:
    events = random_events(60_000, seed=5, partitions=3, aggregates=200)
    index, note = load_or_new(CLUSTER, "t", cache_dir=small_disk)
    assert note is None and index.persistent
    index.append(events[:2000])
    save(index, small_disk)
    with pytest.raises(DiskFullError, match="disk holding the index cache is full"):
        for i in range(2000, len(events), 1000):
            index.append(events[i : i + 1000])
    # A batch lands whole or not at all: the index in memory is still consistent.
    rows = len(index)
    assert 2000 <= rows < len(events) and rows % 1000 == 0
    assert index.event(rows - 1).offset == events[rows - 1].offset
    release(index)
    back, note = load_or_new(CLUSTER, "t", cache_dir=small_disk)
    assert note is None and len(back) == 2000  # the last saved index, checksums and all
    assert [back.event(r).value for r in range(0, 2000, 97)] == [
        events[r].value for r in range(0, 2000, 97)
    ]


def test_a_read_only_cache_folder_gives_an_index_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    with _mounted(folder, "ro,size=1m") as real:
        if not real:
            folder.chmod(0o555)  # a plain user cannot write there (root could)
        index, note = load_or_new(CLUSTER, "t", cache_dir=folder)
    assert not index.persistent
    assert note is not None and "cannot be written" in note and "in memory" in note
    index.append(random_events(100))
    assert len(index) == 100


def test_a_network_filesystem_gives_an_index_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No NFS server here: the mount table is what is asked, so it is what is stood in for.
    monkeypatch.setattr(files, "filesystem_type", lambda path: "nfs4")
    index, note = load_or_new(CLUSTER, "t", cache_dir=tmp_path)
    assert not index.persistent and note is not None and "network filesystem (nfs4)" in note


def test_the_mount_table_is_read() -> None:
    assert files.filesystem_type(Path("/proc")) == "proc"


def test_two_windows_one_writes_the_other_shows_the_last_saved_state(tmp_path: Path) -> None:
    events = random_events(500, seed=9)
    first, note = load_or_new(CLUSTER, "t", cache_dir=tmp_path)
    assert note is None
    first.append(events[:300])
    save(first, tmp_path)
    first.append(events[300:])  # not saved yet
    second, note = load_or_new(CLUSTER, "t", cache_dir=tmp_path)
    assert second.read_only and len(second) == 300
    assert note is not None and "another window" in note and "300 events" in note
    with pytest.raises(ReadOnlyIndexError):
        second.append(events[:1])
    assert second.event(299) == first.event(299)
    save(first, tmp_path)
    assert len(second) == 300  # it keeps showing what it opened
    release(first)
    third, note = load_or_new(CLUSTER, "t", cache_dir=tmp_path)
    assert note is None and not third.read_only and len(third) == 500


def test_a_lock_this_process_lets_go_of_is_waited_for(tmp_path: Path) -> None:
    # A topic opened again at once: the replaced read lets go in a moment, and the new
    # one writes the index instead of falling back to the last saved state.
    first, _ = load_or_new(CLUSTER, "t", cache_dir=tmp_path)
    threading.Timer(0.3, first.lock.release).start()
    second, note = load_or_new(CLUSTER, "t", cache_dir=tmp_path)
    assert note is None and not second.read_only and second.persistent
    release(second)
