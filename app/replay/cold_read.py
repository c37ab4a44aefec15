"""The cold path: one aggregate's events straight from the source, with no index.

When the source can tell which partition holds the aggregate (its key hashed as the
producer's partitioner does), only that partition is read, only up to the target offset
or time, and only records with the aggregate's key are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.sources import ReadReport, Source
from kafka_io.event import Event


@dataclass
class AggregateRead:
    """An aggregate's events, and how the read went (``report.incomplete``: it ended
    early, so the events may be only the first ones)."""

    events: list[Event]
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
    if partitions is not None:
        read = source.read(
            topic, partitions=partitions, key=aggregate.encode(), to_ms=at_ms, end_offset=offset
        )
        mine = [e for e in read.events() if e.aggregate == aggregate]
        if mine or not read.report.complete:
            return AggregateRead(mine, read.report)
        # Not where the partitioner puts it (written by another producer): look everywhere.
    read = source.read(topic, to_ms=at_ms, end_offset=offset)
    return AggregateRead([e for e in read.events() if e.aggregate == aggregate], read.report)


def aggregate_events(
    source: Source,
    topic: str,
    aggregate: str,
    at_ms: int | None = None,
    offset: int | None = None,
) -> list[Event]:
    """The aggregate's events up to ``at_ms`` (inclusive) or ``offset`` (inclusive)."""
    return read_aggregate(source, topic, aggregate, at_ms, offset).events
