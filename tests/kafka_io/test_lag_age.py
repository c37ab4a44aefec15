"""Lag in seconds from the data: the record at a real group's committed offset, first sample on.

A real consumer group (subscribe, consume, commit, close) stops part-way through
records produced with known, hour-old timestamps; a sampler started afterwards must
report the age of the record at each committed offset on its very first sample, read
without joining or committing, and look each offset up only once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from kafka_helpers import Rec, produce

from app.lag.history import LagHistory
from kafka_io.lag import LagSampler
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka

HOUR_MS = 3_600_000
# The sample's time is pinned when the watermarks are read; the record is read a few
# ms later.  Ages are compared with that time, so only float rounding remains.
TOLERANCE_S = 0.01


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
def admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def groups(admin: AdminClient) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    if made:
        for future in admin.delete_consumer_groups(made, request_timeout=10).values():
            future.exception(timeout=15)


def produce_dated(
    bootstrap: str,
    topic: str,
    counts: dict[int, int],
    start_ms: int,
    big_at: tuple[int, int] | None = None,
) -> dict[tuple[int, int], int]:
    """``counts[p]`` records per partition, a minute apart from ``start_ms``; one big one.

    Returns the timestamp of every (partition, offset), as the broker stored them.
    """
    stamps: dict[tuple[int, int], int] = {}
    for p, n in sorted(counts.items()):
        times = [start_ms + p * 7_000 + i * 60_000 for i in range(n)]
        records = [
            # One record bigger than the lookup's fetch size: it must still be read.
            Rec(b"x" * 300_000 if (p, i) == big_at else b"e", partition=p, timestamp_ms=ts)
            for i, ts in enumerate(times)
        ]
        # One partition per call: delivery reports keep their order within a partition.
        delivered = produce(bootstrap, topic, records)
        stamps.update(zip(delivered, times, strict=True))
    return stamps


def stop_part_way(bootstrap: str, group: str, topic: str, commit: dict[int, int]) -> None:
    """A real member: subscribes, consumes what is there, commits ``commit`` and leaves."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen: set[int] = set()
    deadline = time.monotonic() + 30
    while seen != set(commit) and time.monotonic() < deadline:
        for m in consumer.consume(100, timeout=0.5):
            if not m.error() and (partition := m.partition()) is not None:
                seen.add(partition)
    assert seen == set(commit), "the member never got its partitions"
    offsets = [TopicPartition(topic, p, o) for p, o in commit.items()]
    consumer.commit(offsets=offsets, asynchronous=False)
    consumer.close()


def committed(admin: AdminClient, group: str) -> dict[tuple[str, int], int]:
    request = [ConsumerGroupTopicPartitions(group)]
    result = admin.list_consumer_group_offsets(request)[group].result(timeout=10)
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions}


def group_ids(admin: AdminClient) -> set[str]:
    result = admin.list_consumer_groups(request_timeout=10).result(timeout=15)
    return {g.group_id for g in result.valid}


def assign_commit(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Move an empty group's offsets (as an operator's reset would)."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False}
    )
    tps = [TopicPartition(topic, p, o) for p, o in offsets.items()]
    consumer.assign(tps)
    consumer.commit(offsets=tps, asynchronous=False)
    consumer.close()


def test_first_sample_gives_the_age_of_the_record_at_the_committed_offset(
    kafka_bootstrap: str, make_topic: Callable[..., str], admin: AdminClient, groups: list[str]
) -> None:
    topic = make_topic(partitions=3)
    start = now_ms() - HOUR_MS
    stamps = produce_dated(kafka_bootstrap, topic, {0: 10, 1: 10, 2: 6}, start, big_at=(1, 7))
    group = f"age-{uuid.uuid4().hex[:8]}"
    groups.append(group)
    stop_part_way(kafka_bootstrap, group, topic, {0: 4, 1: 7, 2: 6})  # 2 is caught up
    before = committed(admin, group)
    known_groups = group_ids(admin)

    sampler = LagSampler(ConnectionProfile(kafka_bootstrap))  # every group, as the GUI does
    history = LagHistory()
    first = sampler.sample()
    assert first.error is None, first.error
    history.add(first)
    (seen,) = [g for g in first.groups if g.group == group]
    assert (seen.state, seen.members) == ("EMPTY", 0)
    by_partition = {p.partition: p for p in seen.partitions}
    for p, offset in ((0, 4), (1, 7)):
        reading = by_partition[p]
        assert (reading.committed, reading.oldest_offset) == (offset, offset)
        assert reading.oldest_ms == stamps[(p, offset)]
        assert reading.oldest_source == "record"
    assert by_partition[2].lag == 0 and by_partition[2].oldest_ms is None

    # From the very first sample: about an hour, not "since the app started watching".
    status = history.status(group)
    ages = {p.partition: p for p in status.partitions}
    for p, offset in ((0, 4), (1, 7)):
        expected = (first.time_ms - stamps[(p, offset)]) / 1000
        assert expected > 3000
        assert ages[p].lag_seconds == pytest.approx(expected, abs=TOLERANCE_S)
        assert ages[p].age_source == "record"
    assert (ages[2].lag_seconds, ages[2].age_source) == (0.0, "caught_up")
    oldest = max((first.time_ms - stamps[(p, o)]) / 1000 for p, o in ((0, 4), (1, 7)))
    assert status.lag_seconds == pytest.approx(oldest, abs=TOLERANCE_S)
    seconds = history.group_lag(group, "seconds").values
    assert seconds[0] == pytest.approx(oldest, abs=TOLERANCE_S)

    # The lookups are cached: the same offsets again cost no read, and a later sample
    # is older by the time that passed, not by a restart of the count.
    time.sleep(0.5)
    second = sampler.sample()
    assert first.record_lookups >= 2 and second.record_lookups == 0
    history.add(second)
    later = {p.partition: p.lag_seconds for p in history.status(group).partitions}
    for p, offset in ((0, 4), (1, 7)):
        expected = (second.time_ms - stamps[(p, offset)]) / 1000
        assert later[p] == pytest.approx(expected, abs=TOLERANCE_S)

    # Sampling changed nothing: same offsets, no member, no new group.
    assert committed(admin, group) == before
    desc = admin.describe_consumer_groups([group])[group].result(timeout=10)
    assert len(desc.members) == 0
    assert group_ids(admin) - known_groups == set()

    # The group moves on: only the moved offset is read.
    assign_commit(kafka_bootstrap, group, topic, {0: 8, 1: 7, 2: 6})
    third = sampler.sample()
    sampler.close()
    assert third.record_lookups == 1
    (moved,) = [
        p for g in third.groups if g.group == group for p in g.partitions if p.partition == 0
    ]
    assert (moved.committed, moved.oldest_ms) == (8, stamps[(0, 8)])


