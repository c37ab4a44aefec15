"""The cold path: one aggregate's events straight from the cluster, with no index.

The key is hashed with murmur2 as the Java client's default partitioner does, so only
the aggregate's partition is read, only up to the target offset or time, and only
records with its key are decoded.
"""

from __future__ import annotations

from confluent_kafka import TopicPartition

from app.sources import ClusterSource, Source
from kafka_io.event import Event
from kafka_io.reader import PartitionRange, TopicReader, offsets_for_time


def aggregate_events(
    source: Source,
    topic: str,
    aggregate: str,
    at_ms: int | None = None,
    offset: int | None = None,
) -> list[Event]:
    """The aggregate's events up to ``at_ms`` (inclusive) or ``offset`` (inclusive)."""
    partitions = source.partitions_for_aggregate(topic, aggregate)
    if isinstance(source, ClusterSource) and partitions is not None:
        mine = _partition_upto(source, topic, partitions[0], aggregate, at_ms, offset)
        if mine:
            return mine
        partitions = None  # written with another partitioner: look everywhere
    return [
        e
        for batch in source.read(topic, partitions=partitions, to_ms=at_ms)
        for e in batch
        if e.aggregate == aggregate and (offset is None or e.offset <= offset)
    ]


def _partition_upto(
    source: ClusterSource,
    topic: str,
    partition: int,
    aggregate: str,
    at_ms: int | None,
    offset: int | None,
) -> list[Event]:
    marks = source.cluster.watermarks_for([TopicPartition(topic, partition)])
    low, end = marks[(topic, partition)]
    if offset is not None:
        end = min(end, offset + 1)
    if at_ms is not None:
        first_after = offsets_for_time(source.profile, topic, [partition], at_ms + 1)[partition]
        if first_after is not None:
            end = min(end, first_after)
    reader = TopicReader(source.profile, topic, source.decoder(), key=aggregate.encode())
    ranges = [PartitionRange(partition, low, max(low, end))]
    return [e for batch in reader.read(ranges) for e in batch if e.aggregate == aggregate]
