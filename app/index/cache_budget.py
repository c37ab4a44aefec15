"""The cache folder as a whole: what it holds, and a size budget kept by evicting the
least recently used indexes.

Every save checks the budget (``EVENT_EXPLORER_CACHE_BUDGET``, e.g. ``20G`` or ``500M``;
20 GiB by default) and, while the folder is over it or its disk has less than 1 GiB
free, deletes the index used longest ago.  An index some window holds (its lock is
taken) is never evicted, nor the one just saved.  "Used" is when an index was last
opened for writing (the lock file's time) or saved.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from app.index.store_files import (
    LOCK,
    META,
    TopicLock,
    default_cache_dir,
    disk_bytes,
    is_locked,
    read_meta,
)
from app.index.store_files import CacheError as _CacheError

DEFAULT_BUDGET = 20 * 2**30
MIN_FREE = 2**30
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


@dataclass
class CachedTopic:
    folder: Path
    cluster_id: str
    topic: str
    rows: int
    disk_bytes: int
    last_used_s: float
    in_use: bool
    window: str | None = None  # what part of the topic it holds, if not all
    problem: str | None = None  # why its meta cannot be read


def parse_size(text: str) -> int:
    """``20G``, ``500M``, ``1.5T`` or a number of bytes."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)I?B?\s*", text.upper())
    if m is None:
        raise ValueError(f"not a size: {text!r} (say 20G, 500M or a number of bytes)")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def budget_bytes() -> int:
    raw = os.environ.get("EVENT_EXPLORER_CACHE_BUDGET")
    return parse_size(raw) if raw else DEFAULT_BUDGET


def list_cached(cache_dir: Path | None = None) -> list[CachedTopic]:
    """Every topic folder under the cache root, most recently used first."""
    root = cache_dir or default_cache_dir()
    found = []
    for folder in sorted(root.glob("*/*")):
        if not folder.is_dir() or not ((folder / META).exists() or (folder / LOCK).exists()):
            continue
        found.append(_describe(folder))
    return sorted(found, key=lambda c: c.last_used_s, reverse=True)


def _describe(folder: Path) -> CachedTopic:
    problem = None
    try:
        meta = read_meta(folder) or {}
    except _CacheError as exc:
        meta, problem = {}, str(exc)
    stamps = []
    for name in (LOCK, META):
        with contextlib.suppress(OSError):
            stamps.append((folder / name).stat().st_mtime)
    window = meta.get("window")
    spec = window.get("spec") if isinstance(window, dict) else None
    return CachedTopic(
        folder=folder,
        cluster_id=str(meta.get("cluster_id", "?")),
        topic=str(meta.get("topic", folder.name.rsplit("-", 1)[0])),
        rows=int(meta.get("rows", 0) or 0),
        disk_bytes=disk_bytes(folder),
        last_used_s=max(stamps, default=0.0),
        in_use=is_locked(folder),
        window=f"{spec.get('kind')}={spec.get('value')}" if isinstance(spec, dict) else None,
        problem=problem,
    )


def remove(entry: CachedTopic) -> bool:
    """Delete one cached index whole; False (nothing deleted) when a window uses it."""
    lock = TopicLock(entry.folder)
    try:
        if not lock.try_acquire(touch=False):
            return False
    except OSError:
        return False
    try:
        for path in entry.folder.iterdir():
            if path.name == LOCK:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
        with contextlib.suppress(OSError):
            (entry.folder / LOCK).unlink()  # still holding it: no one can take it meanwhile
    finally:
        lock.release()
    with contextlib.suppress(OSError):
        entry.folder.rmdir()
        entry.folder.parent.rmdir()  # the cluster's folder, when it was its last topic
    return True


def enforce_budget(
    cache_dir: Path | None = None, *, keep: Path | None = None, budget: int | None = None
) -> list[CachedTopic]:
    """Evict least recently used indexes until the folder fits; returns the evicted."""
    root = cache_dir or default_cache_dir()
    limit = budget_bytes() if budget is None else budget
    entries = list_cached(root)
    total = sum(e.disk_bytes for e in entries)
    evicted = []
    for entry in reversed(entries):  # least recently used first
        if total <= limit and _free_bytes(root) >= MIN_FREE:
            break
        if entry.in_use or (keep is not None and entry.folder == keep):
            continue
        if remove(entry):
            total -= entry.disk_bytes
            evicted.append(entry)
    return evicted


def _free_bytes(root: Path) -> int:
    try:
        return shutil.disk_usage(root).free
    except OSError:
        return MIN_FREE


def clear(
    cache_dir: Path | None = None, *, cluster: str | None = None, topic: str | None = None
) -> tuple[list[CachedTopic], list[CachedTopic]]:
    """Delete the cached indexes matching ``cluster``/``topic`` (all when both are None);
    returns (removed, kept because a window uses them)."""
    removed: list[CachedTopic] = []
    busy: list[CachedTopic] = []
    for entry in list_cached(cache_dir):
        if cluster is not None and entry.cluster_id != cluster:
            continue
        if topic is not None and entry.topic != topic:
            continue
        (removed if remove(entry) else busy).append(entry)
    return removed, busy
