"""Opening a cluster topic through its persisted index: read only what is new.

The stored index (see ``app.index_store``) is checked against the topic's watermarks
and the first record of each partition; a truncated, deleted-and-recreated, corrupt or
foreign cache is rebuilt, never trusted.  Then only the offsets past what was stored are
read, appended and saved.  Used by the CLI and the GUI's read job alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.index import TopicIndex
from app.index_store import fingerprint_offsets, load_or_new, reconcile, save
from app.sources import ClusterSource
from kafka_io.event import Event
from kafka_io.reader import CancelToken, PartitionRange, ProgressCallback, TopicReader

BatchCallback = Callable[[Sequence[Event]], None]


@dataclass
class CachedRead:
    index: TopicIndex
    read: int  # events read from the cluster this time
    reused: int  # events that came from the stored index
    note: str | None  # why a stored index was discarded, if one was


def signature_of(source: ClusterSource) -> str:
    """What decoding produced the stored columns: other rules mean another index."""
    rules = source.rules
    return f"{source.value_format}|{rules.type_rule}|{rules.aggregate_rule}"


def _first_records(
    source: ClusterSource, topic: str, offsets: dict[int, int]
) -> dict[int, Event | None]:
    """The record now at each stored first offset (None where it is gone)."""
    if not offsets:
        return {}
    found: dict[int, Event | None] = dict.fromkeys(offsets)
    ranges = [PartitionRange(p, off, off + 1) for p, off in offsets.items()]
    reader = TopicReader(source.profile, topic, source.decoder(), stall_timeout=5)
    for batch in reader.read(ranges):
        for ev in batch:
            found[ev.partition] = ev
    return found


def open_topic(
    source: ClusterSource,
    topic: str,
    *,
    cache_dir: Path | None = None,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    on_batch: BatchCallback | None = None,
    persist: bool = True,
) -> CachedRead:
    """The topic's index, brought up to the watermarks seen now, and saved again.

    ``on_batch`` sees each newly read batch after it is indexed (the GUI refreshes its
    view from it).  A cancelled read is not saved: the next open reads the rest.
    """
    signature = signature_of(source)
    index = load_or_new(
        source.identity, topic, source.decoder(), cache_dir=cache_dir, signature=signature
    )
    note = index.cache_note
    info = source.cluster.topic(topic)
    marks = {p.partition: (p.low, p.high) for p in info.partitions}
    first = _first_records(source, topic, fingerprint_offsets(index)) if len(index) else None
    plan = reconcile(index, marks, first, cache_dir=cache_dir)
    index, note = plan.index, plan.rebuilt or note
    reused = len(index)
    ranges = [PartitionRange(p, start, marks[p][1]) for p, start in sorted(plan.plan.items())]
    reader = TopicReader(source.profile, topic, source.decoder())
    for batch in reader.read(ranges, cancel, on_progress):
        index.append(batch)
        if on_batch is not None:
            on_batch(batch)
    if not reader.stats.cancelled:
        for p, (low, high) in marks.items():
            index.mark_position(p, high, low)
        if persist:
            save(index, cache_dir, signature=signature)
    return CachedRead(index, reader.stats.events, reused, note)
