"""Producing test data to the real broker."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

BASE_MS = 1_700_000_000_000


@dataclass
class Rec:
    value: bytes | None
    key: bytes | None = None
    partition: int | None = None
    timestamp_ms: int | None = None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


def produce(
    bootstrap: str, topic: str, records: Iterable[Rec], **conf: object
) -> list[tuple[int, int]]:
    """Produce and wait; returns (partition, offset) of each record in order."""
    # murmur2_random is what Java producers (and Kafka Streams) do; librdkafka's default
    # differs, and event-sourced topics are mostly written from the JVM.
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 5,
            "message.max.bytes": 16_000_000,
            "partitioner": "murmur2_random",
            **conf,
        }
    )
    delivered: list[tuple[int, int]] = []
    errors: list[str] = []

    def on_delivery(err, msg) -> None:
        if err is not None:
            errors.append(str(err))
        else:
            delivered.append((msg.partition(), msg.offset()))

    for r in records:
        kwargs: dict[str, object] = {"value": r.value, "key": r.key, "on_delivery": on_delivery}
        if r.partition is not None:
            kwargs["partition"] = r.partition
        if r.timestamp_ms is not None:
            kwargs["timestamp"] = r.timestamp_ms
        if r.headers:
            kwargs["headers"] = r.headers
        while True:
            try:
                producer.produce(topic, **kwargs)  # type: ignore[arg-type]
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(30)
    assert remaining == 0, f"{remaining} records not delivered"
    assert not errors, errors
    return delivered


def aggregate_plan(n: int, aggregates: int, big: int, seed: int = 7) -> list[int]:
    """Aggregate number per event: aggregate 0 gets ``big`` events, the rest share the others."""
    rng = random.Random(seed)
    plan = [0] * big + [rng.randrange(1, aggregates) for _ in range(n - big)]
    rng.shuffle(plan)
    return plan


def value(i: int, agg: int, ts_ms: int) -> tuple[str, bytes]:
    kind = "MoneyWithdrawn" if i % 4 == 3 else "MoneyDeposited"
    amount = (i % 97) + 1
    body = (
        f'{{"eventId":"e{i}","eventType":"{kind}","aggregateId":"acc-{agg}",'
        f'"timestamp":{ts_ms},"payload":{{"amount":{amount}}}}}'
    )
    return kind, body.encode()


def fill_topic(
    bootstrap: str,
    topic: str,
    n: int,
    partitions: int = 12,
    aggregates: int = 10_000,
    big: int = 0,
    step_ms: int = 10,
) -> float:
    """Create ``topic`` and fill it with ``n`` JSON envelopes keyed by aggregate; seconds taken."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "queue.buffering.max.messages": 2_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
        }
    )
    plan = aggregate_plan(n, aggregates, big) if big else [i % aggregates for i in range(n)]
    started = time.monotonic()
    for i, agg in enumerate(plan):
        ts = BASE_MS + i * step_ms
        _, body = value(i, agg, ts)
        while True:
            try:
                producer.produce(topic, body, f"acc-{agg}".encode(), timestamp=ts)
                break
            except BufferError:
                producer.poll(0.05)
        if i % 50_000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0
    return time.monotonic() - started


def produce_keys(
    bootstrap: str,
    topic: str,
    keys: Iterable[bytes],
    partitioner: str | None = None,
    partition_of: Callable[[bytes], int] | None = None,
) -> list[tuple[bytes, int]]:
    """Produce one record per key and return (key, partition) as delivered.

    ``partitioner`` is librdkafka's setting, and None leaves librdkafka's own default
    (``consistent_random``), as a plain confluent-kafka producer does.  With
    ``partition_of`` every record goes to the partition it names instead.
    """
    conf: dict[str, object] = {"bootstrap.servers": bootstrap, "linger.ms": 5}
    if partitioner is not None:
        conf["partitioner"] = partitioner
    producer = Producer(conf)
    delivered: list[tuple[bytes, int]] = []
    errors: list[str] = []

    def on_delivery(err, msg) -> None:
        if err is not None:
            errors.append(str(err))
        else:
            delivered.append((msg.key(), msg.partition()))

    for key in keys:
        kwargs: dict[str, object] = {"key": key, "value": b"e", "on_delivery": on_delivery}
        if partition_of is not None:
            kwargs["partition"] = partition_of(key)
        while True:
            try:
                producer.produce(topic, **kwargs)  # type: ignore[arg-type]
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(30)
    assert remaining == 0, f"{remaining} records not delivered"
    assert not errors, errors
    return delivered
