"""A small, read-only sample of where a topic's keys are, for partitioner detection.

From every partition it reads the first and the last few records (keys only; values are
never decoded).  The first records of each partition are the oldest it holds, so a topic
that grew shows the partition count of each era: a partition added later starts empty and
its first records are from the day it was added.  The last records are what producers do
now.

It reads like every read of this program: ``assign()`` on a read-only consumer (private
group id, no commits, no offset store), bounded by the watermarks seen when it starts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, TopicPartition

from kafka_io.cancel import CancelToken
from kafka_io.clients import read_only_consumer
from kafka_io.errors import KafkaUnavailable
from kafka_io.metadata import Cluster, PartitionInfo
from kafka_io.partition_detect import Detection, detect_partitioner
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange

DEFAULT_RECORDS = 2_000  # the whole sample, spread over the partitions' heads and tails
MIN_PER_END = 8  # even a topic with thousands of partitions gets a few keys from each
# A sample needs a few record batches per partition, not the megabytes a full read
# prefetches: these keep what librdkafka fetches past a range's end small.  A fetch at
# the end of a log (where a range ends in a compaction gap or a transaction marker) waits
# at the broker for fetch.wait.max.ms, 500 ms by default, before the end is known.
_CONSUMER_SETTINGS = {
    "enable.partition.eof": True,
    "max.partition.fetch.bytes": 256 * 1024,
    "queued.min.messages": 1000,
    "queued.max.messages.kbytes": 1024,
    "fetch.wait.max.ms": 50,
}


@dataclass(frozen=True)
class KeySample:
    """Where the sampled keys were found."""

    topic: str
    partitions: int  # the topic's partition count when sampled
    pairs: tuple[tuple[bytes, int], ...]  # distinct (key, partition) of keyed records
    records: int  # records read
    unkeyed: int  # of which with a null or empty key
    seconds: float
    unfinished: tuple[int, ...] = ()  # partitions not read to the end of their ranges

    @property
    def complete(self) -> bool:
        return not self.unfinished

    def describe(self) -> str:
        plural = "" if self.partitions == 1 else "s"
        text = f"{self.records:,} records from {self.partitions} partition{plural}"
        if self.unfinished:
            text += f"; partitions {', '.join(map(str, self.unfinished))} not fully sampled"
        return text


def plan_sample(
    partitions: Iterable[PartitionInfo], records: int = DEFAULT_RECORDS
) -> tuple[list[PartitionRange], list[PartitionRange]]:
    """Head and tail ranges of every non-empty partition, about ``records`` in all."""
    parts = [p for p in partitions if p.count > 0]
    if not parts:
        return [], []
    per_end = max(MIN_PER_END, math.ceil(records / (2 * len(parts))))
    heads, tails = [], []
    for p in parts:
        head_end = min(p.high, p.low + per_end)
        heads.append(PartitionRange(p.partition, p.low, head_end))
        tail_start = max(head_end, p.high - per_end)
        if tail_start < p.high:
            tails.append(PartitionRange(p.partition, tail_start, p.high))
    return heads, tails


def sample_keys(
    profile: ConnectionProfile,
    topic: str,
    *,
    records: int = DEFAULT_RECORDS,
    cluster: Cluster | None = None,
    cancel: CancelToken | None = None,
    timeout: float = 30.0,
) -> KeySample:
    """Read the keys of a bounded sample of ``topic`` (see the module docstring).

    Stops after ``timeout`` seconds or when cancelled, with what it has so far: the
    partitions it could not finish are listed in ``KeySample.unfinished``.
    """
    started = time.monotonic()
    parts = (cluster or Cluster(profile)).partitions(topic)
    heads, tails = plan_sample(parts, records)
    pairs: dict[tuple[bytes, int], None] = {}
    counts = [0, 0]  # records, unkeyed
    unfinished: list[int] = []
    deadline = started + timeout
    for ranges in (heads, tails):
        if not ranges:
            continue
        # One consumer per pass: re-assigning paused partitions of the same consumer to
        # new offsets stalled the tails pass for up to a second now and then.
        consumer = read_only_consumer(profile, **_CONSUMER_SETTINGS)
        try:
            unfinished += _read(consumer, topic, ranges, deadline, cancel, pairs, counts)
        finally:
            consumer.close()
    return KeySample(
        topic=topic,
        partitions=len(parts),
        pairs=tuple(pairs),
        records=counts[0],
        unkeyed=counts[1],
        seconds=time.monotonic() - started,
        unfinished=tuple(sorted(set(unfinished))),
    )


def detect_topic_partitioner(
    profile: ConnectionProfile,
    topic: str,
    *,
    records: int = DEFAULT_RECORDS,
    cluster: Cluster | None = None,
    cancel: CancelToken | None = None,
    timeout: float = 30.0,
) -> tuple[Detection, KeySample]:
    """Sample ``topic``'s keys and tell which partitioner placed them."""
    sample = sample_keys(
        profile, topic, records=records, cluster=cluster, cancel=cancel, timeout=timeout
    )
    return detect_partitioner(sample.pairs, sample.partitions), sample


