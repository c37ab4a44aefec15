"""Metadata against the real broker: topics, watermarks, configs, groups."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from kafka_helpers import Rec, produce

from kafka_io.errors import KafkaUnavailable, TopicNotFound
from kafka_io.metadata import Cluster
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka


def test_topics_report_partitions_watermarks_and_counts(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    counts = {0: 5, 1: 0, 2: 12}
    produce(
        kafka_bootstrap,
        topic,
        [Rec(b"v", partition=p) for p, n in counts.items() for _ in range(n)],
    )
    info = Cluster(ConnectionProfile(kafka_bootstrap)).topic(topic)
    assert [p.partition for p in info.partitions] == [0, 1, 2]
    assert {p.partition: (p.low, p.high) for p in info.partitions} == {
        p: (0, n) for p, n in counts.items()
    }
    assert info.count == 17
    assert info.cleanup_policy == "delete"


def test_cleanup_policy_and_retention_are_read(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1, config={"cleanup.policy": "compact", "retention.ms": "3600000"})
    info = Cluster(ConnectionProfile(kafka_bootstrap)).topic(topic)
    assert info.cleanup_policy == "compact"
    assert info.retention_ms == 3_600_000


def test_internal_topics_hidden_unless_asked(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    # Committing a group creates __consumer_offsets on a fresh broker.
    from confluent_kafka import Consumer, TopicPartition

    topic = make_topic(1)
    produce(kafka_bootstrap, topic, [Rec(b"x")])
    c = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": f"g-{topic}"})
    c.commit(offsets=[TopicPartition(topic, 0, 1)], asynchronous=False)
    c.close()
    cluster = Cluster(ConnectionProfile(kafka_bootstrap))
    assert "__consumer_offsets" not in cluster.topic_names()
    assert "__consumer_offsets" in cluster.topic_names(include_internal=True)
    assert topic in cluster.topic_names()
    groups = {g.group_id: g for g in cluster.groups()}
    assert f"g-{topic}" in groups
    assert cluster.committed_offsets(f"g-{topic}") == {(topic, 0): 1}


def test_unknown_topic_is_a_clear_error(kafka_bootstrap: str) -> None:
    with pytest.raises(TopicNotFound, match="no-such-topic"):
        Cluster(ConnectionProfile(kafka_bootstrap)).topic("no-such-topic-xyz")


def test_unreachable_broker_fails_fast_with_its_address() -> None:
    started = time.monotonic()
    with pytest.raises(KafkaUnavailable, match=r"127\.0\.0\.1:9"):
        Cluster(ConnectionProfile("127.0.0.1:9"), timeout=3).topics()
    assert time.monotonic() - started < 10


def test_partitions_alone_match_the_full_listing(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(3)
    produce(kafka_bootstrap, topic, [Rec(b"v", partition=p) for p in (0, 2, 2)])
    cluster = Cluster(ConnectionProfile(kafka_bootstrap))
    assert cluster.partitions(topic) == cluster.topic(topic).partitions
    with pytest.raises(TopicNotFound):
        cluster.partitions("no-such-topic-abc")
