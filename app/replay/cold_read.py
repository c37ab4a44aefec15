"""The cold path: one aggregate's events straight from the source, with no index.

When the source can tell which partition holds the aggregate (its key hashed as the
producer's partitioner does: murmur2, CRC32 or FNV-1a, detected per topic), only that
partition is read, only up to the target offset or time, and only records with the
aggregate's key are decoded.  When it cannot, or the aggregate is not where the
partitioner puts it, every partition is read, and the result says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.sources import Source
from app.sources.base import ReadReport
from kafka_io.event import Event


@dataclass
class AggregateRead:
    events: list[Event]
    partitions: list[int] | None  # the partitions read (None: all of them)
    note: str | None = None  # why every partition was read, when it was
    report: ReadReport = field(default_factory=ReadReport)


def read_aggregate(
    source: Source,
    topic: str,
    aggregate: str,
    at_ms: int | None = None,
    offset: int | None = None,
) -> AggregateRead:
    """The aggregate's events up to ``at_ms`` (inclusive) or ``offset`` (inclusive)."""
    partitions = source.partitions_for_aggregate(topic, aggregate)
    note = None
    if partitions is not None:
        read = source.read(
            topic, partitions=partitions, key=aggregate.encode(), to_ms=at_ms, end_offset=offset
        )
        mine = [e for e in read.events() if e.aggregate == aggregate]
        if mine or not read.report.complete:
            return AggregateRead(mine, partitions, None, read.report)
        where = ", ".join(str(p) for p in partitions)
        note = (
            f"{aggregate!r} is not in partition {where}, where its key is placed "
            f"({source.pruning_note(topic)}); reading every partition"
        )
    elif (why := source.pruning_note(topic)) is not None:
        note = f"reading every partition: {why}"
    read = source.read(topic, to_ms=at_ms, end_offset=offset)
    events = [e for e in read.events() if e.aggregate == aggregate]
    return AggregateRead(events, None, note, read.report)


def aggregate_events(
    source: Source,
    topic: str,
    aggregate: str,
    at_ms: int | None = None,
    offset: int | None = None,
) -> list[Event]:
    """Just the events of ``read_aggregate``."""
    return read_aggregate(source, topic, aggregate, at_ms, offset).events
