"""The cold path: one aggregate's events straight from the source, with no index.

When the source can tell which partition holds the aggregate (its key hashed as the
producer's partitioner does), only that partition is read, only up to the target offset
or time, and only records with the aggregate's key are decoded.
"""

from __future__ import annotations

from app.sources import Source
from kafka_io.event import Event


def aggregate_events(
    source: Source,
    topic: str,
    aggregate: str,
    at_ms: int | None = None,
    offset: int | None = None,
) -> list[Event]:
    """The aggregate's events up to ``at_ms`` (inclusive) or ``offset`` (inclusive)."""
    partitions = source.partitions_for_aggregate(topic, aggregate)
    if partitions is not None:
        read = source.read(
            topic, partitions=partitions, key=aggregate.encode(), to_ms=at_ms, end_offset=offset
        )
        mine = [e for e in read.events() if e.aggregate == aggregate]
        if mine:
            return mine
        # Not where the partitioner puts it (written by another producer): look everywhere.
    read = source.read(topic, to_ms=at_ms, end_offset=offset)
    return [e for e in read.events() if e.aggregate == aggregate]
