"""Persisting a TopicIndex per cluster + topic: the saved files are its working form.

An index opened for writing (``load_or_new``) holds the topic's lock and keeps its
columns in files of one generation folder (``app.index.storage``): appends go straight
to them, and queries and replays read them through memory maps.  ``save`` only has to
checksum what was appended since the last save and atomically replace ``meta.json``,
which lists each file with the bytes it holds at that moment; anything written past
those sizes (a build stopped by a full disk, a crash) is not part of the saved index
and is overwritten by the next append.  Saved bytes are never written in place: a
column changed in place is copied first (``FileColumn.put``), so another window reading
the last saved generation is never disturbed.

A cache is never trusted blindly: ``load`` refuses (CacheError) a meta that is
unreadable, of another format version, cluster, topic or decoding rules
(``signature``), files that are missing or shorter than listed, positions whose
checksum differs, and columns that are inconsistent (``app.index.validate``).  The
checksums of every byte are checked in the background (``index.verification``); a
damaged index is never saved over, and ``app.index.topic_cache`` rebuilds it.  Whether
the topic itself still matches is ``app.index.catch_up``'s question.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any

from app.index.cache_budget import enforce_budget
from app.index.columns import ValueDecoder
from app.index.mapped import FileStorage
from app.index.storage import MemoryStorage
from app.index.store_files import (
    FORMAT_VERSION,
    META,
    CacheError,
    TopicLock,
    default_cache_dir,
    index_dir,
    prune,
    read_meta,
    token,
    unusable_reason,
)
from app.index.store_open import open_saved
from app.index.store_write import commit, write_copy
from app.index.topic_index import TopicIndex

__all__ = [
    "FORMAT_VERSION",
    "CacheError",
    "default_cache_dir",
    "discard",
    "index_dir",
    "load",
    "load_or_new",
    "save",
]

_commit_lock = threading.Lock()


# ---------------------------------------------------------------------- saving


def save(index: TopicIndex, cache_dir: Path | None = None, *, signature: str = "") -> Path:
    """Save ``index`` atomically; returns its folder.  ``signature`` names the decoding
    rules the index was built with (a later load with other rules rebuilds)."""
    folder = index_dir(index.cluster_id, index.topic, cache_dir)
    if getattr(index._storage, "private", False):
        raise CacheError("not saved: this index must not be kept on disk")
    if index.read_only and not (index.reclaim is not None and index.reclaim()):
        raise CacheError("not saved: another window writes this topic's index")
    if index.damaged is not None:
        discard(index.cluster_id, index.topic, cache_dir, lock=index.lock)
        raise CacheError(f"not saved: the stored index was damaged ({index.damaged})")
    storage = index._storage
    if isinstance(storage, FileStorage) and storage.folder.parent == folder:
        if storage.read_only:
            raise CacheError("not saved: another window writes this topic's index")
        with _commit_lock:
            commit(index, folder, signature)
        enforce_budget(cache_dir, keep=folder)
        return folder
    lock = TopicLock(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if not lock.try_acquire():
        raise CacheError("not saved: another window writes this topic's index")
    try:
        write_copy(index, folder, signature)
    finally:
        lock.release()
    enforce_budget(cache_dir, keep=folder)
    return folder


def discard(
    cluster_id: str, topic: str, cache_dir: Path | None = None, *, lock: TopicLock | None = None
) -> bool:
    """Delete a stored index (no error if there is none).  The topic's lock file stays:
    whoever holds it keeps holding it.  Without ``lock`` (held by the caller) the lock
    is taken first; False when another process holds it (nothing is deleted)."""
    folder = index_dir(cluster_id, topic, cache_dir)
    if not folder.exists():
        return True
    mine = lock if lock is not None and lock.held else TopicLock(folder)
    if not mine.held and not mine.try_acquire(touch=False):
        return False
    try:
        with contextlib.suppress(OSError):
            (folder / META).unlink()
        prune(folder, None)
    finally:
        if mine is not lock:
            mine.release()
    return True


# ---------------------------------------------------------------------- loading


def load(
    cluster_id: str,
    topic: str,
    decoder: ValueDecoder | None = None,
    *,
    cache_dir: Path | None = None,
    signature: str = "",
) -> TopicIndex | None:
    """The stored index, None if there is none; CacheError if it cannot be trusted.

    It is opened for writing when the topic's lock is free (``index.lock``), else
    read-only (``index.read_only``: another window writes it)."""
    folder = index_dir(cluster_id, topic, cache_dir)
    if not (folder / META).exists():
        return None
    lock = TopicLock(folder)
    writable = lock.try_acquire()
    index = open_saved(folder, cluster_id, topic, decoder, signature, writable)
    if index is not None and writable:
        index.lock = lock
    return index


def load_or_new(
    cluster_id: str,
    topic: str,
    decoder: ValueDecoder | None = None,
    *,
    cache_dir: Path | None = None,
    signature: str = "",
    wait_for_checksums: bool = True,
) -> tuple[TopicIndex, str | None]:
    """The stored index if it can be trusted, else a new empty one, and a note.

    ``wait_for_checksums``: check every byte before returning (else the check runs in
    the background: ``index.verification``; see ``app.index.topic_cache``).

    The index lives in files of the cache folder and holds the topic's lock.  A stored
    index that cannot be trusted is deleted (the note says why).  When another window
    holds the lock, the last saved index is opened read-only; when the cache folder
    cannot be used (read-only, a network filesystem), the index lives in memory.  The
    note says so in both cases.
    """
    root = cache_dir or default_cache_dir()
    why_not = unusable_reason(root)
    folder = index_dir(cluster_id, topic, cache_dir)
    if why_not is None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why_not = f"the cache folder {root} cannot be written ({exc.strerror or exc})"
    if why_not is not None:
        fresh = TopicIndex(topic, decoder, cluster_id=cluster_id, storage=MemoryStorage())
        return fresh, f"{why_not}: this topic is indexed in memory and not saved"
    lock = TopicLock(folder)
    if not lock.acquire():
        return _read_only(folder, cluster_id, topic, decoder, signature)
    note = None
    try:
        index = open_saved(folder, cluster_id, topic, decoder, signature, writable=True)
        damage = index.verification.wait() if index is not None and wait_for_checksums else None
        if damage is not None:
            assert index is not None
            release(index, keep_lock=True)
            raise CacheError(damage)
    except CacheError as exc:
        discard(cluster_id, topic, cache_dir, lock=lock)
        index, note = None, f"stored index discarded: {exc}"
    if index is None:
        index = new_live(folder, topic, decoder, cluster_id)
    index.lock = lock
    return index, note


def new_live(folder: Path, topic: str, decoder: ValueDecoder | None, cluster_id: str) -> TopicIndex:
    """An empty index whose columns are files of a new generation in ``folder``."""
    prune(folder, read_meta_quietly(folder))
    gen = token()
    gen_dir = folder / f"gen-{gen}"
    gen_dir.mkdir(parents=True)
    storage = FileStorage(gen_dir, fresh=gen)
    return TopicIndex(topic, decoder, cluster_id=cluster_id, storage=storage)


def read_meta_quietly(folder: Path) -> dict[str, Any] | None:
    try:
        return read_meta(folder)
    except CacheError:
        return None


def _read_only(
    folder: Path, cluster_id: str, topic: str, decoder: ValueDecoder | None, signature: str
) -> tuple[TopicIndex, str | None]:
    busy = "another window is updating this topic's index"
    try:
        index = open_saved(folder, cluster_id, topic, decoder, signature, writable=False)
    except CacheError as exc:
        index = None
        busy = f"{busy}, and its last saved state cannot be used ({exc})"
    if index is None:
        fresh = TopicIndex(topic, decoder, cluster_id=cluster_id, storage=MemoryStorage())
        return fresh, f"{busy}: this window reads the topic into memory"
    return index, f"{busy}: showing its last saved state ({len(index):,} events)"


def release(index: TopicIndex, *, keep_lock: bool = False) -> None:
    """Give up the index's files and the topic's lock (the index must not be used
    after).  ``keep_lock``: the caller goes on with another index of the topic."""
    lock = index.lock
    if isinstance(lock, TopicLock) and not keep_lock:
        lock.release()
    storage = index._storage
    if isinstance(storage, FileStorage):
        storage.close()


def drop(index: TopicIndex, cache_dir: Path | None = None) -> None:
    """Delete ``index``'s stored copy and let go of it (files and lock)."""
    lock = index.lock
    release(index, keep_lock=True)
    if not index.read_only:
        discard(index.cluster_id, index.topic, cache_dir, lock=lock)
    if isinstance(lock, TopicLock):
        lock.release()


def cache_note_for(index: TopicIndex) -> str | None:
    """Why this index will not be saved, if it will not."""
    if not index.persistent:
        return "indexed in memory, not saved"
    if index.read_only:
        return "another window writes this index; showing its last saved state"
    return None


def size_on_disk(index: TopicIndex) -> int:
    storage = index._storage
    if not isinstance(storage, FileStorage):
        return 0
    total = 0
    for col in storage.files.values():
        with contextlib.suppress(OSError):
            st = os.stat(col.path)
            total += getattr(st, "st_blocks", 0) * 512 or st.st_size
    return total
