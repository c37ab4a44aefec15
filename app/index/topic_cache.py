"""Opening a topic through its persisted index: read only what is new.

The stored index (see ``app.index.store``) is checked against the topic's watermarks
and the first and last record of each partition; a truncated, deleted-and-recreated,
corrupt or foreign cache is rebuilt, never trusted.  Then only the offsets past what
was stored are read, appended and saved.  The CLI calls ``open_topic``; the GUI runs
the three steps (``plan_topic`` in a worker, the read streamed to its own thread,
``finish_topic`` in a worker) so that its table can show the stored rows while the new
ones arrive.

The read of a cluster topic is ``build_plan``: column batches in log order, read by
worker processes when there is much to read (``app.index.build``).  ``read_plan`` gives
the same records as Events, for callers that want Events.  A plan may hold only a
window of the topic (``app.index.window``): the last hours or days, from a time, or the
last N events per partition.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from app.index.build import BuildRead, auto_workers
from app.index.catch_up import fingerprint_offsets, reconcile, start_over
from app.index.mapped import FileStorage
from app.index.private_storage import private_storage
from app.index.retry import redecode_transient
from app.index.storage import DiskFullError, MemoryStorage, release_free_memory
from app.index.store import drop, load_or_new, read_meta_quietly, save
from app.index.store_files import CacheError, TopicLock
from app.index.topic_index import TopicIndex
from app.index.window import Window, WindowSpec, window_of
from app.index.window_plan import window_starts
from app.sources import ClusterSource, Read, Source, SourceSettings
from app.sources.base import ProgressCallback, ReadReport
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import PartitionInfo
from kafka_io.reader import PartitionRange
from kafka_io.worker_pool import shared_pool

BatchCallback = Callable[[Sequence[Event]], None]


@runtime_checkable
class CachedSource(Source, Protocol):
    """A source whose topics have watermarks, so a stored index can be caught up (a
    cluster; a file is simply read again)."""

    def clone(self, settings: SourceSettings | None = None) -> CachedSource: ...

    def cache_identity(self) -> str:
        """What, besides a topic's settings, changes the records an index holds."""
        ...

    def partitions(self, topic: str) -> tuple[PartitionInfo, ...]: ...

    def read_ranges(
        self,
        topic: str,
        ranges: list[PartitionRange],
        *,
        cancel: CancelToken | None = None,
        on_progress: ProgressCallback | None = None,
        decoder: Decoder | None = None,
    ) -> Read: ...


@dataclass
class TopicPlan:
    """A trusted (or fresh) index and what must still be read into it."""

    index: TopicIndex
    ranges: list[PartitionRange]
    watermarks: dict[int, tuple[int, int]]
    signature: str
    note: str | None  # why a stored index was discarded, or why it will not be saved
    persist: bool = True  # False: nothing is loaded from or saved to disk (masking)

    @property
    def reused(self) -> int:
        return len(self.index)

    @property
    def window(self) -> Window | None:
        """The part of the topic the index holds, when it is not all of it."""
        return window_of(self.index)


@dataclass
class CachedRead:
    index: TopicIndex
    read: int  # events read from the cluster this time
    reused: int  # events that came from the stored index
    note: str | None
    report: ReadReport


def signature_of(source: CachedSource, topic: str) -> str:
    """Everything that decides what the stored rows are: how values are decoded (the
    topic's settings, the schema registry) and which records are visible (the isolation
    level).  Another signature means another index, never a mix."""
    return f"{source.settings.for_topic(topic).signature()}|{source.cache_identity()}"


def _probe_records(
    source: CachedSource, topic: str, offsets: dict[int, list[int]]
) -> dict[tuple[int, int], Event | None]:
    """The records now at the stored first and last offsets (None where one is gone)."""
    wanted = {(p, off) for p, offs in offsets.items() for off in offs}
    if not wanted:
        return {}
    found: dict[tuple[int, int], Event | None] = dict.fromkeys(wanted)
    # One range per partition from its first to its last probe would read everything
    # between; two one-record reads per partition are what is needed, the two passes at
    # once (each on its own clone of the source: a consumer per thread).
    firsts = {p: offs[0] for p, offs in offsets.items()}
    lasts = {p: offs[-1] for p, offs in offsets.items() if len(offs) > 1}

    def probe(pass_offsets: dict[int, int]) -> list[Event]:
        ranges = [PartitionRange(p, off, off + 1) for p, off in pass_offsets.items()]
        return list(source.clone().read_ranges(topic, ranges).events()) if ranges else []

    with ThreadPoolExecutor(2, thread_name_prefix="probe") as pool:
        for events in pool.map(probe, (firsts, lasts)):
            for ev in events:
                found[(ev.partition, ev.offset)] = ev
    return found


