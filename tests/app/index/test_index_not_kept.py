"""An index that must not be kept (a profile's masking forbids unmasked values on disk)
still lives in mapped files, which have no name anywhere; and an index that let go of
its lock after a save takes it back to keep growing (following), unless another window
saved the topic meanwhile.  Against the real broker."""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from evfactory import random_events
from kafka_helpers import BASE_MS, Rec, produce

from app.index.private_storage import PrivateStorage
from app.index.store import CacheError, load_or_new, release, save
from app.index.topic_cache import let_go, open_topic
from app.index.topic_index import ReadOnlyIndexError
from app.sources import ClusterSource
from kafka_io.event import Event
from kafka_io.profile import ConnectionProfile

SECRET = b"4929-1234-5678-9012"  # stands in for a value a profile masks


def _records(n: int) -> list[Rec]:
    return [
        Rec(
            f'{{"eventType":"Paid","aggregateId":"a{i % 7}","card":"{SECRET.decode()}",'
            f'"i":{i}}}'.encode(),
            f"a{i % 7}".encode(),
            i % 3,
            BASE_MS + i,
        )
        for i in range(n)
    ]


def _files_holding(folder: Path, needle: bytes) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _open_deleted_files() -> list[str]:
    """This process's open files that have no name any more (Linux)."""
    fd_dir = Path("/proc/self/fd")
    found = []
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if "event-explorer-" in target and target.endswith("(deleted)"):
            found.append(target)
    return found


@pytest.mark.kafka
def test_an_index_not_kept_leaves_nothing_in_the_cache_folder(
    kafka_bootstrap: str,
    make_topic: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    topic = make_topic(partitions=3)
    produce(kafka_bootstrap, topic, _records(3000))
    scratch, cache = tmp_path / "scratch", tmp_path / "cache"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    others = set(_open_deleted_files())  # of indexes other tests of this process left
    for workers in (0, 2):  # this thread, and worker processes
        cached = open_topic(source, topic, cache_dir=cache, workers=workers, keep_index=False)
        index = cached.index
        assert len(index) == 3000 and cached.reused == 0
        assert SECRET in (index.value_of(2999) or b"")
        # The values live in files (not this process's memory) that have no name.
        assert isinstance(index._storage, PrivateStorage)
        assert index._values.private_bytes == 0
        assert list(scratch.iterdir()) == []
        assert len(set(_open_deleted_files()) - others) >= 10
        assert not cache.exists() or _files_holding(cache, SECRET) == []
        with pytest.raises(CacheError, match="must not be kept"):
            save(index, cache)
        index._storage.close()
        del index, cached
    gc.collect()
    assert set(_open_deleted_files()) - others == set()
    assert not cache.exists() or _files_holding(cache, SECRET) == []
    # Nothing was stored: an open that may keep the index reads the whole topic.
    kept = open_topic(source, topic, cache_dir=cache, workers=0)
    assert kept.reused == 0 and kept.read == 3000
    assert _files_holding(cache, SECRET) != []  # which is what this test looks for


def test_an_index_grows_after_its_save_unless_another_saved_meanwhile(tmp_path: Path) -> None:
    events = random_events(400, seed=4)
    first, _ = load_or_new("c", "t", cache_dir=tmp_path)
    first.append(events[:100])
    save(first, tmp_path)
    let_go(first)  # what a finished read does: another window may write now
    assert first.read_only and first.lock is None
    first.append(events[100:150])  # following: the lock is taken back
    assert len(first) == 150 and not first.read_only
    save(first, tmp_path)
    let_go(first)
    other, note = load_or_new("c", "t", cache_dir=tmp_path)
    assert note is None and len(other) == 150 and not other.read_only
    other.append(events[150:200])
    save(other, tmp_path)
    release(other)
    # Another window saved after ``first`` let go: the files now hold that save.
    with pytest.raises(ReadOnlyIndexError):
        first.append(events[200:201])
    with pytest.raises(CacheError, match="another window"):
        save(first, tmp_path)
    assert len(first) == 150
    again, _ = load_or_new("c", "t", cache_dir=tmp_path)
    assert len(again) == 200

    def seen(e: Event) -> tuple[int, int, bytes | None]:
        return (e.partition, e.offset, e.value)

    assert [seen(again.event(r)) for r in range(200)] == [seen(e) for e in events[:200]]
