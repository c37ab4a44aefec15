"""When a read gives up, decided from librdkafka's errors, the clock and the cluster's own
answer about the topic (asked of the real broker)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Consumer, KafkaError

from kafka_io.clients import read_only_consumer
from kafka_io.errors import ReadStalled, TopicDeleted
from kafka_io.profile import ConnectionProfile
from kafka_io.read_watch import ReadWatch

pytestmark = pytest.mark.kafka


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def consumer(kafka_bootstrap: str) -> Iterator[Consumer]:
    c = read_only_consumer(ConnectionProfile(kafka_bootstrap))
    yield c
    c.close()


def test_statuses_say_retrying_and_never_repeat_a_secret() -> None:
    watch = ReadWatch("t", 5, secrets=["hunter2"])
    watch.on_error(KafkaError(KafkaError._TRANSPORT, "b:9092: auth for hunter2 failed"))
    assert watch.take_statuses() == ["b:9092: auth for *** failed (retrying)"]
    assert watch.take_statuses() == []


def test_a_fatal_or_denied_error_ends_the_read_at_once(consumer: Consumer) -> None:
    watch = ReadWatch("t", 5)
    watch.on_error(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "no ACL"))
    watch.take_statuses()
    verdict = watch.verdict(consumer, [0])
    assert verdict is not None and "not authorized" in verdict[1]
    fatal = ReadWatch("t", 5)
    fatal.on_error(KafkaError(KafkaError._FENCED, "fenced", fatal=True))
    fatal.take_statuses()
    assert fatal.verdict(consumer, [0]) is not None


def test_silence_past_the_idle_timeout_ends_the_read_naming_the_last_error(
    consumer: Consumer, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    clock = Clock()
    watch = ReadWatch(topic, 6, clock=clock)
    watch.on_error(KafkaError(KafkaError._TRANSPORT, "b:9092: Connection refused"))
    watch.take_statuses()
    clock.now += 5.9
    assert watch.verdict(consumer, [0]) is None  # the topic is there; not yet 6 s
    watch.progressed()
    clock.now += 6.1
    verdict = watch.verdict(consumer, [0])
    assert verdict == (ReadStalled, "no progress for 6 s; last error: b:9092: Connection refused")


def test_a_passing_unknown_topic_error_does_not_end_a_read_of_a_topic_that_exists(
    consumer: Consumer, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(2)
    clock = Clock()
    watch = ReadWatch(topic, 60, clock=clock)
    watch.on_error(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, "metadata not there yet"))
    watch.take_statuses()
    for _ in range(3):
        assert watch.verdict(consumer, [0, 1]) is None
        clock.now += 1.5


def test_a_missing_topic_needs_two_answers_in_a_row(consumer: Consumer) -> None:
    clock = Clock()
    watch = ReadWatch("no-such-topic-for-the-watch", 60, clock=clock)
    watch.on_error(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, "gone"))
    watch.take_statuses()
    assert watch.verdict(consumer, [0]) is None
    assert watch.verdict(consumer, [0]) is None  # not asked again at once
    clock.now += 0.5
    verdict = watch.verdict(consumer, [0])
    assert verdict is not None and verdict[0] is TopicDeleted
    assert "no-such-topic-for-the-watch" in verdict[1]


def test_partitions_that_are_gone_count_as_a_deleted_topic(
    consumer: Consumer, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)  # read as if it had three: recreated smaller
    clock = Clock()
    watch = ReadWatch(topic, 60, clock=clock)
    clock.now += 1.0  # idle for a second: the watch asks without being told
    assert watch.verdict(consumer, [0, 1, 2]) is None
    clock.now += 1.0
    verdict = watch.verdict(consumer, [0, 1, 2])
    assert verdict is not None and verdict[0] is TopicDeleted and "1, 2" in verdict[1]