def plan_topic(
    source: CachedSource,
    topic: str,
    cache_dir: Path | None = None,
    *,
    window: WindowSpec | None = None,
    persist: bool = True,
) -> TopicPlan:
    """Load the stored index if it can be trusted and say which offsets are new.

    ``window``: read only part of the topic (None or "everything": all of it).  A stored
    index that already holds the window (or the whole topic) is reused; one that starts
    later than the window asks for is read again.  The stored index's checksums are
    checked in the background (``plan.index.verification``); ``finish_topic`` refuses
    to save over a damaged one and ``open_topic`` waits for the check.

    ``persist=False``: no stored index is read or written (a profile whose masking
    forbids keeping unmasked values on disk); the index lives in files that have no
    name (``app.index.private_storage``) and vanish with it.
    """
    signature = signature_of(source, topic)
    if not persist:
        return _private_plan(source, topic, signature, window)
    index, note = load_or_new(
        source.identity, topic, source.make_decoder(), cache_dir=cache_dir,
        signature=signature, wait_for_checksums=False,
    )  # fmt: skip
    marks = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
    if index.read_only:
        return TopicPlan(index, [], marks, signature, note)
    probes = _probe_records(source, topic, fingerprint_offsets(index)) if len(index) else None
    caught = reconcile(index, marks, probes, cache_dir=cache_dir)
    index, plan, note = caught.index, caught.plan, caught.rebuilt or note
    starts: dict[int, int] | None = None
    if window is not None and not window.everything and isinstance(source, ClusterSource):
        starts = window_starts(source, topic, window, marks)
    held = window_of(index)
    if len(index) and starts is not None and held is not None and not held.covers(starts):
        index, note = start_over(index, cache_dir), "the stored index starts after the window"
    elif len(index) and starts is None and held is not None:
        index, note = start_over(index, cache_dir), f"the stored index held {held.describe()}"
    if len(index) == 0:
        plan = {p: low for p, (low, high) in marks.items() if low < high}
        _set_window(index, window, starts, marks)
    if len(index):
        redecode_transient(index, source.make_decoder())
    return TopicPlan(index, _ranges(index, plan, marks), marks, signature, note)


def _private_plan(
    source: CachedSource, topic: str, signature: str, window: WindowSpec | None
) -> TopicPlan:
    marks = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
    storage = private_storage() or MemoryStorage()
    index = TopicIndex(topic, source.make_decoder(), cluster_id=source.identity, storage=storage)
    starts = None
    if window is not None and not window.everything and isinstance(source, ClusterSource):
        starts = window_starts(source, topic, window, marks)
    _set_window(index, window, starts, marks)
    plan = {p: low for p, (low, high) in marks.items() if low < high}
    return TopicPlan(index, _ranges(index, plan, marks), marks, signature, None, persist=False)


def _set_window(
    index: TopicIndex,
    window: WindowSpec | None,
    starts: dict[int, int] | None,
    marks: dict[int, tuple[int, int]],
) -> None:
    if starts is not None:
        lows = {p: low for p, (low, _high) in marks.items()}
        index.window = Window(window or WindowSpec(), dict(starts), lows)


def _ranges(
    index: TopicIndex, plan: dict[int, int], marks: dict[int, tuple[int, int]]
) -> list[PartitionRange]:
    win = index.window if isinstance(index.window, Window) else None
    if win is not None:
        plan = {p: max(s, win.starts.get(p, s)) for p, s in plan.items()}
    return [
        PartitionRange(p, start, marks[p][1])
        for p, start in sorted(plan.items())
        if start < marks[p][1]
    ]


