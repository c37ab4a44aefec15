"""The key sample reads the first and last records of every partition, keys only, without
leaving a trace on the cluster."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions
from confluent_kafka.admin import AdminClient
from kafka_helpers import Rec, produce, produce_keys

from kafka_io.cancel import CancelToken
from kafka_io.errors import KafkaUnavailable, TopicNotFound
from kafka_io.key_sample import MIN_PER_END, detect_topic_partitioner, plan_sample, sample_keys
from kafka_io.metadata import Cluster, PartitionInfo
from kafka_io.partition_detect import Verdict
from kafka_io.profile import ConnectionProfile
from kafka_io.reader import PartitionRange


def test_plan_takes_heads_and_tails_within_the_watermarks() -> None:
    parts = [
        PartitionInfo(0, 0, 1000),
        PartitionInfo(1, 500, 520),  # shorter than a head and a tail: read once
        PartitionInfo(2, 7, 7),  # empty: nothing to read
        PartitionInfo(3, 0, 150),
    ]
    heads, tails = plan_sample(parts, records=300)  # 3 partitions with records: 50 an end
    assert heads == [
        PartitionRange(0, 0, 50),
        PartitionRange(1, 500, 520),
        PartitionRange(3, 0, 50),
    ]
    assert tails == [PartitionRange(0, 950, 1000), PartitionRange(3, 100, 150)]


def test_plan_reads_a_few_records_of_every_partition_of_a_wide_topic() -> None:
    parts = [PartitionInfo(p, 0, 10_000) for p in range(1000)]
    heads, tails = plan_sample(parts, records=2000)
    assert len(heads) == len(tails) == 1000
    assert all(r.total == MIN_PER_END for r in heads + tails)


def test_plan_of_an_empty_topic_is_empty() -> None:
    assert plan_sample([PartitionInfo(0, 3, 3)]) == ([], [])


@pytest.mark.kafka
def test_samples_exactly_the_first_and_last_records(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    records = [Rec(b"v", key=f"k{i}".encode()) for i in range(5000)]
    records[10] = Rec(b"v", key=None)  # a null key: counted, never a sample
    records[4995] = Rec(b"v", key=b"")
    produce(kafka_bootstrap, topic, records)

    sample = sample_keys(ConnectionProfile(kafka_bootstrap), topic, records=200)
    assert sample.complete
    assert sample.records == 200
    assert sample.unkeyed == 2
    wanted = {f"k{i}".encode() for i in [*range(100), *range(4900, 5000)]} - {b"k10", b"k4995"}
    assert {k for k, _ in sample.pairs} == wanted
    assert {p for _, p in sample.pairs} == {0}
    assert sample.describe() == "200 records from 1 partition"


@pytest.mark.kafka
def test_an_empty_topic_gives_an_empty_sample(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(4)
    profile = ConnectionProfile(kafka_bootstrap)
    # A topic just created is not listed, or has no leaders, for a moment; nothing was
    # produced to wait for them here, so wait for its watermarks.
    deadline = time.monotonic() + 30
    while True:
        try:
            Cluster(profile).partitions(topic)
            break
        except (KafkaUnavailable, TopicNotFound):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    detection, sample = detect_topic_partitioner(profile, topic)
    assert sample.records == 0 and sample.complete
    assert detection.verdict is Verdict.NO_KEYS


@pytest.mark.kafka
def test_a_missing_topic_is_one_clear_error(kafka_bootstrap: str) -> None:
    with pytest.raises(TopicNotFound, match="no such topic"):
        sample_keys(ConnectionProfile(kafka_bootstrap), "no-such-topic-anywhere")


@pytest.mark.kafka
def test_a_cancelled_sample_says_which_partitions_it_did_not_finish(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    produce_keys(kafka_bootstrap, topic, [f"k{i}".encode() for i in range(300)])
    cancel = CancelToken()
    cancel.cancel()
    sample = sample_keys(ConnectionProfile(kafka_bootstrap), topic, cancel=cancel)
    assert not sample.complete
    assert sample.unfinished == (0, 1, 2)
    assert sample.describe().endswith("partitions 0, 1, 2 not fully sampled")


@pytest.mark.kafka
def test_sampling_leaves_no_group_and_no_offsets_behind(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    produce_keys(kafka_bootstrap, topic, [f"k{i}".encode() for i in range(900)])
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})

    def groups() -> set[str]:
        return {g.group_id for g in admin.list_consumer_groups(request_timeout=10).result().valid}

    before = groups()
    sample = sample_keys(ConnectionProfile(kafka_bootstrap), topic)
    assert sample.records == 900
    for group in groups() - before:
        # Another test's group may have appeared meanwhile; none may hold our topic.
        request = [ConsumerGroupTopicPartitions(group)]
        result = admin.list_consumer_group_offsets(request, request_timeout=10)[group].result()
        assert not [tp for tp in result.topic_partitions if tp.topic == topic]
        assert not group.startswith("event-explorer-")
