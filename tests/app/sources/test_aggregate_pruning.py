"""One aggregate, one partition, whoever wrote the topic: the cold read narrows to the
partition the producer's partitioner put the key in (detected per topic), and says why
when it reads everything."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from confluent_kafka import Producer

from app.replay.cold_read import read_aggregate
from app.sources import ClusterSource, SourceSettings, TopicSettings
from kafka_io.profile import ConnectionProfile

pytestmark = pytest.mark.kafka
ACCOUNTS = [f"acc-{i}" for i in range(60)]


def produce_accounts(bootstrap: str, topic: str, partitioner: str | None) -> dict[str, int]:
    """Five events per account, keyed by the account; returns where each account went."""
    conf: dict[str, object] = {"bootstrap.servers": bootstrap, "linger.ms": 5}
    if partitioner is not None:
        conf["partitioner"] = partitioner
    producer = Producer(conf)
    placed: dict[str, int] = {}

    def delivered(err: object, msg: object) -> None:
        assert err is None
        placed[msg.key().decode()] = msg.partition()  # type: ignore[attr-defined]

    for n in range(5):
        for account in ACCOUNTS:
            body = {"eventType": "MoneyDeposited", "payload": {"amount": n}}
            producer.produce(topic, key=account, value=orjson.dumps(body), on_delivery=delivered)
    assert producer.flush(30) == 0
    return placed


@pytest.mark.parametrize(
    ("partitioner", "detected"),
    [(None, "CRC32"), ("murmur2_random", "murmur2"), ("fnv1a_random", "FNV-1a")],
)
def test_the_aggregate_is_read_from_its_one_partition(
    kafka_bootstrap: str, make_topic: Callable[..., str], partitioner: str | None, detected: str
) -> None:
    topic = make_topic(partitions=6)
    placed = produce_accounts(kafka_bootstrap, topic, partitioner)
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    assert source.pruning_note(topic).startswith(detected)  # type: ignore[union-attr]
    for account in ("acc-3", "acc-41"):
        got = read_aggregate(source, topic, account)
        assert got.partitions == [placed[account]] and got.note is None
        assert got.report.assigned == [placed[account]]
        assert [e.data["payload"]["amount"] for e in got.events] == [0, 1, 2, 3, 4]


def test_a_wrong_partitioner_given_reads_everything_and_says_so(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=6)
    placed = produce_accounts(kafka_bootstrap, topic, None)  # CRC32, librdkafka's default
    settings = SourceSettings(TopicSettings(partitioner="murmur2"))
    source = ClusterSource(ConnectionProfile(kafka_bootstrap), settings)
    note = source.pruning_note(topic)
    assert note is not None and note.startswith("murmur2 (as given)")
    # An account murmur2 would put elsewhere: not found there, so every partition is read.
    account = next(a for a in ACCOUNTS if source.partitions_for_aggregate(topic, a) != [placed[a]])
    got = read_aggregate(source, topic, account)
    assert got.partitions is None and got.note is not None
    assert "reading every partition" in got.note and "murmur2" in got.note
    assert len(got.events) == 5 and {e.partition for e in got.events} == {placed[account]}


def test_keys_that_fit_no_partitioner_are_read_whole(
    kafka_bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(partitions=4)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for i in range(400):
        key = ACCOUNTS[i % len(ACCOUNTS)]
        producer.produce(topic, key=key, value=b'{"eventType":"X"}', partition=(i * 7) % 4)
    assert producer.flush(30) == 0
    source = ClusterSource(ConnectionProfile(kafka_bootstrap))
    assert source.partitions_for_aggregate(topic, "acc-5") is None
    got = read_aggregate(source, topic, "acc-5")
    assert got.partitions is None
    assert got.note is not None and got.note.startswith("reading every partition: no known")
    assert len(got.events) == sum(1 for i in range(400) if ACCOUNTS[i % 60] == "acc-5")