def read_plan(
    source: CachedSource,
    plan: TopicPlan,
    *,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> Read:
    """The offsets the plan still needs, as Events (the caller appends them)."""
    return source.read_ranges(plan.index.topic, plan.ranges, cancel=cancel, on_progress=on_progress)


def build_plan(
    source: CachedSource,
    plan: TopicPlan,
    *,
    workers: int | None = None,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> BuildRead | Read:
    """The offsets the plan still needs, as column batches in log order, read by
    ``workers`` processes (None: as many as worth it; 0: this thread).  Append each
    batch with ``plan.index.append_columns``.  A source that is not a cluster gives
    Events (``read_plan``); append those with ``plan.index.append``."""
    if not isinstance(source, ClusterSource):
        return read_plan(source, plan, cancel=cancel, on_progress=on_progress)
    return BuildRead(
        source, plan.index.topic, plan.ranges, max_ts=dict(plan.index._book.max_ts),
        workers=workers, cancel=cancel, on_progress=on_progress,
    )  # fmt: skip


def finish_topic(
    plan: TopicPlan, report: ReadReport | None = None, cache_dir: Path | None = None
) -> None:
    """After a read: record how far each partition really got and save the index.

    With the read's ``report``, a partition is marked done only up to where the read
    reached (an open transaction stops it at its last stable offset; a read cut short
    stops where it stopped), so nothing committed later is ever skipped.  Without one
    (no read was needed), the planned ranges' ends.  An index that lives in memory (the
    cache folder cannot be used), that must not be kept (``plan.persist``) or is
    another window's is not saved.
    """
    index = plan.index
    if index.read_only:
        return
    planned = {r.partition: r.end for r in plan.ranges}
    for p, (low, high) in plan.watermarks.items():
        if report is not None and p in planned:
            reached = report.reached.get(p)
            if reached is None:
                continue  # not read at all: the next open reads it
            index.mark_position(p, min(reached, planned[p]), low)
        else:
            index.mark_position(p, high, low)
    if not plan.persist or not index.persistent:
        return
    verification = index.verification
    if verification is not None and index.damaged is None:
        index.damaged = verification.wait()
    save(index, cache_dir, signature=plan.signature)
    let_go(index)
    release_free_memory()


def let_go(index: TopicIndex) -> None:
    """The index is saved (or abandoned): let another window or run write the topic's
    index.  This one keeps showing what it holds, and no longer grows."""
    lock = index.lock
    if lock is not None and not index.read_only:
        index.read_only = True
        index.lock = None
        storage = index._storage
        if isinstance(storage, FileStorage):
            index.reclaim = _reclaimer(index, storage.folder.parent)
        lock.release()


def _reclaimer(index: TopicIndex, folder: Path) -> Callable[[], bool]:
    """Take the topic's lock back for ``index`` (following appends to it), unless
    another window or run saved the topic meanwhile: its files then hold that save."""
    saved = read_meta_quietly(folder)
    once = threading.Lock()  # an append (GUI thread) and a save (worker) may both ask

    def reclaim() -> bool:
        with once:
            if not index.read_only:
                return True
            lock = TopicLock(folder)
            # Held here, it is the cache listing's probe: wait for it, not for a window.
            if not lock.acquire(own_wait_s=0.25):
                return False
            if read_meta_quietly(folder) != saved:
                lock.release()
                return False
            index.lock, index.read_only = lock, False
            return True

    return reclaim


def warm_workers(source: ClusterSource, topic: str, workers: int | None = None) -> int:
    """Start the worker processes a whole read of ``topic`` would use (they take about a
    second to start); returns how many.  Harmless when the read turns out small."""
    ranges = [PartitionRange(p.partition, p.low, p.high) for p in source.partitions(topic)]
    count = auto_workers(ranges) if workers is None else workers
    if count > 0:
        shared_pool().warm(count)
    return count


def open_topic(
    source: CachedSource,
    topic: str,
    *,
    cache_dir: Path | None = None,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    persist: bool = True,
    workers: int | None = None,
    window: WindowSpec | None = None,
    keep_index: bool = True,
) -> CachedRead:
    """The topic's index, brought up to the watermarks seen now, and saved again.

    A cancelled read is not saved; a read cut short is saved up to where each partition
    got, so the next open reads only the rest.  A stored index whose checksums do not
    match is discarded and the topic read again.  ``persist=False``: the result is not
    saved; ``keep_index=False``: no stored index is used or kept at all (masking).
    """
    if workers != 0 and isinstance(source, ClusterSource):
        warm_workers(source, topic, workers)  # they start while the stored index is checked
    plan = plan_topic(source, topic, cache_dir, window=window, persist=keep_index)
    verification = plan.index.verification
    damage = verification.wait() if verification is not None else None
    if damage is not None:
        drop(plan.index, cache_dir)
        plan = plan_topic(source, topic, cache_dir, window=window)
        plan.note = f"stored index discarded: {damage}"
    reused = plan.reused
    read = build_plan(source, plan, workers=workers, cancel=cancel, on_progress=on_progress)
    try:
        if isinstance(read, BuildRead):
            for columns in read:
                plan.index.append_columns(columns)
        else:
            for batch in read:
                plan.index.append(batch)
    except DiskFullError as exc:
        # The rows appended so far stay usable here; the saved index stays as it was.
        close = getattr(read, "close", None)
        read.report.incomplete = f"{exc.strerror}: the index was not saved"
        if close is not None:
            close()
        let_go(plan.index)
        return CachedRead(plan.index, read.report.events, reused, plan.note, read.report)
    if persist and not read.report.cancelled:
        try:
            finish_topic(plan, read.report, cache_dir)
        except CacheError as exc:
            plan.note = f"{plan.note}; {exc}" if plan.note else str(exc)
    let_go(plan.index)
    return CachedRead(plan.index, read.report.events, reused, plan.note, read.report)


def save_followed(
    source: CachedSource,
    index: TopicIndex,
    positions: Mapping[int, int],
    cache_dir: Path | None = None,
) -> None:
    """Save an index that following has been appending to, up to where it got: the
    next open reads only what arrived after."""
    for p, next_offset in positions.items():
        index.mark_position(p, next_offset)
    if index.persistent and not index.read_only:
        save(index, cache_dir, signature=signature_of(source, index.topic))