def _read(
    consumer: Consumer,
    topic: str,
    ranges: list[PartitionRange],
    deadline: float,
    cancel: CancelToken | None,
    pairs: dict[tuple[bytes, int], None],
    counts: list[int],
) -> list[int]:
    """Read ``ranges`` into ``pairs``; return the partitions left unfinished."""
    todo = {r.partition: r for r in ranges if r.total > 0}
    if not todo:
        return []
    consumer.assign([TopicPartition(topic, p, r.start) for p, r in todo.items()])
    next_offset = {p: r.start for p, r in todo.items()}
    while todo:
        if (cancel is not None and cancel.cancelled) or time.monotonic() > deadline:
            return sorted(todo)
        # consume() waits until it has num_messages or the timeout passes: asking for
        # no more than the ranges still hold lets it return as soon as they are read.
        wanted = min(1000, sum(r.end - next_offset[p] for p, r in todo.items()))
        msgs = consumer.consume(num_messages=max(1, wanted), timeout=0.2)
        for m in msgs:
            err = m.error()
            p = m.partition()
            if err is not None:
                _check(err, topic)
                if err.code() == KafkaError._PARTITION_EOF and p is not None:
                    # The end of the log: compaction gaps or transaction markers can
                    # leave a range's last offsets without records.
                    _done(consumer, topic, todo, p)
                continue
            r = todo.get(p) if p is not None else None
            offset = m.offset()
            if r is None or offset is None or offset < r.start:
                continue  # a partition already done
            if offset >= r.end:
                _done(consumer, topic, todo, r.partition)
                continue
            next_offset[r.partition] = offset + 1
            key = m.key()
            counts[0] += 1
            if key:
                pairs[(key, r.partition)] = None
            else:
                counts[1] += 1
            if offset + 1 >= r.end:
                _done(consumer, topic, todo, r.partition)
        if not msgs:
            _finish_by_position(consumer, topic, todo)
    return []


def _done(consumer: Consumer, topic: str, todo: dict[int, PartitionRange], p: int) -> None:
    # Paused, a finished partition stops fetching while the others catch up.
    if todo.pop(p, None) is not None:
        consumer.pause([TopicPartition(topic, p)])


def _check(err: KafkaError, topic: str) -> None:
    if err.fatal() or err.code() in (
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
    ):
        raise KafkaUnavailable(f"sampling keys of {topic} failed: {err.str()}")


def _finish_by_position(consumer: Consumer, topic: str, todo: dict[int, PartitionRange]) -> None:
    """Retire ranges the consumer has moved past without a record to show for it."""
    for tp in consumer.position([TopicPartition(topic, p) for p in todo]):
        r = todo.get(tp.partition)
        if r is not None and tp.offset >= r.end:
            _done(consumer, topic, todo, tp.partition)
