"""Producing test data to the real broker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from confluent_kafka import Producer


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