def test_committed_offset_deleted_by_retention_uses_the_next_record(
    kafka_bootstrap: str, make_topic: Callable[..., str], admin: AdminClient, groups: list[str]
) -> None:
    topic = make_topic(partitions=1)
    stamps = produce_dated(kafka_bootstrap, topic, {0: 10}, now_ms() - HOUR_MS)
    group = f"age-gone-{uuid.uuid4().hex[:8]}"
    groups.append(group)
    stop_part_way(kafka_bootstrap, group, topic, {0: 2})
    # Retention (here asked for) moves the log start past the committed offset.
    deleted = admin.delete_records([TopicPartition(topic, 0, 5)], request_timeout=10)
    for future in deleted.values():
        assert future.result(timeout=15).low_watermark == 5

    sampler = LagSampler(ConnectionProfile(kafka_bootstrap), groups=[group])
    sample = sampler.sample()
    sampler.close()
    assert sample.error is None
    (reading,) = sample.groups[0].partitions
    assert (reading.committed, reading.lag) == (2, 8)
    assert (reading.oldest_offset, reading.oldest_ms) == (5, stamps[(0, 5)])
    assert reading.oldest_source == "next_record"
    history = LagHistory()
    history.add(sample)
    (age,) = history.status(group).partitions
    assert age.age_source == "next_record"
    assert age.lag_seconds == pytest.approx(
        (sample.time_ms - stamps[(0, 5)]) / 1000, abs=TOLERANCE_S
    )
    assert committed(admin, group) == {(topic, 0): 2}


def test_nothing_readable_falls_back_to_the_estimate_and_says_so(
    kafka_bootstrap: str, make_topic: Callable[..., str], groups: list[str]
) -> None:
    topic = make_topic(partitions=1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "transactional.id": f"tx-{topic}"})
    producer.init_transactions()
    producer.begin_transaction()
    for _ in range(3):
        producer.produce(topic, b"e", partition=0)
    producer.commit_transaction()  # records 0-2, then the commit marker at offset 3
    group = f"age-marker-{uuid.uuid4().hex[:8]}"
    groups.append(group)
    assign_commit(kafka_bootstrap, group, topic, {0: 3})

    sampler = LagSampler(ConnectionProfile(kafka_bootstrap), groups=[group])
    history = LagHistory()
    first = sampler.sample()
    history.add(first)
    (reading,) = first.groups[0].partitions
    assert (reading.committed, reading.end, reading.oldest_ms) == (3, 4, None)
    assert any(f"{topic}[0]" in w and "estimated" in w for w in first.warnings)
    # One sample cannot estimate anything: unknown, not a made-up 0 s.
    (age,) = history.status(group).partitions
    assert (age.lag_seconds, age.age_source) == (None, None)

    time.sleep(0.2)
    second = sampler.sample()
    sampler.close()
    history.add(second)
    (age,) = history.status(group).partitions
    assert age.age_source == "estimate" and age.lag_seconds is not None
    assert second.record_lookups == 0  # "nothing readable" is cached too, for a while


def test_a_lookup_that_runs_out_of_time_leaves_the_sample_whole(
    kafka_bootstrap: str, make_topic: Callable[..., str], groups: list[str]
) -> None:
    topic = make_topic(partitions=2)
    produce_dated(kafka_bootstrap, topic, {0: 5, 1: 5}, now_ms() - HOUR_MS)
    group = f"age-slow-{uuid.uuid4().hex[:8]}"
    groups.append(group)
    assign_commit(kafka_bootstrap, group, topic, {0: 1, 1: 2})
    sampler = LagSampler(ConnectionProfile(kafka_bootstrap), groups=[group], lookup_timeout_s=0)
    samples = [sampler.sample() for _ in range(2)]
    for sample in samples:
        assert sample.error is None
        assert [p.lag for p in sample.groups[0].partitions] == [4, 3]
        assert all(p.oldest_ms is None for p in sample.groups[0].partitions)
        assert sum("estimated" in w for w in sample.warnings) == 2
        assert sample.record_lookups == 0  # no time, no read
    # Running out of time is not remembered as an answer: with time, they are read.
    sampler.lookup_timeout_s = 2.0
    sample = sampler.sample()
    sampler.close()
    assert sample.record_lookups == 2 and not sample.warnings
    assert all(p.oldest_source == "record" for p in sample.groups[0].partitions)
