"""Opening a topic through its persisted index: read only what is new.

The stored index (see ``app.index.store``) is checked against the topic's watermarks
and the first record of each partition; a truncated, deleted-and-recreated, corrupt or
foreign cache is rebuilt, never trusted.  Then only the offsets past what was stored are
read, appended and saved.  The CLI calls ``open_topic``; the GUI runs the three steps
(``plan_topic`` in a worker, the read streamed to its own thread, ``finish_topic`` in a
worker) so that its table can show the stored rows while the new ones arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from app.index.catch_up import fingerprint_offsets, reconcile
from app.index.retry import redecode_transient
from app.index.store import load_or_new, save
from app.index.topic_index import TopicIndex
from app.sources import Read, Source, SourceSettings
from app.sources.base import ProgressCallback, ReadReport
from kafka_io.cancel import CancelToken
from kafka_io.decode import Decoder
from kafka_io.event import Event
from kafka_io.metadata import PartitionInfo
from kafka_io.reader import PartitionRange

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
    note: str | None  # why a stored index was discarded, if one was
    persist: bool = True  # False: nothing is loaded from or saved to disk (masking)

    @property
    def reused(self) -> int:
        return len(self.index)


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
    # between; two one-record reads per partition are what is needed.
    firsts = {p: offs[0] for p, offs in offsets.items()}
    lasts = {p: offs[-1] for p, offs in offsets.items() if len(offs) > 1}
    for pass_offsets in (firsts, lasts):
        ranges = [PartitionRange(p, off, off + 1) for p, off in pass_offsets.items()]
        if not ranges:
            continue
        for batch in source.read_ranges(topic, ranges):
            for ev in batch:
                found[(ev.partition, ev.offset)] = ev
    return found


def plan_topic(
    source: CachedSource, topic: str, cache_dir: Path | None = None, *, persist: bool = True
) -> TopicPlan:
    """Load the stored index if it can be trusted and say which offsets are new.

    ``persist=False``: no stored index is read or written (a profile whose masking
    forbids keeping unmasked values on disk); the whole topic is planned."""
    signature = signature_of(source, topic)
    if not persist:
        marks = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
        ranges = [PartitionRange(p, low, high) for p, (low, high) in sorted(marks.items())]
        fresh = TopicIndex(topic, source.make_decoder())
        return TopicPlan(fresh, ranges, marks, signature, None, persist=False)
    index, note = load_or_new(
        source.identity, topic, source.make_decoder(), cache_dir=cache_dir, signature=signature
    )
    marks = {p.partition: (p.low, p.high) for p in source.partitions(topic)}
    probes = _probe_records(source, topic, fingerprint_offsets(index)) if len(index) else None
    caught = reconcile(index, marks, probes, cache_dir=cache_dir)
    if len(caught.index):
        redecode_transient(caught.index, source.make_decoder())
    ranges = [PartitionRange(p, start, marks[p][1]) for p, start in sorted(caught.plan.items())]
    return TopicPlan(caught.index, ranges, marks, signature, caught.rebuilt or note)


def read_plan(
    source: CachedSource,
    plan: TopicPlan,
    *,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> Read:
    """The offsets the plan still needs (the caller appends them to ``plan.index``)."""
    return source.read_ranges(plan.index.topic, plan.ranges, cancel=cancel, on_progress=on_progress)


def finish_topic(
    plan: TopicPlan, report: ReadReport | None = None, cache_dir: Path | None = None
) -> None:
    """After a read: record how far each partition really got and save the index.

    With the read's ``report``, a partition is marked done only up to where the read
    reached (an open transaction stops it at its last stable offset; a read cut short
    stops where it stopped), so nothing committed later is ever skipped.  Without one
    (no read was needed), the planned ranges' ends.
    """
    planned = {r.partition: r.end for r in plan.ranges}
    for p, (low, high) in plan.watermarks.items():
        if report is not None and p in planned:
            reached = report.reached.get(p)
            if reached is None:
                continue  # not read at all: the next open reads it
            plan.index.mark_position(p, min(reached, planned[p]), low)
        else:
            plan.index.mark_position(p, high, low)
    if plan.persist:
        save(plan.index, cache_dir, signature=plan.signature)


def open_topic(
    source: CachedSource,
    topic: str,
    *,
    cache_dir: Path | None = None,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    persist: bool = True,
) -> CachedRead:
    """The topic's index, brought up to the watermarks seen now, and saved again.

    A cancelled read is not saved; a read cut short is saved up to where each partition
    got, so the next open reads only the rest.
    """
    plan = plan_topic(source, topic, cache_dir)
    reused = plan.reused
    read = read_plan(source, plan, cancel=cancel, on_progress=on_progress)
    for batch in read:
        plan.index.append(batch)
    if persist and not read.report.cancelled:
        finish_topic(plan, read.report, cache_dir)
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
    save(index, cache_dir, signature=signature_of(source, index.topic))
